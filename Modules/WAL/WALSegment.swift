import Encoding
import VFS
/// One segment file of a write-ahead log: its number and path.
public struct WALSegment: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The segment number.
    public let number: UInt64
    /// The segment file's path.
    public let path: String

    /// Names segment `number` in `directory`.
    public init(number: UInt64, directory: String) {
        self.number = number
        self.path = Path.join(directory, WALSegment.fileName(for: number))
    }

    /// A log file framed like a WAL segment but named by the caller (the manifest reuses the WAL
    /// framing as `MANIFEST-NNNNNN`); its header must carry `number`.
    public init(number: UInt64, path: String) {
        self.number = number
        self.path = path
    }

    /// `wal-NNNNNN.log`: the number zero-padded to at least 6 digits.
    public static func fileName(for number: UInt64) -> String {
        "wal-" + String(number).leftPadded(to: 6) + ".log"
    }

    /// The segment number of a file name, or `nil` when the name is not a WAL segment's.
    public static func number(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        let digits = name.dropFirst(4).dropLast(4)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// The segments in `directory` numbered `first` or above, in order.
    ///
    /// - Throws: `StrataError.corruption` when the numbers are not contiguous from the first one
    ///   found (a missing middle segment would silently lose writes), or when `first` itself is
    ///   required but missing while later segments exist.
    public static func list(in directory: String, fileSystem: any FileSystem, from first: UInt64) throws -> [WALSegment] {
        let numbers = try fileSystem.listDirectory(directory)
            .compactMap(number(fromFileName:))
            .filter { $0 >= first }
            .sorted()
        guard let lowest = numbers.first else { return [] }
        if lowest != first && first > 0 {
            throw StrataError.corruption(
                file: Path.join(directory, fileName(for: first)), offset: 0,
                reason: "WAL segment \(first) is missing (the next present is \(lowest))")
        }
        for (previous, next) in zip(numbers, numbers.dropFirst()) where next != previous + 1 {
            throw StrataError.corruption(
                file: Path.join(directory, fileName(for: previous + 1)), offset: 0,
                reason: "WAL segment \(previous + 1) is missing between \(previous) and \(next)")
        }
        return numbers.map { WALSegment(number: $0, directory: directory) }
    }

    /// Orders values as the format sorts them.
    public static func < (lhs: WALSegment, rhs: WALSegment) -> Bool { lhs.number < rhs.number }

    /// A one-line, human-readable description.
    public var description: String { path }
}
