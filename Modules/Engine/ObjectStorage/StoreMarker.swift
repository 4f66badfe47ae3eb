import Encoding
import VFS

/// `OBJECT-STORE` in a database directory attached to an object store: the writer epoch this
/// directory holds (`epoch`) and the one it is trying to claim (`claiming`), so a reopen can
/// tell "I was the last writer" from "another writer took over since" (a diverged directory).
struct StoreMarker: Sendable, Equatable {
    static let fileName = "OBJECT-STORE"

    var epoch: UInt64
    var claiming: UInt64

    static func read(directory: String, fileSystem: any FileSystem) throws -> StoreMarker? {
        let path = Path.join(directory, fileName)
        guard fileSystem.exists(path) else { return nil }
        let text = String(decoding: try fileSystem.readFile(path), as: UTF8.self)
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        guard let epoch = values["epoch"], let claiming = values["claiming"] else {
            throw StrataError.corruption(file: path, offset: 0, reason: "expected lines 'epoch N' and 'claiming N'")
        }
        return StoreMarker(epoch: epoch, claiming: claiming)
    }

    /// Replaces the marker atomically (write, sync, rename, sync the directory).
    func write(directory: String, fileSystem: any FileSystem) throws {
        let temporary = Path.join(directory, Self.fileName + ".tmp")
        try fileSystem.writeFile(temporary, Array("epoch \(epoch)\nclaiming \(claiming)\n".utf8), sync: true)
        try fileSystem.rename(temporary, to: Path.join(directory, Self.fileName))
        try fileSystem.syncDirectory(directory)
    }
}
