import Encoding
import SSTable
import VFS
import StrataTestSupport

/// A generated table's contents, kept compactly: user keys in one flat buffer, entries as
/// (key index, sequence, kind), values derived from the sequence so they need no storage.
struct TableTestData {
    var keyBytes: [UInt8] = []
    var keyOffsets: [Int] = [0]
    /// Entries in internal-key order: key index ascending, sequence descending.
    var entries: [(key: Int32, sequence: UInt64, kind: ValueKind)] = []
    var tombstones: [RangeTombstone] = []
    var maxSequence: UInt64 = 0

    var userKeyCount: Int { keyOffsets.count - 1 }

    func userKey(_ index: Int) -> [UInt8] { Array(keyBytes[keyOffsets[index]..<keyOffsets[index + 1]]) }

    /// The value of the put at `sequence`: 99% of values are 0–100 bytes, 1% up to 4 KiB.
    static func value(_ sequence: UInt64) -> [UInt8] {
        var state = sequence &* 0x9E37_79B9_7F4A_7C15 | 1
        state ^= state >> 29
        let length = state % 100 == 0 ? Int((state >> 8) % 4097) : Int((state >> 16) % 101)
        return (0..<length).map { UInt8(truncatingIfNeeded: (state >> UInt64($0 % 7 * 8)) &+ UInt64($0)) }
    }

    func internalKey(_ entry: Int) -> [UInt8] {
        let (key, sequence, kind) = entries[entry]
        return InternalKey(userKey: userKey(Int(key)), sequence: SequenceNumber(rawValue: sequence), kind: kind).encoded
    }

    func value(ofEntry entry: Int) -> [UInt8] {
        entries[entry].kind == .put ? TableTestData.value(entries[entry].sequence) : []
    }

    /// Random distinct user keys of 8–64 bytes, 1–5 versions each (85% puts), and `tombstoneCount`
    /// range tombstones, with sequence numbers shuffled across everything.
    static func generate(targetEntries: Int, tombstoneCount: Int, seed: UInt64) -> TableTestData {
        var random = SplitMix64(seed: seed)
        var data = TableTestData()
        var keys: [[UInt8]] = []
        var estimated = 0
        while estimated < targetEntries {
            let length = 8 + Int(random.next() % 57)
            // A small alphabet for the first bytes makes shared prefixes common.
            keys.append((0..<length).map { $0 < 3 ? UInt8(random.next() % 4) : UInt8(truncatingIfNeeded: random.next()) })
            estimated += 3
        }
        keys.sort { BytewiseComparator.compare($0, $1) < 0 }
        var unique: [[UInt8]] = []
        for key in keys where unique.last != key { unique.append(key) }
        let versions = unique.map { _ in 1 + Int(random.next() % 5) }
        let total = versions.reduce(0, +) + tombstoneCount
        var sequences = Array(1...UInt64(total))
        sequences.shuffle(using: &random)
        var next = 0
        for (index, key) in unique.enumerated() {
            data.keyBytes.append(contentsOf: key)
            data.keyOffsets.append(data.keyBytes.count)
            var mine = sequences[next..<(next + versions[index])].sorted(by: >)
            next += versions[index]
            for sequence in mine {
                data.entries.append((Int32(index), sequence, random.next() % 100 < 85 ? .put : .delete))
            }
            mine.removeAll()
        }
        for _ in 0..<tombstoneCount {
            let a = Int(random.next() % UInt64(unique.count))
            let b = min(unique.count - 1, a + 1 + Int(random.next() % 2000))
            data.tombstones.append(RangeTombstone(start: unique[a], end: unique[b], sequence: SequenceNumber(rawValue: sequences[next])))
            next += 1
        }
        data.maxSequence = UInt64(total)
        return data
    }

    /// Builds the table on `fileSystem` under `/db`.
    func build(fileSystem: any FileSystem, directory: String = "/db", fileNumber: UInt64, options: TableBuilderOptions) throws -> TableMetadata {
        let builder = try TableBuilder(fileSystem: fileSystem, directory: directory, fileNumber: fileNumber, options: options)
        var key: [UInt8] = []
        for entry in entries.indices {
            let (keyIndex, sequence, kind) = entries[entry]
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: keyBytes[keyOffsets[Int(keyIndex)]..<keyOffsets[Int(keyIndex) + 1]])
            withUnsafeBytes(of: InternalKey.packTrailer(SequenceNumber(rawValue: sequence), kind).littleEndian) { key.append(contentsOf: $0) }
            try builder.add(key: key, value: kind == .put ? TableTestData.value(sequence) : [])
        }
        for tombstone in tombstones { try builder.addRangeTombstone(tombstone) }
        return try builder.finish()
    }

    /// The reference answer for a point lookup.
    func expected(_ userKey: [UInt8], at snapshot: UInt64) -> LookupResult {
        let index = lowerBoundKey(userKey)
        var point: (sequence: UInt64, kind: ValueKind)? = nil
        if index < userKeyCount && self.userKey(index) == userKey {
            let first = entries.partitionPoint { Int($0.key) < index }
            var cursor = first
            while cursor < entries.count && Int(entries[cursor].key) == index {
                if entries[cursor].sequence <= snapshot {
                    point = (entries[cursor].sequence, entries[cursor].kind)
                    break
                }
                cursor += 1
            }
        }
        let covering = tombstones.filter { $0.sequence.rawValue <= snapshot && $0.covers(userKey) }.map(\.sequence.rawValue).max()
        if let covering, covering > (point?.sequence ?? 0) { return .deleted }
        guard let point else { return .notFound }
        return point.kind == .put ? .value(TableTestData.value(point.sequence)) : .deleted
    }

    /// The first user key index ≥ `userKey`.
    func lowerBoundKey(_ userKey: [UInt8]) -> Int {
        var low = 0
        var high = userKeyCount
        while low < high {
            let middle = (low + high) / 2
            if BytewiseComparator.compare(self.userKey(middle), userKey) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first entry index whose user key is ≥ `userKey`.
    func firstEntry(atOrAfter userKey: [UInt8]) -> Int {
        let keyIndex = lowerBoundKey(userKey)
        return entries.partitionPoint { Int($0.key) < keyIndex }
    }
}

extension Array {
    /// The first index whose element does not satisfy `belongsBefore` (the array is partitioned).
    func partitionPoint(_ belongsBefore: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsBefore(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
