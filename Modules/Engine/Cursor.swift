import Compaction
import Encoding
import Manifest

/// A position in the database's keys, as of one snapshot, moving in either direction.
///
/// ```swift
/// let cursor = try db.cursor(ReadOptions(from: "a", to: "b"))
/// try cursor.seekToFirst()
/// while cursor.isValid {
///     use(cursor.key, cursor.value)
///     try cursor.next()
/// }
/// ```
///
/// The cursor merges every layer (memtables and tables), shows each key's newest version visible
/// at its snapshot, and hides deleted keys and keys covered by range deletes. It holds its read
/// view for its whole life: the data it sees never changes, and the files it reads are not
/// deleted while it exists. Once the database is closed, every move throws `.closed`.
///
/// Thread safety: not thread-safe; use a cursor from one thread at a time.
public final class Cursor {
    let database: Database
    let view: ReadView
    /// Inclusive lower bound on keys.
    public let lowerBound: [UInt8]?
    /// Exclusive upper bound on keys.
    public let upperBound: [UInt8]?
    // The mutable state is `@exclusivity(unchecked)`: a cursor is used by one thread at a time
    // (documented above) and no method is reentrant, so accesses never overlap; the dynamic
    // checks cost more than the merge step on a sequential scan.
    @exclusivity(unchecked) var merged: MergingIterator<ReadSource>
    let tombstones: RangeTombstoneFragments
    private let sequence: UInt64
    @exclusivity(unchecked) private var forward = true
    @exclusivity(unchecked) private var valid = false
    /// In reverse mode the current entry is copied here (the merge has moved past it).
    @exclusivity(unchecked) private var savedKey: [UInt8] = []
    @exclusivity(unchecked) private var savedValue: [UInt8] = []
    /// The user key whose older versions forward movement is passing: raw memory reused from
    /// step to step, so a step costs one `memcpy` of the key and no allocation.
    @exclusivity(unchecked) private var skipKeyBase = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    @exclusivity(unchecked) private var skipKeyCapacity = 64
    @exclusivity(unchecked) private var skipKeyCount = 0

    init(database: Database, options: ReadOptions) throws {
        if let lower = options.lowerBound, let upper = options.upperBound, BytewiseComparator.compare(lower, upper) > 0 {
            throw StrataError.invalidArgument("cursor lower bound sorts after its upper bound")
        }
        self.database = database
        self.view = try database.readView(at: options.snapshot, keyspace: options.keyspaceID)
        self.sequence = view.sequence.rawValue
        self.lowerBound = options.lowerBound
        self.upperBound = options.upperBound
        let low = options.lowerBound
        let high = options.upperBound
        var sources: [ReadSource] = [MemtableReadSource(view.active.makeIterator())]
        var tombstones = view.active.rangeTombstoneCount > 0 ? view.active.rangeTombstones : []
        for frozen in view.frozen {
            sources.append(MemtableReadSource(frozen.makeIterator()))
            if frozen.rangeTombstoneCount > 0 { tombstones += frozen.rangeTombstones }
        }
        // `high` is exclusive, but overlapping by the inclusive user key is harmless here.
        // Files are looked at in place (by index): copying `FileMetadata` values costs a
        // retain and release per key array, and a level can hold hundreds of files.
        let bounded = low != nil || high != nil
        for (level, files) in view.version.levels.enumerated() where !files.isEmpty {
            if level == 0 {
                for index in files.indices where files[index].overlaps(smallestUserKey: low, largestUserKey: high) {
                    sources.append(LevelReadSource(LevelIterator(files: [files[index]], tableCache: database.tableCache, lowerBound: low, upperBound: high)))
                }
            } else {
                // A level iterator skips files outside its bounds itself; narrowing the list only
                // matters when there are bounds.
                let relevant = bounded ? files.filter { $0.overlaps(smallestUserKey: low, largestUserKey: high) } : files
                guard !relevant.isEmpty else { continue }
                sources.append(LevelReadSource(LevelIterator(files: relevant, tableCache: database.tableCache, lowerBound: low, upperBound: high)))
            }
            for index in files.indices where files[index].rangeDeletionCount > 0 && files[index].overlaps(smallestUserKey: low, largestUserKey: high) {
                tombstones += try database.tableCache.reader(for: files[index].fileNumber, expectedSize: files[index].fileSize).rangeTombstones
            }
        }
        self.tombstones = RangeTombstoneFragments(tombstones)
        self.merged = MergingIterator(sources)
    }

