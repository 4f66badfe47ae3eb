import Testing
import Encoding
import Memtable
import VFS

/// A plain reference model: every operation ever applied, searched naively.
struct ReferenceModel {
    struct Version { var sequence: UInt64; var kind: ValueKind; var value: [UInt8] }
    var versions: [[UInt8]: [Version]] = [:]
    var tombstones: [RangeTombstone] = []

    func get(_ key: [UInt8], at snapshot: UInt64) -> LookupResult {
        let point = versions[key]?.filter { $0.sequence <= snapshot }.max { $0.sequence < $1.sequence }
        let covering = tombstones.filter { $0.sequence.rawValue <= snapshot && $0.covers(key) }.map(\.sequence.rawValue).max()
        if let covering, covering > (point?.sequence ?? 0) { return .deleted }
        guard let point else { return .notFound }
        return point.kind == .put ? .value(point.value) : .deleted
    }

    /// Every point entry as an encoded internal key with its value, in internal-key order.
    var sortedEntries: [(key: [UInt8], value: [UInt8])] {
        versions.flatMap { key, list in
            list.map { (InternalKey(userKey: key, sequence: SequenceNumber(rawValue: $0.sequence), kind: $0.kind).encoded, $0.value) }
        }.sorted { InternalKey.lessThanEncoded($0.key, $1.key) }
    }
}

extension InternalKey {
    static func lessThanEncoded(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in InternalKeyComparator.compare(x, y) < 0 } }
    }
}

func collect(_ iterator: inout MemtableIterator, reverse: Bool = false) -> [(key: [UInt8], value: [UInt8])] {
    var result: [(key: [UInt8], value: [UInt8])] = []
    if reverse { iterator.seekToLast() } else { iterator.seekToFirst() }
    while iterator.isValid {
        result.append((Array(iterator.key), Array(iterator.value)))
        if reverse { iterator.prev() } else { iterator.next() }
    }
    return result
}

