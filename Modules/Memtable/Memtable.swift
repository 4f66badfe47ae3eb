import Encoding
import Synchronization
import WAL

/// The state a writable memtable and its frozen form share.
final class MemtableStorage: Sendable {
    let arena: Arena
    /// Puts and deletes, keyed by encoded internal key.
    let points: SkipList
    /// Range tombstones, keyed by `(start, sequence, .rangeDelete)`, valued by the end key.
    let tombstones: SkipList
    let maxSequence = Atomic<UInt64>(0)
    let frozen = Atomic<Bool>(false)
    let deletions = Atomic<Int>(0)
    let firstWALSegment: UInt64
    let lastWALSegment: Atomic<UInt64>
    /// Fragmented range tombstones for lookups once there are many of them.
    let tombstoneFragments = Locked(TombstoneFragmentCache())

    init(capacity: Int, walSegment: UInt64) throws {
        arena = try Arena(capacity: capacity)
        points = try SkipList(arena: arena, seed: 0x9E37_79B9_7F4A_7C15)
        tombstones = try SkipList(arena: arena, seed: 0xD1B5_4A32_D192_ED03)
        firstWALSegment = walSegment
        lastWALSegment = Atomic(walSegment)
    }

    /// Point lookup, resolving point versions against covering range tombstones.
    func get(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber) -> LookupResult {
        withUnsafeTemporaryAllocation(byteCount: userKey.count + InternalKey.trailerSize, alignment: 8) { seekKey in
            if userKey.count > 0 { seekKey.baseAddress!.copyMemory(from: userKey.baseAddress!, byteCount: userKey.count) }
            seekKey.storeBytes(of: InternalKey.seekTrailer(snapshot).littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            let target = UnsafeRawBufferPointer(seekKey)

            var pointSequence: UInt64 = 0
            var found: LookupResult = .notFound
            let node = points.seek(target)
            if node != 0 {
                let key = points.key(node)
                if BytewiseComparator.compare(InternalKey.userKey(of: key), userKey) == 0 {
                    // The first entry ≥ (key, snapshot) with the same user key is the newest
                    // version visible at the snapshot.
                    let trailer = InternalKey.trailer(of: key)
                    pointSequence = trailer >> 8
                    if UInt8(truncatingIfNeeded: trailer) == ValueKind.put.rawValue {
                        found = .value(Array(points.value(node)))
                    } else {
                        found = .deleted
                    }
                }
            }
            let covering = tombstones.count > 0 ? newestCoveringTombstone(userKey, at: snapshot) : nil
            return RangeTombstoneRule.resolve(found, pointSequence: pointSequence, coveringTombstone: covering)
        }
    }

    /// The sequence of the newest thing the memtable says about `userKey` — its newest point
    /// version or the newest range tombstone covering it — or `nil` (a transaction's check).
    func newestSequence(_ userKey: UnsafeRawBufferPointer) -> UInt64? {
        var point: UInt64? = nil
        withUnsafeTemporaryAllocation(byteCount: userKey.count + InternalKey.trailerSize, alignment: 8) { seekKey in
            if userKey.count > 0 { seekKey.baseAddress!.copyMemory(from: userKey.baseAddress!, byteCount: userKey.count) }
            seekKey.storeBytes(of: InternalKey.seekTrailer(.max).littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            let node = points.seek(UnsafeRawBufferPointer(seekKey))
            if node != 0, BytewiseComparator.compare(InternalKey.userKey(of: points.key(node)), userKey) == 0 {
                point = InternalKey.trailer(of: points.key(node)) >> 8
            }
        }
        let covering = tombstones.count > 0 ? newestCoveringTombstone(userKey, at: .max) : nil
        switch (point, covering) {
        case let (point?, covering?): return max(point, covering)
        case let (point, covering): return point ?? covering
        }
    }

    /// The sequence of the newest range tombstone visible at `snapshot` covering `userKey`.
    ///
    /// With few tombstones, a scan of those starting at or before the key. With many, one binary
    /// search in `RangeTombstoneFragments` built from the list and cached; the cache is rebuilt
    /// only after `TombstoneFragmentCache.staleLookupsBeforeRebuild` lookups found it out of date,
    /// so a workload alternating range deletes and gets keeps the linear cost instead of paying
    /// a rebuild per get, and a frozen memtable (whose list never changes) builds it once.
    func newestCoveringTombstone(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber) -> UInt64? {
        let count = tombstones.count
        guard count > TombstoneFragmentCache.linearScanLimit else { return scanTombstones(userKey, at: snapshot) }
        let (cached, rebuild) = tombstoneFragments.withLock { cache -> (RangeTombstoneFragments?, Bool) in
            if cache.count == count, let fragments = cache.fragments { return (fragments, false) }
            cache.staleLookups += 1
            return (nil, cache.staleLookups >= TombstoneFragmentCache.staleLookupsBeforeRebuild)
        }
        if let cached { return cached.newestCovering(userKey, at: snapshot) }
        guard rebuild else { return scanTombstones(userKey, at: snapshot) }
        // Built outside the lock. Iteration sees a prefix of the insertion order (one writer
        // inserts at a time and a linked node stays linked), at least the `count` entries this
        // lookup must consider; the cache is labelled with the number actually collected.
        let collected = collectTombstones()
        let fragments = RangeTombstoneFragments(collected)
        tombstoneFragments.withLock { cache in
            if cache.fragments == nil || cache.count < collected.count {
                cache = TombstoneFragmentCache(count: collected.count, fragments: fragments, staleLookups: 0)
            }
        }
        return fragments.newestCovering(userKey, at: snapshot)
    }

    /// Every range tombstone, in (start ASC, sequence DESC) order.
    func collectTombstones() -> [RangeTombstone] {
        var collected: [RangeTombstone] = []
        collected.reserveCapacity(tombstones.count)
        var node = tombstones.first()
        while node != 0 {
            let key = tombstones.key(node)
            collected.append(RangeTombstone(
                start: Array(InternalKey.userKey(of: key)), end: Array(tombstones.value(node)),
                sequence: SequenceNumber(rawValue: InternalKey.trailer(of: key) >> 8)))
            node = tombstones.next(node, 0)
        }
        return collected
    }

    /// `newestCoveringTombstone` by scanning the tombstones that start at or before the key.
    func scanTombstones(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber) -> UInt64? {
        var newest: UInt64? = nil
        var node = tombstones.first()
        // Tombstones are sorted by start key: only those starting at or before the key can cover it.
        while node != 0 {
            let key = tombstones.key(node)
            if BytewiseComparator.compare(InternalKey.userKey(of: key), userKey) > 0 { break }
            let sequence = InternalKey.trailer(of: key) >> 8
            if sequence <= snapshot.rawValue && BytewiseComparator.compare(userKey, tombstones.value(node)) < 0 {
                newest = Swift.max(newest ?? 0, sequence)
            }
            node = tombstones.next(node, 0)
        }
        return newest
    }
}

/// A memtable's cached fragmentation of its range tombstones (see
/// `MemtableStorage.newestCoveringTombstone`).
struct TombstoneFragmentCache: Sendable {
    /// Up to this many tombstones, lookups scan the list.
    static let linearScanLimit = 32
    /// Lookups that find the cache out of date before one rebuilds it.
    static let staleLookupsBeforeRebuild = 16

    /// How many tombstones `fragments` was built from.
    var count = 0
    var fragments: RangeTombstoneFragments?
    /// Lookups that found the cache out of date since it was last built.
    var staleLookups = 0
}

/// The read API shared by a writable `Memtable` and a `FrozenMemtable`.
///
/// Every method is `final` (no dynamic dispatch) and reads without locks.
///
/// Thread safety: `@unchecked Sendable` because the class is not final (two subclasses share
/// this API); its only state is the immutable reference to a `Sendable` storage object.
public class MemtableView: @unchecked Sendable {
    let storage: MemtableStorage

    init(storage: MemtableStorage) {
        self.storage = storage
    }

    /// The newest version of `userKey` visible at `snapshot`, resolved against range tombstones:
    /// the newest of (point version ≤ snapshot, covering tombstone ≤ snapshot) wins.
    public final func get(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber = .max) -> LookupResult {
        storage.get(userKey, at: snapshot)
    }

    /// The newest version of `userKey` visible at `snapshot`.
    public final func get(_ userKey: [UInt8], at snapshot: SequenceNumber = .max) -> LookupResult {
        userKey.withUnsafeBytes { storage.get($0, at: snapshot) }
    }

    /// The sequence of the newest thing the memtable says about `userKey` (its newest point
    /// version, or a newer covering range tombstone), or `nil`: a transaction's conflict check.
    package final func newestSequence(_ userKey: UnsafeRawBufferPointer) -> UInt64? {
        storage.newestSequence(userKey)
    }

    /// An iterator over point entries (every version) in internal-key order.
    public final func makeIterator() -> MemtableIterator { MemtableIterator(list: storage.points) }

    /// An iterator over range tombstones in (start ASC, sequence DESC) order.
    public final func makeRangeTombstoneIterator() -> MemtableIterator { MemtableIterator(list: storage.tombstones) }

    /// Every range tombstone (a copy), in (start ASC, sequence DESC) order; a concurrent insert
    /// may or may not be included.
    public final var rangeTombstones: [RangeTombstone] { storage.collectTombstones() }

    /// The largest sequence number inserted or injected (the design's `max_lsn`).
    public final var maxSequence: SequenceNumber { SequenceNumber(rawValue: storage.maxSequence.load(ordering: .acquiring)) }

    /// Bytes allocated in the arena: exact, and what the flush threshold compares against.
    public final var approximateMemoryUsage: Int { storage.arena.used }

    /// Point entries.
    public final var entryCount: Int { storage.points.count }

    /// Point deletes among the entries.
    public final var deletionCount: Int { storage.deletions.load(ordering: .relaxed) }

    /// Range tombstones.
    public final var rangeTombstoneCount: Int { storage.tombstones.count }

    /// The WAL segments holding its writes: they must not be deleted before it is flushed.
    public final var walSegments: ClosedRange<UInt64> { storage.firstWALSegment...storage.lastWALSegment.load(ordering: .relaxed) }
}

/// The in-memory write buffer: every recent write, kept sorted, until it is flushed to a table.
///
/// Point entries (puts and deletes, every version) live in a lock-free arena skiplist ordered by
/// internal key; range tombstones live in a second skiplist in the same arena, ordered by (start
/// ASC, sequence DESC), and are merged with point entries only when reading.
///
/// Thread safety: `Sendable`. **One writer at a time** may call the inserting methods (the
/// Engine serialises writes through its commit queue); any number of threads may read, iterate
/// and query concurrently with it, without locks.
public final class Memtable: MemtableView, @unchecked Sendable {

    /// Per-entry arena overhead in the worst case (node header, 12 links, trailer, alignment).
    public static let maxEntryOverhead = SkipList.worstCaseNodeSize(keyLength: InternalKey.trailerSize, valueLength: 0)

    /// The default arena reservation: the default 64 MiB write buffer plus room for a maximal
    /// 64 MiB batch to land after the threshold is crossed.
    public static let defaultCapacity = 160 << 20

    /// Creates an empty memtable.
    ///
    /// - Parameters:
    ///   - capacity: the arena's size, the most memory the memtable can ever use (≤ 4 GiB).
    ///     Reserved as address space; memory is used only as entries arrive.
    ///   - walSegment: the WAL segment its writes are logged to (kept so the segment is not
    ///     deleted before the memtable is flushed).
    public init(capacity: Int = Memtable.defaultCapacity, walSegment: UInt64 = 0) throws {
        super.init(storage: try MemtableStorage(capacity: capacity, walSegment: walSegment))
    }

    // MARK: - Writing (one writer at a time)

    /// Inserts a put (`kind == .put`) or a point delete (`kind == .delete`, `value` ignored).
    ///
    /// - Throws: `StrataError.invalidArgument` when the memtable is frozen, the kind is
    ///   `.rangeDelete` (use `insertRangeTombstone`), or the arena has no room (check
    ///   `canHold(bytes:entries:)` first; nothing is inserted).
    public func insert(_ kind: ValueKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, sequence: SequenceNumber) throws {
        try checkWritable()
        guard kind != .rangeDelete else {
            throw StrataError.invalidArgument("range deletes go through insertRangeTombstone")
        }
        try insertEncoded(into: storage.points, userKey: key, trailer: InternalKey.packTrailer(sequence, kind), value: kind == .put ? value : UnsafeRawBufferPointer(start: nil, count: 0))
        if kind == .delete { storage.deletions.add(1, ordering: .relaxed) }
        noteSequence(sequence)
    }

    /// Inserts a put of `value` under `key` at `sequence`.
    public func put(_ key: [UInt8], _ value: [UInt8], sequence: SequenceNumber) throws {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in try insert(.put, key: key, value: value, sequence: sequence) }
        }
    }