    deinit {
        skipKeyBase.deallocate()
    }

    /// `true` when the cursor is on an entry.
    public var isValid: Bool { valid }

    /// The current key (a copy).
    ///
    /// - Precondition: `isValid`.
    public var key: [UInt8] {
        precondition(valid, "cursor is not on an entry")
        return forward ? Array(InternalKey.userKey(of: merged.key)) : savedKey
    }

    /// The current value (a copy).
    ///
    /// - Precondition: `isValid`.
    public var value: [UInt8] {
        precondition(valid, "cursor is not on an entry")
        return forward ? Array(merged.value) : savedValue
    }

    /// Calls `body` with the current key and value without copying them; the buffers are valid
    /// only during the call.
    ///
    /// - Precondition: `isValid`.
    public func withCurrent<Result>(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        precondition(valid, "cursor is not on an entry")
        if forward { return try body(InternalKey.userKey(of: merged.key), merged.value) }
        return try savedKey.withUnsafeBytes { key in try savedValue.withUnsafeBytes { try body(key, $0) } }
    }

    /// Moves to the first key (at or after the lower bound).
    public func seekToFirst() throws {
        try database.checkOpen()
        forward = true
        if let lowerBound {
            try InternalKey.seekKey(lowerBound, at: .max).withUnsafeBytes { try merged.seek(to: $0) }
        } else {
            try merged.seekToFirst()
        }
        try findNextVisible(skipping: false)
    }

