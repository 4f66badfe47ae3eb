/// Range tombstones cut into non-overlapping fragments, for fast coverage queries.
///
/// Overlapping tombstones `[a, c)@5` and `[b, d)@9` (with `a < b < c < d`) become the fragments
/// `[a, b) {5}`, `[b, c) {9, 5}`, `[c, d) {9}`: each fragment lists, newest first, the sequences of
/// every tombstone covering it. "The newest tombstone covering key k visible at snapshot s" is then
/// one binary search for k's fragment and a scan of a short sequence list.
///
/// Building costs O(n log n) for n tombstones; the result is immutable and `Sendable`.
public struct RangeTombstoneFragments: Sendable {
    /// One fragment: `[start, end)` and the covering sequences, newest first.
    public struct Fragment: Sendable, Equatable {
        /// Inclusive start.
        public var start: [UInt8]
        /// Exclusive end.
        public var end: [UInt8]
        /// Sequences of the tombstones covering the fragment, in descending order.
        public var sequences: [UInt64]
    }

    /// The fragments in key order; no two overlap.
    public let fragments: [Fragment]

    /// `true` when there are no tombstones.
    public var isEmpty: Bool { fragments.isEmpty }

    /// Fragments `tombstones` (any order; empty ranges are ignored).
    ///
    /// A sweep over the sorted, distinct boundaries: each tombstone enters the active set at the
    /// boundary equal to its start and leaves at the one equal to its end (both located once by
    /// binary search), and the active set is kept as a sequence list sorted newest first, so a
    /// fragment's list is a copy of it. No key is compared during the sweep.
    public init(_ tombstones: [RangeTombstone]) {
        let valid = tombstones.filter { BytewiseComparator.compare($0.start, $0.end) < 0 }
        guard !valid.isEmpty else {
            fragments = []
            return
        }
        // Every start and end is a fragment boundary.
        var boundaries = valid.flatMap { [$0.start, $0.end] }
        boundaries.sort { BytewiseComparator.compare($0, $1) < 0 }
        var unique: [[UInt8]] = []
        unique.reserveCapacity(boundaries.count)
        for boundary in boundaries where unique.last.map({ BytewiseComparator.compare($0, boundary) != 0 }) ?? true {
            unique.append(boundary)
        }
        func boundaryIndex(_ key: [UInt8]) -> Int {
            var low = 0
            var high = unique.count
            while low < high {
                let middle = (low + high) / 2
                if BytewiseComparator.compare(unique[middle], key) < 0 { low = middle + 1 } else { high = middle }
            }
            return low
        }
        // Sweep events: (boundary index, sequence, enters?), in boundary order.
        var events: [(index: Int, sequence: UInt64, enters: Bool)] = []
        events.reserveCapacity(2 * valid.count)
        for tombstone in valid {
            events.append((boundaryIndex(tombstone.start), tombstone.sequence.rawValue, true))
            events.append((boundaryIndex(tombstone.end), tombstone.sequence.rawValue, false))
        }
        events.sort { $0.index < $1.index }
        // Sequences of the tombstones covering the current fragment, newest first (a sequence
        // appears once per tombstone carrying it).
        var active: [UInt64] = []
        /// The first position in `active` whose sequence is ≤ `sequence`.
        func position(_ sequence: UInt64) -> Int {
            var low = 0
            var high = active.count
            while low < high {
                let middle = (low + high) / 2
                if active[middle] > sequence { low = middle + 1 } else { high = middle }
            }
            return low
        }
        var result: [Fragment] = []
        var next = 0
        for index in 0..<(unique.count - 1) {
            while next < events.count && events[next].index == index {
                let event = events[next]
                let at = position(event.sequence)
                if event.enters {
                    active.insert(event.sequence, at: at)
                } else if at < active.count && active[at] == event.sequence {
                    // Present: it entered at its start, an earlier boundary.
                    active.remove(at: at)
                }
                next += 1
            }
            guard !active.isEmpty else { continue }
            var sequences = active
            if sequences.count > 1 {
                // Tombstones sharing a sequence (only possible in damaged input) are listed once.
                var write = 1
                for read in 1..<sequences.count where sequences[read] != sequences[write - 1] {
                    sequences[write] = sequences[read]
                    write += 1
                }
                sequences.removeLast(sequences.count - write)
            }
            if var last = result.last, last.end == unique[index], last.sequences == sequences {
                // Merge with an identical neighbour to keep the list short.
                last.end = unique[index + 1]
                result[result.count - 1] = last
            } else {
                result.append(Fragment(start: unique[index], end: unique[index + 1], sequences: sequences))
            }
        }
        fragments = result
    }

    /// The fragment containing `userKey`, if any.
    public func fragment(containing userKey: UnsafeRawBufferPointer) -> Fragment? {
        // The last fragment whose start is ≤ the key.
        var low = 0
        var high = fragments.count
        while low < high {
            let middle = (low + high) / 2
            let order = fragments[middle].start.withUnsafeBytes { BytewiseComparator.compare($0, userKey) }
            if order <= 0 { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let fragment = fragments[low - 1]
        guard fragment.end.withUnsafeBytes({ BytewiseComparator.compare(userKey, $0) < 0 }) else { return nil }
        return fragment
    }

    /// The sequence of the newest tombstone covering `userKey` that is visible at `snapshot`.
    public func newestCovering(_ userKey: UnsafeRawBufferPointer, at snapshot: SequenceNumber) -> UInt64? {
        fragment(containing: userKey)?.sequences.first { $0 <= snapshot.rawValue }
    }

    /// The sequence of the newest tombstone covering `userKey` visible at `snapshot`.
    public func newestCovering(_ userKey: [UInt8], at snapshot: SequenceNumber) -> UInt64? {
        userKey.withUnsafeBytes { newestCovering($0, at: snapshot) }
    }
}
