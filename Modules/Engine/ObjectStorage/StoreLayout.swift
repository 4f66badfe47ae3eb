import ObjectStore

/// Where a database's objects live in its object store (Docs/formats/object-store.md).
enum StoreLayout {
    static let walPrefix = "wal/"
    static let manifestPrefix = "manifest/"
    static let tablePrefix = "tables/"
    static let checkpointPrefix = "checkpoints/"
    static let leasePrefix = "leases/"

    /// Numbers are 20 decimal digits, so key order is numeric order.
    static func padded(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func walKey(_ number: UInt64) -> String { walPrefix + padded(number) }
    static func manifestKey(_ number: UInt64) -> String { manifestPrefix + padded(number) }
    /// A replica's lease; `id` is 16 lowercase hex digits.
    static func leaseKey(_ id: String) -> String { leasePrefix + id }

    /// A table uploaded in `epoch`: the epoch keeps a fenced writer's uploads from ever
    /// colliding with its successor's tables of the same file number.
    static func tableKey(epoch: UInt64, name: String) -> String { tablePrefix + padded(epoch) + "-" + name }

    /// A checkpoint's manifest and `CURRENT`, private to the manifest object `number`.
    static func checkpointFileKey(epoch: UInt64, manifest number: UInt64, name: String) -> String {
        checkpointPrefix + padded(epoch) + "-" + padded(number) + "/" + name
    }

    /// The number of a `wal/` or `manifest/` key, or `nil` for anything else.
    static func number(of key: String, prefix: String) -> UInt64? {
        guard key.hasPrefix(prefix) else { return nil }
        let digits = key.dropFirst(prefix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// The highest-numbered object under `prefix` (at or after `from`), or `nil`.
    static func highest(in store: any ObjectStore, prefix: String, from: UInt64 = 0) async throws -> UInt64? {
        var highest: UInt64?
        let startAfter = from > 0 ? prefix + padded(from - 1) : nil
        var after = startAfter
        while true {
            let page = try await store.list(prefix: prefix, startAfter: after, limit: ObjectStoreLimits.maximumListLimit)
            for object in page.objects {
                if let number = number(of: object.key, prefix: prefix) { highest = max(highest ?? 0, number) }
            }
            guard page.isTruncated, let last = page.objects.last else { return highest }
            after = last.key
        }
    }
}