    /// Moves to the last key (before the upper bound).
    public func seekToLast() throws {
        try database.checkOpen()
        forward = false
        if let upperBound {
            // The last entry ≤ (upper, newest) is the last one with a smaller user key.
            try InternalKey.seekKey(upperBound, at: .max).withUnsafeBytes { try merged.seekForPrev(to: $0) }
            if merged.isValid && upperBound.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: merged.key), $0) }) >= 0 {
                try merged.prev()
            }
        } else {
            try merged.seekToLast()
        }
        try findPreviousVisible()
    }

    /// Moves to the first key ≥ `target` (and within the bounds).
    @inlinable
    public func seek(to target: some BytesConvertible) throws {
        try target.withUnsafeBytes { try seek(rawKey: $0) }
    }

    @usableFromInline
    func seek(rawKey target: UnsafeRawBufferPointer) throws {
        try database.checkOpen()
        forward = true
        if let lowerBound, lowerBound.withUnsafeBytes({ BytewiseComparator.compare(target, $0) }) < 0 {
            try InternalKey.seekKey(lowerBound, at: SequenceNumber(rawValue: sequence)).withUnsafeBytes { try merged.seek(to: $0) }
        } else {
            // The seek key (target, snapshot) built in a stack buffer: no allocation per seek.
            try withUnsafeTemporaryAllocation(byteCount: target.count + InternalKey.trailerSize, alignment: 8) { seekKey in
                if let base = target.baseAddress, target.count > 0 { seekKey.baseAddress!.copyMemory(from: base, byteCount: target.count) }
                seekKey.storeBytes(of: InternalKey.seekTrailer(SequenceNumber(rawValue: sequence)).littleEndian, toByteOffset: target.count, as: UInt64.self)
                try merged.seek(to: UnsafeRawBufferPointer(seekKey))
            }
        }
        try findNextVisible(skipping: false)
    }

    /// Moves to the last key ≤ `target` (and within the bounds).
    @inlinable
    public func seekForPrev(to target: some BytesConvertible) throws {
        try seekForPrev(toKey: target.withUnsafeBytes { Array($0) })
    }

    @usableFromInline
    func seekForPrev(toKey target: [UInt8]) throws {
        try database.checkOpen()
        forward = false
        if let upperBound, BytewiseComparator.compare(target, upperBound) >= 0 {
            try seekToLast()
            return
        }
        // (target, 0, 0) is the largest internal key of `target`: everything ≤ it is ≤ target.
        var last = target
        withUnsafeBytes(of: UInt64(0).littleEndian) { last.append(contentsOf: $0) }
        try last.withUnsafeBytes { try merged.seekForPrev(to: $0) }
        try findPreviousVisible()
    }

    /// Moves to the next key.
    ///
    /// - Precondition: `isValid`.
    public func next() throws {
        precondition(valid, "next() on an invalid cursor")
        try database.checkOpen()
        if !forward {
            // Reposition the merge just after every version of the current key.
            forward = true
            let successor = savedKey + [0]
            try InternalKey.seekKey(successor, at: .max).withUnsafeBytes { try merged.seek(to: $0) }
            try findNextVisible(skipping: false)
            return
        }
        rememberSkipKey(InternalKey.userKey(of: merged.key))
        try merged.next()
        try findNextVisible(skipping: true)
    }

    /// Moves to the previous key.
    ///
    /// - Precondition: `isValid`.
    public func prev() throws {
        precondition(valid, "prev() on an invalid cursor")
        try database.checkOpen()
        if forward {
            // Reposition the merge on the last entry before every version of the current key.
            forward = false
            let current = Array(InternalKey.userKey(of: merged.key))
            try InternalKey.seekKey(current, at: .max).withUnsafeBytes { try merged.seek(to: $0) }
            if merged.isValid { try merged.prev() } else { try merged.seekToLast() }
        }
        try findPreviousVisible()
    }

    // MARK: - Visibility

    /// Copies `user` into the skip key.
    private func rememberSkipKey(_ user: UnsafeRawBufferPointer) {
        if user.count > skipKeyCapacity {
            skipKeyBase.deallocate()
            skipKeyCapacity = Swift.max(user.count, skipKeyCapacity * 2)
            skipKeyBase = .allocate(byteCount: skipKeyCapacity, alignment: 8)
        }
        if let source = user.baseAddress, user.count > 0 { skipKeyBase.copyMemory(from: source, byteCount: user.count) }
        skipKeyCount = user.count
    }

    /// The remembered skip key (valid until the next `rememberSkipKey`).
    private var skipKey: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: skipKeyBase, count: skipKeyCount) }

    /// Moves forward to the first entry that is a user-visible key: the newest version at the
    /// snapshot is a put not covered by a newer range delete. With `skipping`, entries of the
    /// user key in `skipKey` are passed.
    private func findNextVisible(skipping: Bool) throws {
        var skip = skipping
        while merged.isValid {
            let key = merged.key
            let user = InternalKey.userKey(of: key)
            if let upperBound, upperBound.withUnsafeBytes({ BytewiseComparator.compare(user, $0) }) >= 0 { break }
            let trailer = InternalKey.trailer(of: key)
            let sequence = trailer >> 8
            if sequence > self.sequence {
                try merged.next()
                continue
            }
            if skip, BytewiseComparator.compare(user, skipKey) == 0 {
                try merged.next()
                continue
            }
            // The newest visible version of `user`.
            if UInt8(truncatingIfNeeded: trailer) == ValueKind.put.rawValue && !isCovered(user, above: sequence) {
                valid = true
                return
            }
            rememberSkipKey(user)
            skip = true
            try merged.next()
        }
        valid = false
    }

    /// Moves backward to the previous user-visible key, copying it (the merge moves past it).
    private func findPreviousVisible() throws {
        while merged.isValid {
            let current = Array(InternalKey.userKey(of: merged.key))
            if let lowerBound, BytewiseComparator.compare(current, lowerBound) < 0 { break }
            // Walk every version of `current` backward (oldest first); the last one visible at
            // the snapshot is its newest visible version.
            var newest: (sequence: UInt64, isPut: Bool)? = nil
            var newestValue: [UInt8] = []
            while merged.isValid {
                let key = merged.key
                if current.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: key), $0) }) != 0 { break }
                let trailer = InternalKey.trailer(of: key)
                if trailer >> 8 <= sequence {
                    let isPut = UInt8(truncatingIfNeeded: trailer) == ValueKind.put.rawValue
                    newest = (trailer >> 8, isPut)
                    newestValue = isPut ? Array(merged.value) : []
                }
                try merged.prev()
            }
            if let newest, newest.isPut, !current.withUnsafeBytes({ isCovered($0, above: newest.sequence) }) {
                savedKey = current
                savedValue = newestValue
                valid = true
                return
            }
        }
        valid = false
    }

    /// Whether a range delete visible at the snapshot and newer than `sequence` covers `user`.
    private func isCovered(_ user: UnsafeRawBufferPointer, above sequence: UInt64) -> Bool {
        guard !tombstones.isEmpty else { return false }
        return RangeTombstoneRule.hides(tombstones.newestCovering(user, at: SequenceNumber(rawValue: self.sequence)), pointSequence: sequence)
    }
}
