import Testing
import Encoding
import Compaction

/// `VersionCollapse` on its own: entries fed in internal-key order, one decision each.
@Suite struct VersionCollapseTests {
    func entry(_ user: String, _ sequence: UInt64, _ kind: ValueKind = .put) -> [UInt8] {
        InternalKey(userKey: Array(user.utf8), sequence: SequenceNumber(rawValue: sequence), kind: kind).encoded
    }

    func decisions(
        _ entries: [[UInt8]], snapshots: [UInt64] = [], tombstones: [RangeTombstone] = [], keyMayExistBelow: Bool = false
    ) -> [VersionCollapse.Drop?] {
        var collapse = VersionCollapse(
            snapshots: snapshots.map { SequenceNumber(rawValue: $0) }, tombstones: RangeTombstoneFragments(tombstones),
            keyMayExistBelow: { _ in keyMayExistBelow })
        return entries.map { key in key.withUnsafeBytes { collapse.decide($0) } }
    }

    @Test func withoutSnapshotsOnlyTheNewestVersionOfEachKeySurvives() {
        let result = decisions([entry("a", 9), entry("a", 5), entry("a", 2), entry("b", 7)])
        #expect(result == [nil, .shadowed, .shadowed, nil])
    }

    @Test func aSnapshotBetweenTwoVersionsKeepsTheOlderOne() {
        // Snapshot 6 sees a@5 (not a@9); nobody sees a@2.
        #expect(decisions([entry("a", 9), entry("a", 5), entry("a", 2)], snapshots: [6]) == [nil, nil, .shadowed])
        // Stripes: sequence q belongs to the first snapshot ≥ q.
        var collapse = VersionCollapse(snapshots: [SequenceNumber(rawValue: 10), SequenceNumber(rawValue: 20)], tombstones: RangeTombstoneFragments([]), keyMayExistBelow: { _ in true })
        #expect(collapse.stripe(1) == 0 && collapse.stripe(10) == 0 && collapse.stripe(11) == 1 && collapse.stripe(21) == 2)
        _ = entry("x", 1).withUnsafeBytes { collapse.decide($0) }
    }

    @Test func aNewerRangeTombstoneInTheSameStripeDropsTheVersionsItCovers() {
        let tombstone = RangeTombstone(start: Array("a".utf8), end: Array("c".utf8), sequence: SequenceNumber(rawValue: 8))
        // b@5 is older than the tombstone: hidden from every reader, dropped.
        #expect(decisions([entry("b", 5)], tombstones: [tombstone]) == [.coveredByRangeTombstone])
        // b@9 is newer: kept. d@5 lies outside the range: kept.
        #expect(decisions([entry("b", 9), entry("d", 5)], tombstones: [tombstone]) == [nil, nil])
        // A snapshot at 6 sees b@5 but not the tombstone: b@5 stays.
        #expect(decisions([entry("b", 5)], snapshots: [6], tombstones: [tombstone]) == [nil])
    }

    @Test func aDeleteVisibleToEverySnapshotIsDroppedOnlyWhenNothingOlderCanExistBelow() {
        #expect(decisions([entry("a", 4, .delete), entry("a", 2)], keyMayExistBelow: false) == [.obsoleteDelete, .shadowed])
        // Older data below the output level: the delete must stay to hide it.
        #expect(decisions([entry("a", 4, .delete)], keyMayExistBelow: true) == [nil])
        // A snapshot taken before the delete still needs the old version, so the delete stays too.
        #expect(decisions([entry("a", 4, .delete), entry("a", 2)], snapshots: [3], keyMayExistBelow: false) == [nil, nil])
    }
}
