import Encoding
import SSTable

extension Version {
    /// The newest version of `userKey` visible at `snapshot` among this version's tables: level-0
    /// files newest first, then one file per deeper level; the first table that knows anything
    /// about the key (a value, a delete, or a covering range tombstone) decides, because every
    /// table consulted earlier holds newer data than every table consulted later.
    public func get(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber, tableCache: TableCache) throws -> LookupResult {
        for file in candidates(for: userKey) {
            let reader = try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
            let result = try reader.get(userKey, at: snapshot)
            if result != .notFound { return result }
        }
        return .notFound
    }

    /// The sequence of the newest thing any table says about `userKey` (a point version or a
    /// covering range tombstone), or `nil` when none says anything. The first table that knows
    /// the key holds its newest state, as for `get`.
    ///
    /// With `newerThan`, a table whose largest sequence is not above it is skipped (nothing in
    /// it can be newer): a conflict check only asks whether the key changed after a snapshot,
    /// and usually every table predates the snapshot, so it reads none of them.
    package func newestSequence(_ userKey: UnsafeRawBufferPointer, newerThan floor: UInt64 = 0, tableCache: TableCache) throws -> UInt64? {
        for file in candidates(for: userKey) where file.largestSequence.rawValue > floor || floor == 0 {
            let reader = try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
            if let sequence = try reader.newestSequence(userKey) { return sequence }
        }
        return nil
    }
}
