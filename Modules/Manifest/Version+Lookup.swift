import Encoding
import SSTable

extension Version {
    /// The newest version of `userKey` visible at `snapshot` among this version's tables: level-0
    /// files newest first, then one file per deeper level; the first table that knows anything
    /// about the key (a value, a delete, or a covering range tombstone) decides, because every
    /// table consulted earlier holds newer data than every table consulted later.
    public func get(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber, tableCache: TableCache) throws -> LookupResult {
        var found = LookupResult.notFound
        try forEachCandidate(for: userKey) { file in
            let reader = try tableCache.reader(for: file.table.fileNumber, expectedSize: file.table.fileSize)
            found = try reader.get(userKey, at: snapshot)
            return found != .notFound
        }
        return found
    }

    /// The sequence of the newest thing any table says about `userKey` (a point version or a
    /// covering range tombstone), or `nil` when none says anything. The first table that knows
    /// the key holds its newest state, as for `get`.
    ///
    /// Only tables whose largest sequence is above `floor` are read (nothing in the others can
    /// be newer): the answer is exact whenever it is above `floor`, which is all a conflict
    /// check asks — and usually every table predates the snapshot, so it reads none of them.
    package func newestSequence(_ userKey: UnsafeRawBufferPointer, newerThan floor: UInt64, tableCache: TableCache) throws -> UInt64? {
        var newest: UInt64?
        try forEachCandidate(for: userKey) { file in
            guard file.table.largestSequence.rawValue > floor else { return false }
            let reader = try tableCache.reader(for: file.table.fileNumber, expectedSize: file.table.fileSize)
            newest = try reader.newestSequence(userKey)
            return newest != nil
        }
        return newest
    }
}
