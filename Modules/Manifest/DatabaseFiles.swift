import Encoding
import SSTable
import VFS
import WAL

// See Docs/formats/manifest.md ("Files").

/// The names of the files in a database directory, and parsing them back.
public enum DatabaseFiles {
    /// The file naming the live manifest.
    public static let current = "CURRENT"
    /// `CURRENT` while it is being replaced.
    package static let currentTemporary = "CURRENT.tmp"
    /// The lock file.
    public static let lock = "LOCK"

    /// `MANIFEST-NNNNNN`.
    public static func manifest(_ number: UInt64) -> String {
        "MANIFEST-" + String(number).leftPadded(to: 6)
    }

    /// What a file in a database directory is.
    public enum Kind: Equatable, Sendable {
        /// A table, `NNNNNN.sst`.
        case table(UInt64)
        /// A table being written, `NNNNNN.sst.tmp`.
        case temporaryTable(UInt64)
        /// A WAL segment, `wal-NNNNNN.log`.
        case walSegment(UInt64)
        /// A manifest, `MANIFEST-NNNNNN`.
        case manifest(UInt64)
        /// `CURRENT`.
        case current
        /// `CURRENT.tmp`.
        case currentTemporary
        /// `LOCK`.
        case lock
    }

    /// Classifies a directory entry, or `nil` for a name Strata never writes.
    public static func kind(of name: String) -> Kind? {
        if let number = TableFormat.fileNumber(fromFileName: name) { return .table(number) }
        if name.hasSuffix(".sst.tmp"), let number = TableFormat.fileNumber(fromFileName: String(name.dropLast(4))) {
            return .temporaryTable(number)
        }
        if let number = WALSegment.number(fromFileName: name) { return .walSegment(number) }
        if name.hasPrefix("MANIFEST-"), case let digits = name.dropFirst(9), digits.count >= 6,
            digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(digits)
        {
            return .manifest(number)
        }
        switch name {
        case current: return .current
        case currentTemporary: return .currentTemporary
        case lock: return .lock
        default: return nil
        }
    }

    /// Reads `CURRENT` and returns the live manifest's number.
    ///
    /// - Throws: `StrataError.corruption` naming `CURRENT` when it is empty, malformed, or names a
    ///   file that does not exist.
    public static func readCurrent(directory: String, fileSystem: any FileSystem) throws -> UInt64 {
        let path = Path.join(directory, current)
        let bytes = try fileSystem.readFile(path)
        guard bytes.last == UInt8(ascii: "\n"), bytes.count > 1 else {
            throw StrataError.corruption(file: path, offset: 0, reason: bytes.isEmpty ? "CURRENT is empty" : "CURRENT does not end with a newline")
        }
        let name = String(decoding: bytes.dropLast(), as: UTF8.self)
        guard case .manifest(let number)? = kind(of: name) else {
            throw StrataError.corruption(file: path, offset: 0, reason: "CURRENT names \"\(name)\", not a manifest")
        }
        guard fileSystem.exists(Path.join(directory, name)) else {
            throw StrataError.corruption(file: path, offset: 0, reason: "CURRENT names \(name), which does not exist")
        }
        return number
    }

    /// Points `CURRENT` at manifest `number` atomically: write `CURRENT.tmp`, sync it, rename it
    /// over `CURRENT`, sync the directory.
    package static func setCurrent(_ number: UInt64, directory: String, fileSystem: any FileSystem) throws {
        let temporary = Path.join(directory, currentTemporary)
        try fileSystem.writeFile(temporary, Array((manifest(number) + "\n").utf8), sync: true)
        try fileSystem.rename(temporary, to: Path.join(directory, current))
        try fileSystem.syncDirectory(directory)
    }
}
