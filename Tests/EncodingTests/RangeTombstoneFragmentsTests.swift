import Testing
import Encoding

@Suite struct RangeTombstoneFragmentsTests {
    @Test func tombstoneFragmentsAnswerNewestCoveringAtEverySnapshot() {
        var state: UInt64 = 12
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var tombstones: [RangeTombstone] = []
        for sequence in 1...300 {
            let a = UInt8(next() % 200)
            let b = a + 1 + UInt8(next() % 50)
            tombstones.append(RangeTombstone(start: [a], end: [b], sequence: SequenceNumber(rawValue: UInt64(sequence))))
        }
        let fragments = RangeTombstoneFragments(tombstones)
        for key in 0...255 {
            for snapshot in [UInt64(0), 1, 50, 150, 299, 300, 1_000] {
                let expected = tombstones.filter { $0.sequence.rawValue <= snapshot && $0.covers([UInt8(key)]) }.map(\.sequence.rawValue).max()
                #expect(fragments.newestCovering([UInt8(key)], at: SequenceNumber(rawValue: snapshot)) == expected, "key \(key) @\(snapshot)")
            }
        }
        for (a, b) in zip(fragments.fragments, fragments.fragments.dropFirst()) {
            #expect(BytewiseComparator.compare(a.end, b.start) <= 0)  // no overlap
        }
    }

    @Test func aTombstoneHidesExactlyTheOlderPointVersions() {
        #expect(RangeTombstoneRule.hides(9, pointSequence: 5))
        #expect(!RangeTombstoneRule.hides(5, pointSequence: 9))
        #expect(!RangeTombstoneRule.hides(nil, pointSequence: 0))
    }

    @Test func resolvingALayersLookupAgainstItsTombstones() {
        let value = LookupResult.value([1])
        // No tombstone: the point answer stands.
        #expect(RangeTombstoneRule.resolve(value, pointSequence: 3, coveringTombstone: nil) == value)
        #expect(RangeTombstoneRule.resolve(.deleted, pointSequence: 3, coveringTombstone: nil) == .deleted)
        #expect(RangeTombstoneRule.resolve(.notFound, pointSequence: 0, coveringTombstone: nil) == .notFound)
        // A newer tombstone hides the put; an older one does not.
        #expect(RangeTombstoneRule.resolve(value, pointSequence: 3, coveringTombstone: 4) == .deleted)
        #expect(RangeTombstoneRule.resolve(value, pointSequence: 3, coveringTombstone: 2) == value)
        // A tombstone with nothing under it still stops the search in older layers.
        #expect(RangeTombstoneRule.resolve(.notFound, pointSequence: 0, coveringTombstone: 2) == .deleted)
    }
}