    /// Inserts a point delete of `key` at `sequence`.
    public func delete(_ key: [UInt8], sequence: SequenceNumber) throws {
        try key.withUnsafeBytes { key in
            try insert(.delete, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), sequence: sequence)
        }
    }

    /// Inserts a range tombstone deleting `[start, end)` at `sequence`.
    ///
    /// - Throws: `invalidArgument` when `start >= end`, or as `insert`.
    public func insertRangeTombstone(start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, sequence: SequenceNumber) throws {
        try checkWritable()
        guard BytewiseComparator.compare(start, end) < 0 else {
            throw StrataError.invalidArgument("range delete start must sort before its end")
        }
        try insertEncoded(into: storage.tombstones, userKey: start, trailer: InternalKey.packTrailer(sequence, .rangeDelete), value: end)
        noteSequence(sequence)
    }

    /// Inserts a range tombstone deleting `[start, end)` at `sequence`.
    public func insertRangeTombstone(start: [UInt8], end: [UInt8], sequence: SequenceNumber) throws {
        try start.withUnsafeBytes { start in
            try end.withUnsafeBytes { end in try insertRangeTombstone(start: start, end: end, sequence: sequence) }
        }
    }

    /// Applies an encoded `WriteBatch`: entry *i* is inserted at the batch's sequence + *i*.
    /// All or nothing: the batch is validated and its space checked before anything is inserted.
    /// Only the entries of `keyspace` (0: the default keyspace) are inserted; a database with
    /// keyspaces applies each keyspace's entries to that keyspace's memtable.
    ///
    /// - Returns: the sequence range applied, or `nil` for an empty batch.
    /// - Throws: `StrataError.corruption` (with `file` and `offset`) for a malformed batch;
    ///   `invalidArgument` when frozen or out of room.
    @discardableResult
    public func apply(batch: UnsafeRawBufferPointer, keyspace: UInt32 = 0, file: String = "<memory>", offset: Int = 0) throws -> ClosedRange<SequenceNumber>? {
        try checkWritable()
        let entries = try WriteBatch.validateEncoded(batch, file: file, offset: offset)
        guard canHold(bytes: batch.count, entries: entries) else {
            throw StrataError.invalidArgument("memtable has \(remainingCapacity) bytes left, too few for a batch of \(batch.count) bytes")
        }
        return try WriteBatch.forEach(in: batch, file: file, offset: offset) { entryKeyspace, kind, key, value, sequence in
            guard entryKeyspace == keyspace else { return }
            if kind == .rangeDelete {
                try insertRangeTombstone(start: key, end: value, sequence: sequence)
            } else {
                try insert(kind, key: key, value: value, sequence: sequence)
            }
        }
    }

    /// Inserts every entry of `batch` (built with `WriteBatch`'s API or decoded by it, so its
    /// encoding is well formed) that writes to `keyspace` (0: the default keyspace), numbered
    /// from `batch.sequence`, in one pass.
    ///
    /// - Returns: the sequence range applied, or `nil` for an empty batch.
    /// - Throws: `invalidArgument`, before inserting anything, when frozen, out of room, or
    ///   when a range delete's start does not sort before its end.
    @discardableResult
    public func apply(_ batch: WriteBatch, keyspace: UInt32 = 0) throws -> ClosedRange<SequenceNumber>? {
        try checkWritable()
        try batch.validate()
        // Invariant (the engine's commit path): sequence numbers only grow, so every batch starts
        // above everything the memtable holds (or was injected with at a switch).
        InternalChecks.check(batch.isEmpty || batch.sequence > maxSequence, "batch at sequence \(batch.sequence) applied to a memtable already at \(maxSequence)")
        guard canHold(bytes: batch.byteSize, entries: batch.count) else {
            throw StrataError.invalidArgument("memtable has \(remainingCapacity) bytes left, too few for a batch of \(batch.byteSize) bytes")
        }
        return try batch.encoded.withUnsafeBytes { encoded in
            try WriteBatch.forEach(in: encoded) { entryKeyspace, kind, key, value, sequence in
                guard entryKeyspace == keyspace else { return }
                if kind == .rangeDelete {
                    try insertRangeTombstone(start: key, end: value, sequence: sequence)
                } else {
                    try insert(kind, key: key, value: value, sequence: sequence)
                }
            }
        }
    }

    /// Whether `entries` entries totalling `bytes` of keys and values surely fit.
    public func canHold(bytes: Int, entries: Int) -> Bool {
        bytes + entries * Memtable.maxEntryOverhead <= remainingCapacity
    }

    /// Freezes the memtable: no more writes are accepted, and the returned immutable view can be
    /// read and flushed while a new memtable takes writes.
    public func freeze() -> FrozenMemtable {
        storage.frozen.store(true, ordering: .releasing)
        return FrozenMemtable(storage: storage)
    }

    /// Records that writes are now logged to WAL segment `segment` too (after a rotation that
    /// kept this memtable, as during recovery).
    public func noteWALSegment(_ segment: UInt64) {
        storage.lastWALSegment.store(Swift.max(segment, storage.lastWALSegment.load(ordering: .relaxed)), ordering: .relaxed)
    }

    /// Raises `maxSequence` to at least `sequence` (the design's `inject_max_lsn`): recovery and
    /// memtable switches carry the last sequence forward so the next write gets `max + 1` and no
    /// sequence number is ever reused.
    public func injectMaxSequence(_ sequence: SequenceNumber) {
        noteSequence(sequence)
    }

    // MARK: - Reading (any thread; see `MemtableView` for the rest)

    /// The sequence number the next write should get: `maxSequence + 1`.
    public var nextSequence: SequenceNumber { maxSequence.advanced(by: 1) }

    /// Arena bytes still free.
    public var remainingCapacity: Int { storage.arena.remaining }

    /// Whether `freeze()` has been called.
    public var isFrozen: Bool { storage.frozen.load(ordering: .acquiring) }

    // MARK: - Internal

    private func checkWritable() throws {
        if storage.frozen.load(ordering: .relaxed) {
            throw StrataError.invalidArgument("the memtable is frozen and accepts no writes")
        }
    }

    private func noteSequence(_ sequence: SequenceNumber) {
        // Single writer: a plain load-compare-store is race-free; release publishes it to readers.
        if sequence.rawValue > storage.maxSequence.load(ordering: .relaxed) {
            storage.maxSequence.store(sequence.rawValue, ordering: .releasing)
        }
    }

    private func insertEncoded(into list: SkipList, userKey: UnsafeRawBufferPointer, trailer: UInt64, value: UnsafeRawBufferPointer) throws {
        let keyLength = userKey.count + InternalKey.trailerSize
        guard keyLength <= Int(UInt32.max) && value.count <= Int(UInt32.max),
            SkipList.worstCaseNodeSize(keyLength: keyLength, valueLength: value.count) <= storage.arena.remaining
        else {
            throw StrataError.invalidArgument("memtable is full (\(storage.arena.remaining) bytes left for an entry of \(keyLength + value.count) bytes)")
        }
        let inserted = withUnsafeTemporaryAllocation(byteCount: keyLength, alignment: 8) { key in
            if userKey.count > 0 { key.baseAddress!.copyMemory(from: userKey.baseAddress!, byteCount: userKey.count) }
            key.storeBytes(of: trailer.littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            return list.insert(key: UnsafeRawBufferPointer(key), value: value)
        }
        // The capacity check above used the worst-case node size, so the insert cannot run out.
        precondition(inserted, "memtable arena exhausted after a successful capacity check")
    }
}

/// An immutable memtable, frozen to be flushed. No write methods exist on it; reads (see
/// `MemtableView`), iteration and the flush may run concurrently on it from any thread.
public final class FrozenMemtable: MemtableView, @unchecked Sendable {
    /// The two ordered streams the table builder consumes: all point entries (not collapsed)
    /// and all range tombstones.
    public var flushSource: FlushSource {
        var points = makeIterator()
        points.seekToFirst()
        var tombstones = makeRangeTombstoneIterator()
        tombstones.seekToFirst()
        return FlushSource(points: points, rangeTombstones: tombstones, pointCount: entryCount, rangeTombstoneCount: rangeTombstoneCount)
    }
}
