import Encoding
import VFS

/// `REPLICA-TABLES` in a replica's directory: which store object each local table file holds.
///
/// A replica numbers the tables it installs itself (the primary's numbers can repeat across
/// writer epochs; its object keys cannot), so this map is how it knows, after a restart, which
/// local tables it already has, and where to fetch an absent one from (with a local cache).
/// One line per table: `NUMBER KEY`. Written atomically before the version that uses a new
/// entry is installed, so it covers every table the local manifest can name.
struct ReplicaTableMap: Sendable, Equatable {
    static let fileName = "REPLICA-TABLES"

    /// Local table number by object key.
    var numbers: [String: UInt64] = [:]

    static func read(directory: String, fileSystem: any FileSystem) throws -> ReplicaTableMap {
        let path = Path.join(directory, fileName)
        guard let values = try MarkerFile.read(path, fileSystem: fileSystem) else { return ReplicaTableMap() }
        var map = ReplicaTableMap()
        for (number, key) in values {
            guard let number = UInt64(number), key.hasPrefix(StoreLayout.tablePrefix) else {
                throw StrataError.corruption(file: path, offset: 0, reason: "expected lines 'NUMBER tables/KEY', found '\(number) \(key)'")
            }
            map.numbers[key] = number
        }
        return map
    }

    /// Replaces the file atomically (write, sync, rename, sync the directory).
    func write(directory: String, fileSystem: any FileSystem) throws {
        let lines = numbers.sorted { $0.value < $1.value }.map { (key: "\($0.value)", value: $0.key) }
        try MarkerFile.write(lines, to: Self.fileName, in: directory, fileSystem: fileSystem)
    }
}
