import Encoding
import VFS

/// `REPLICA` in a replica's directory: its id (the name of its lease), the primary's manifest
/// whose tables it installed, and the WAL object a restart resumes at (that manifest's first;
/// the replica keeps no log of its own: the applied batches are in memory, and a restart
/// applies them again from the store). Written before the manifest's tables are installed.
struct ReplicaMarker: Sendable, Equatable {
    static let fileName = "REPLICA"

    /// 16 lowercase hex digits.
    var id: String
    /// The installed manifest (0: none yet).
    var manifest: UInt64
    /// The WAL object a restart resumes at.
    var nextWALObject: UInt64

    static func read(directory: String, fileSystem: any FileSystem) throws -> ReplicaMarker? {
        let path = Path.join(directory, fileName)
        guard let values = try MarkerFile.read(path, fileSystem: fileSystem) else { return nil }
        guard let id = values["id"], id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            let manifest = values["manifest"].flatMap({ UInt64($0) }), let next = values["next"].flatMap({ UInt64($0) })
        else {
            throw StrataError.corruption(file: path, offset: 0, reason: "expected lines 'id HEX16', 'manifest N' and 'next N'")
        }
        return ReplicaMarker(id: id, manifest: manifest, nextWALObject: next)
    }

    /// Replaces the marker atomically (write, sync, rename, sync the directory).
    func write(directory: String, fileSystem: any FileSystem) throws {
        try MarkerFile.write(["id": id, "manifest": "\(manifest)", "next": "\(nextWALObject)"], to: Self.fileName, in: directory, fileSystem: fileSystem)
    }

    /// A new random id.
    static func newID() -> String {
        let digits = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
