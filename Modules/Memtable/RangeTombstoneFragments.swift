import Encoding

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
        for boundary in boundaries where unique.last.map({ BytewiseComparator.compare($0, boundary) != 0 }) ?? true {
            unique.append(boundary)
        }
        // Sweep: tombstones sorted by start enter the active set as the sweep reaches them, and
        // leave once their end is at or before the fragment's start.
        let byStart = valid.sorted { BytewiseComparator.compare($0.start, $1.start) < 0 }
        var next = 0
        var active: [RangeTombstone] = []
        var result: [Fragment] = []
        for index in 0..<(unique.count - 1) {
            let start = unique[index]
            let end = unique[index + 1]
            while next < byStart.count && BytewiseComparator.compare(byStart[next].start, start) <= 0 {
                active.append(byStart[next])
                next += 1
            }
            active.removeAll { BytewiseComparator.compare($0.end, start) <= 0 }
            guard !active.isEmpty else { continue }
            let sequences = Array(Set(active.map(\.sequence.rawValue))).sorted(by: >)
            if var last = result.last, last.end == start, last.sequences == sequences {
                // Merge with an identical neighbour to keep the list short.
                last.end = end
                result[result.count - 1] = last
            } else {
                result.append(Fragment(start: start, end: end, sequences: sequences))
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
