import Encoding

/// Decides, entry by entry of a compaction's merged input (internal-key order), which versions a
/// reader could still see and which can be dropped.
///
/// **Snapshot stripes.** With live snapshots `s₀ < s₁ < … < sₙ₋₁`, the stripe of a sequence `q`
/// is the index of the first snapshot ≥ `q` (or `n`, the "latest" stripe, when `q` is above all
/// snapshots). Two versions `a > b` of a key are in the same stripe exactly when no snapshot lies
/// in `[b, a)`: then every reader that could see `b` also sees the newer `a`, so `b` is invisible.
///
/// The rules, in order:
/// 1. **Shadowed**: an older version in the same stripe as a newer one of the same key is dropped.
/// 2. **Covered**: a version covered by a range tombstone with a larger sequence in the same stripe
///    is dropped (no reader sees it without also seeing the tombstone). This is the readers'
///    `RangeTombstoneRule.hides` applied per stripe: every snapshot in the stripe sees the
///    tombstone, and for each of them it hides the version, so no reader can see it.
/// 3. **Obsolete delete**: a point delete in stripe 0 (visible to every snapshot) is dropped when
///    no older version of the key can exist below the output level; the older versions in its
///    stripe are dropped by rule 1.
/// Everything else is kept.
package struct VersionCollapse {
    /// Why an entry was dropped.
    package enum Drop: Equatable {
        case shadowed
        case coveredByRangeTombstone
        case obsoleteDelete
    }

    let snapshots: [UInt64]
    let tombstones: RangeTombstoneFragments
    /// `true` when an older version of the user key may exist below the output level.
    let keyMayExistBelow: (UnsafeRawBufferPointer) -> Bool

    private var currentUserKey: [UInt8] = []
    private var hasCurrent = false
    private var lastStripe = -1

    package init(snapshots: [SequenceNumber], tombstones: RangeTombstoneFragments, keyMayExistBelow: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.snapshots = snapshots.map(\.rawValue).sorted()
        self.tombstones = tombstones
        self.keyMayExistBelow = keyMayExistBelow
    }

    /// The stripe of sequence `sequence`.
    package func stripe(_ sequence: UInt64) -> Int {
        var low = 0
        var high = snapshots.count
        while low < high {
            let middle = (low + high) / 2
            if snapshots[middle] < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// `nil` to keep the entry with internal key `key`, or why to drop it.
    package mutating func decide(_ key: UnsafeRawBufferPointer) -> Drop? {
        let userKey = InternalKey.userKey(of: key)
        let trailer = InternalKey.trailer(of: key)
        let sequence = trailer >> 8
        if !hasCurrent || currentUserKey.withUnsafeBytes({ BytewiseComparator.compare($0, userKey) }) != 0 {
            currentUserKey.removeAll(keepingCapacity: true)
            currentUserKey.append(contentsOf: userKey)
            hasCurrent = true
            lastStripe = -1
        }
        let stripe = stripe(sequence)
        if stripe == lastStripe { return .shadowed }
        lastStripe = stripe
        if !tombstones.isEmpty, let covering = tombstones.smallestCovering(userKey, above: sequence), self.stripe(covering) == stripe {
            return .coveredByRangeTombstone
        }
        if UInt8(truncatingIfNeeded: trailer) == ValueKind.delete.rawValue && stripe == 0 && !keyMayExistBelow(userKey) {
            return .obsoleteDelete
        }
        return nil
    }
}

extension RangeTombstoneFragments {
    /// The smallest sequence above `sequence` among the tombstones covering `userKey`: the one
    /// that matters for deciding whether the version at `sequence` is hidden.
    func smallestCovering(_ userKey: UnsafeRawBufferPointer, above sequence: UInt64) -> UInt64? {
        guard let fragment = fragment(containing: userKey) else { return nil }
        // Sequences are sorted descending: the last one still above `sequence`.
        return fragment.sequences.last { $0 > sequence }
    }
}
