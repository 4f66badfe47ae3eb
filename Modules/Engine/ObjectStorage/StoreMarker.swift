import Encoding
import VFS

/// `OBJECT-STORE` in a database directory attached to an object store: the writer epoch this
/// directory holds (`epoch`) and the one it is trying to claim (`claiming`), so a reopen can
/// tell "I was the last writer" from "another writer took over since" (a diverged directory).
struct StoreMarker: Sendable, Equatable {
    static let fileName = "OBJECT-STORE"

    var epoch: UInt64
    var claiming: UInt64
    /// A keyspace was created or dropped and the checkpoint that tells the store may not have
    /// been uploaded: the next open uploads one (the store's log carries writes, not keyspaces).
    var checkpointPending = false

    static func read(directory: String, fileSystem: any FileSystem) throws -> StoreMarker? {
        let path = Path.join(directory, fileName)
        guard let values = try MarkerFile.read(path, fileSystem: fileSystem) else { return nil }
        guard let epoch = values["epoch"].flatMap({ UInt64($0) }), let claiming = values["claiming"].flatMap({ UInt64($0) }) else {
            throw StrataError.corruption(file: path, offset: 0, reason: "expected lines 'epoch N' and 'claiming N'")
        }
        return StoreMarker(epoch: epoch, claiming: claiming, checkpointPending: values["checkpoint-pending"] == "1")
    }

    /// Replaces the marker atomically (write, sync, rename, sync the directory).
    func write(directory: String, fileSystem: any FileSystem) throws {
        var values = ["epoch": "\(epoch)", "claiming": "\(claiming)"]
        if checkpointPending { values["checkpoint-pending"] = "1" }
        try MarkerFile.write(values, to: Self.fileName, in: directory, fileSystem: fileSystem)
    }
}

/// The small text files beside a database that say how it relates to an object store
/// (`OBJECT-STORE`, `REPLICA`, `REPLICA-TABLES`): one `name value` pair per line, replaced atomically.
enum MarkerFile {
    /// The pairs in `path`, or `nil` when there is no such file.
    static func read(_ path: String, fileSystem: any FileSystem) throws -> [String: String]? {
        guard fileSystem.exists(path) else { return nil }
        var values: [String: String] = [:]
        for line in String(decoding: try fileSystem.readFile(path), as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    /// Replaces `name` in `directory` with `pairs`, in order: write, sync, rename, sync the
    /// directory.
    static func write(_ pairs: some Sequence<(key: String, value: String)>, to name: String, in directory: String, fileSystem: any FileSystem) throws {
        let temporary = Path.join(directory, name + ".tmp")
        let text = pairs.map { "\($0.key) \($0.value)\n" }.joined()
        try fileSystem.writeFile(temporary, Array(text.utf8), sync: true)
        try fileSystem.rename(temporary, to: Path.join(directory, name))
        try fileSystem.syncDirectory(directory)
    }
}