@Suite struct MemtableModelTests {
    @Test func twoHundredThousandRandomOperationsAgreeWithAReferenceModel() throws {
        var random = SplitMix64(seed: 2024)
        let memtable = try Memtable(capacity: 64 << 20)
        var model = ReferenceModel()
        let keySpace = 500
        func randomKey() -> [UInt8] { Array("key\(Int(random.next() % UInt64(keySpace)))".utf8) }
        var sequence: UInt64 = 0
        for _ in 0..<200_000 {
            sequence += 1
            let roll = random.next() % 100
            let key = randomKey()
            if roll < 65 {
                let value = Array("v\(sequence)".utf8)
                try memtable.put(key, value, sequence: SequenceNumber(rawValue: sequence))
                model.versions[key, default: []].append(.init(sequence: sequence, kind: .put, value: value))
            } else if roll < 98 {
                try memtable.delete(key, sequence: SequenceNumber(rawValue: sequence))
                model.versions[key, default: []].append(.init(sequence: sequence, kind: .delete, value: []))
            } else {
                var end = randomKey()
                if BytewiseComparator.compare(key, end) == 0 { end = key + [0] }
                let (start, stop) = BytewiseComparator.compare(key, end) < 0 ? (key, end) : (end, key)
                try memtable.insertRangeTombstone(start: start, end: stop, sequence: SequenceNumber(rawValue: sequence))
                model.tombstones.append(RangeTombstone(start: start, end: stop, sequence: SequenceNumber(rawValue: sequence)))
            }
        }
        #expect(memtable.maxSequence == SequenceNumber(rawValue: sequence))
        #expect(memtable.entryCount + memtable.rangeTombstoneCount == 200_000)

        // Point lookups at random snapshots, including the latest.
        var mismatches = 0
        for probe in 0..<20_000 {
            let key = randomKey()
            let snapshot = probe % 4 == 0 ? sequence : random.next() % (sequence + 1)
            if memtable.get(key, at: SequenceNumber(rawValue: snapshot)) != model.get(key, at: snapshot) { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // Full iteration, both directions, and seeks.
        let expected = model.sortedEntries
        var iterator = memtable.makeIterator()
        let forward = collect(&iterator)
        #expect(forward.count == expected.count)
        #expect(forward.elementsEqual(expected) { $0.key == $1.key && $0.value == $1.value })
        let backward = collect(&iterator, reverse: true)
        #expect(backward.elementsEqual(expected.reversed()) { $0.key == $1.key && $0.value == $1.value })
        for _ in 0..<2_000 {
            let target = InternalKey.seekKey(randomKey(), at: SequenceNumber(rawValue: random.next() % (sequence + 1)))
            let index = expected.firstIndex { !InternalKey.lessThanEncoded($0.key, target) }
            target.withUnsafeBytes { iterator.seek(to: $0) }
            #expect(iterator.isValid == (index != nil))
            if let index, iterator.isValid { #expect(Array(iterator.key) == expected[index].key) }
            let previous = expected.lastIndex { !InternalKey.lessThanEncoded(target, $0.key) }
            target.withUnsafeBytes { iterator.seekForPrev(to: $0) }
            #expect(iterator.isValid == (previous != nil))
            if let previous, iterator.isValid { #expect(Array(iterator.key) == expected[previous].key) }
        }

        // The tombstone stream is ordered by (start ASC, sequence DESC).
        var tombstones = memtable.makeRangeTombstoneIterator()
        let stored = collect(&tombstones)
        let expectedTombstones = model.tombstones.map { ($0.internalKey, $0.end) }.sorted { InternalKey.lessThanEncoded($0.0, $1.0) }
        #expect(stored.elementsEqual(expectedTombstones) { $0.key == $1.0 && $0.value == $1.1 })
    }

    @Test func theNewestOfPointVersionAndCoveringTombstoneWins() throws {
        let memtable = try Memtable(capacity: 1 << 20)
        let key = Array("k".utf8)
        try memtable.put(key, Array("v1".utf8), sequence: SequenceNumber(rawValue: 1))
        try memtable.insertRangeTombstone(start: Array("a".utf8), end: Array("m".utf8), sequence: SequenceNumber(rawValue: 2))
        try memtable.put(key, Array("v3".utf8), sequence: SequenceNumber(rawValue: 3))
        #expect(memtable.get(key, at: SequenceNumber(rawValue: 1)) == .value(Array("v1".utf8)))
        #expect(memtable.get(key, at: SequenceNumber(rawValue: 2)) == .deleted)
        #expect(memtable.get(key, at: SequenceNumber(rawValue: 3)) == .value(Array("v3".utf8)))
        #expect(memtable.get(Array("b".utf8), at: SequenceNumber(rawValue: 2)) == .deleted)
        #expect(memtable.get(Array("b".utf8), at: SequenceNumber(rawValue: 1)) == .notFound)
        #expect(memtable.get(Array("m".utf8)) == .notFound)  // the end is exclusive
        #expect(throws: StrataError.self) { try memtable.insertRangeTombstone(start: key, end: key, sequence: SequenceNumber(rawValue: 9)) }
    }

    /// Lookups agree with the model while range tombstones pile up past the point where the
    /// memtable stops scanning them and answers from cached fragments: gets interleaved with
    /// writes (the cache goes stale after every tombstone, and is rebuilt after enough stale
    /// lookups), bursts of gets (answered from a fresh cache), and a frozen memtable.
    @Test func lookupsAgreeWithTheModelAsRangeTombstonesPileUp() throws {
        var random = SplitMix64(seed: 77)
        let memtable = try Memtable(capacity: 16 << 20)
        var model = ReferenceModel()
        func randomKey() -> [UInt8] { Array("key\(1000 + Int(random.next() % 900))".utf8) }
        var sequence: UInt64 = 0
        var mismatches = 0
        func probe(_ count: Int) {
            for _ in 0..<count {
                let key = randomKey()
                let snapshot = random.next() % 3 == 0 ? sequence : random.next() % (sequence + 1)
                if memtable.get(key, at: SequenceNumber(rawValue: snapshot)) != model.get(key, at: snapshot) { mismatches += 1 }
            }
        }
        for round in 0..<2_000 {
            sequence += 1
            let key = randomKey()
            if random.next() % 3 == 0 {
                var end = randomKey()
                if end == key { end = key + [0] }
                let (start, stop) = BytewiseComparator.compare(key, end) < 0 ? (key, end) : (end, key)
                try memtable.insertRangeTombstone(start: start, end: stop, sequence: SequenceNumber(rawValue: sequence))
                model.tombstones.append(RangeTombstone(start: start, end: stop, sequence: SequenceNumber(rawValue: sequence)))
            } else {
                let value = Array("v\(sequence)".utf8)
                try memtable.put(key, value, sequence: SequenceNumber(rawValue: sequence))
                model.versions[key, default: []].append(.init(sequence: sequence, kind: .put, value: value))
            }
            probe(round % 100 == 0 ? 40 : 2)
        }
        #expect(memtable.rangeTombstoneCount > 550)
        let frozen = memtable.freeze()
        for _ in 0..<2_000 {
            let key = randomKey()
            let snapshot = random.next() % (sequence + 1)
            if frozen.get(key, at: SequenceNumber(rawValue: snapshot)) != model.get(key, at: snapshot) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
