import Testing
import Compaction
import Encoding
import Memtable
import VFS

@Suite struct MergingIteratorTests {
    /// Random sources over a small key space: duplicates of user keys, every kind.
    func makeSources(_ count: Int, seed: UInt64) throws -> (sources: [MemtableIterator], all: [[UInt8]]) {
        var random = SplitMix64(seed: seed)
        var sequence: UInt64 = 0
        var all: [[UInt8]] = []
        var sources: [MemtableIterator] = []
        for _ in 0..<count {
            let memtable = try Memtable(capacity: 1 << 20)
            for _ in 0..<Int(random.next() % 400) {
                sequence += 1
                let user = key(Int(random.next() % 150))
                let kind: ValueKind = random.next() % 3 == 0 ? .delete : .put
                if kind == .put { try memtable.put(user, [UInt8(sequence & 0xFF)], sequence: SequenceNumber(rawValue: sequence)) } else { try memtable.delete(user, sequence: SequenceNumber(rawValue: sequence)) }
                all.append(InternalKey(userKey: user, sequence: SequenceNumber(rawValue: sequence), kind: kind).encoded)
            }
            sources.append(memtable.makeIterator())
        }
        all.sort { InternalKeyComparator.compareArrays($0, $1) < 0 }
        return (sources, all)
    }

    @Test(arguments: [1, 2, 7, 16])
    func mergesLikeSortingEverythingInBothDirections(sourceCount: Int) throws {
        let (sources, all) = try makeSources(sourceCount, seed: UInt64(sourceCount))
        var merged = MergingIterator(sources)
        var forward: [[UInt8]] = []
        try merged.seekToFirst()
        while merged.isValid {
            forward.append(Array(merged.key))
            try merged.next()
        }
        #expect(forward == all)
        var backward: [[UInt8]] = []
        try merged.seekToLast()
        while merged.isValid {
            backward.append(Array(merged.key))
            try merged.prev()
        }
        #expect(backward == all.reversed())
    }

    @Test func directionSwitchesAndSeeksFollowAReferenceCursor() throws {
        let (sources, all) = try makeSources(6, seed: 77)
        var merged = MergingIterator(sources)
        var random = SplitMix64(seed: 5)
        var position = 0  // index into `all`; all.count means invalid
        try merged.seekToFirst()
        for step in 0..<5_000 {
            switch random.next() % 10 {
            case 0:
                let target = InternalKey.seekKey(key(Int(random.next() % 160)), at: SequenceNumber(rawValue: random.next() % 3_000))
                try target.withUnsafeBytes { try merged.seek(to: $0) }
                position = all.firstIndex { InternalKeyComparator.compareArrays($0, target) >= 0 } ?? all.count
            case 1:
                let target = InternalKey.seekKey(key(Int(random.next() % 160)), at: SequenceNumber(rawValue: random.next() % 3_000))
                try target.withUnsafeBytes { try merged.seekForPrev(to: $0) }
                position = all.lastIndex { InternalKeyComparator.compareArrays($0, target) <= 0 } ?? all.count
            case 2...5:
                guard position < all.count else { continue }
                try merged.next()
                position += 1
            default:
                guard position < all.count else { continue }
                try merged.prev()
                position = position == 0 ? all.count : position - 1
            }
            #expect(merged.isValid == (position < all.count), "step \(step)")
            if merged.isValid && position < all.count {
                #expect(Array(merged.key) == all[position], "step \(step)")
            }
            if !merged.isValid { try merged.seekToFirst(); position = 0 }
        }
    }
}
