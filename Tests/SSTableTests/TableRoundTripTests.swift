import Testing
import Encoding
import Memtable
import SSTable
import StrataTestSupport
import VFS

@Suite struct TableRoundTripTests {
    static let codecs: [Compression] = [.none, .lz4, .zstd(level: 1)]

    @Test(arguments: codecs)
    func aMillionEntriesComeBackExactly(compression: Compression) throws {
        let data = TableTestData.generate(targetEntries: 1_000_000, tombstoneCount: 60, seed: 11)
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.compression = compression
        let metadata = try data.build(fileSystem: fileSystem, fileNumber: 7, options: options)
        #expect(metadata.entryCount == UInt64(data.entries.count))
        #expect(metadata.rangeDeletionCount == 60)
        #expect(metadata.largestSequence == SequenceNumber(rawValue: data.maxSequence))
        #expect(data.entries.count >= 900_000)
        #expect(!fileSystem.exists("/db/000007.sst.tmp"))

        let reader = try TableReader.open(path: "/db/000007.sst", fileNumber: 7, fileSystem: fileSystem, options: TableReaderOptions(blockCache: BlockCache(capacity: 8 << 20)))
        #expect(reader.properties.codec == compression.description)
        #expect(reader.rangeTombstones.count == 60)
        #expect(reader.fileSize == metadata.fileSize)

        // Full forward and reverse scans.
        var iterator = reader.makeIterator()
        try iterator.seekToFirst()
        var index = 0
        var wrong = 0
        while iterator.isValid {
            if Array(iterator.key) != data.internalKey(index) || Array(iterator.value) != data.value(ofEntry: index) { wrong += 1 }
            index += 1
            try iterator.next()
        }
        #expect(index == data.entries.count && wrong == 0)
        try iterator.seekToLast()
        index = data.entries.count - 1
        while iterator.isValid {
            if Array(iterator.key) != data.internalKey(index) { wrong += 1 }
            index -= 1
            try iterator.prev()
        }
        #expect(index == -1 && wrong == 0)

        // Point lookups at random snapshots, for present and absent keys.
        var random = SplitMix64(seed: 99)
        var mismatches = 0
        for probe in 0..<30_000 {
            var key = data.userKey(Int(random.next() % UInt64(data.userKeyCount)))
            if probe % 5 == 0 { key.append(UInt8(truncatingIfNeeded: random.next())) }  // mostly absent
            let snapshot = probe % 3 == 0 ? UInt64.max >> 8 : random.next() % (data.maxSequence + 1)
            if try reader.get(key, at: SequenceNumber(rawValue: snapshot)) != data.expected(key, at: snapshot) { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // Bounded scans in both directions.
        for _ in 0..<150 {
            let a = Int(random.next() % UInt64(data.userKeyCount))
            let b = min(data.userKeyCount - 1, a + Int(random.next() % 3000))
            let lower = data.userKey(a)
            let upper = data.userKey(b)
            let first = data.firstEntry(atOrAfter: lower)
            let end = data.firstEntry(atOrAfter: upper)
            var bounded = reader.makeIterator(lowerBound: lower, upperBound: upper)
            try bounded.seekToFirst()
            var position = first
            while bounded.isValid {
                if position >= end || Array(bounded.key) != data.internalKey(position) { wrong += 1 }
                position += 1
                try bounded.next()
            }
            #expect(position == end)
            try bounded.seekToLast()
            position = end - 1
            while bounded.isValid {
                if position < first || Array(bounded.key) != data.internalKey(position) { wrong += 1 }
                position -= 1
                try bounded.prev()
            }
            #expect(position == first - 1)
        }
        #expect(wrong == 0)

        // Seeks land on the first entry ≥ the target.
        for _ in 0..<3_000 {
            let entry = Int(random.next() % UInt64(data.entries.count))
            let target = data.internalKey(entry)
            try target.withUnsafeBytes { try iterator.seek(to: $0) }
            #expect(iterator.isValid && Array(iterator.key) == target)
            try target.withUnsafeBytes { try iterator.seekForPrev(to: $0) }
            #expect(iterator.isValid && Array(iterator.key) == target)
        }
    }

    @Test func aFlushedMemtableBecomesATableWithNoTranslation() throws {
        let memtable = try Memtable(capacity: 8 << 20)
        for index in 0..<5_000 {
            try memtable.put(Array("key\(index % 1_000)".utf8), Array("v\(index)".utf8), sequence: SequenceNumber(rawValue: UInt64(index + 1)))
        }
        try memtable.insertRangeTombstone(start: Array("key5".utf8), end: Array("key6".utf8), sequence: SequenceNumber(rawValue: 5_001))
        try memtable.delete(Array("key7".utf8), sequence: SequenceNumber(rawValue: 5_002))
        let frozen = memtable.freeze()
        let fileSystem = try memoryDirectory()
        let metadata = try TableBuilder.build(from: frozen.flushSource, fileSystem: fileSystem, directory: "/db", fileNumber: 3)
        #expect(metadata.entryCount == 5_001)  // every version, not collapsed
        #expect(metadata.rangeDeletionCount == 1)
        let reader = try TableReader.open(path: "/db/000003.sst", fileNumber: 3, fileSystem: fileSystem)
        for probe in ["key1", "key5", "key55", "key7", "key999", "key6", "nokey"] {
            for snapshot in [UInt64(10), 3_000, 5_000, 5_001, 5_002, UInt64.max >> 8] {
                let sequence = SequenceNumber(rawValue: snapshot)
                #expect(try reader.get(Array(probe.utf8), at: sequence) == frozen.get(Array(probe.utf8), at: sequence), "\(probe)@\(snapshot)")
            }
        }
        // The table's key range covers the tombstone's end sentinel.
        let largest = try InternalKey(decoding: metadata.largest)
        #expect(largest.userKey == Array("key999".utf8))
        let smallest = try InternalKey(decoding: metadata.smallest)
        #expect(smallest.userKey == Array("key0".utf8))
    }

    @Test func tombstonesWidenTheKeyRangeToTheirEndSentinel() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1)
        try builder.add(key: InternalKey(userKey: Array("m".utf8), sequence: SequenceNumber(rawValue: 5), kind: .put).encoded, value: [1])
        try builder.addRangeTombstone(RangeTombstone(start: Array("a".utf8), end: Array("z".utf8), sequence: SequenceNumber(rawValue: 9)))
        let metadata = try builder.finish()
        #expect(try InternalKey(decoding: metadata.smallest) == InternalKey(userKey: Array("a".utf8), sequence: SequenceNumber(rawValue: 9), kind: .rangeDelete))
        #expect(try InternalKey(decoding: metadata.largest) == InternalKey(userKey: Array("z".utf8), sequence: .max, kind: .rangeDelete))
        #expect(metadata.smallestSequence == SequenceNumber(rawValue: 5) && metadata.largestSequence == SequenceNumber(rawValue: 9))
    }

    @Test func anEmptyTableIsRefusedAndAbandonRemovesTheTemporaryFile() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 4)
        #expect(throws: StrataError.self) { try builder.finish() }
        builder.abandon()
        #expect(try fileSystem.listDirectory("/db").isEmpty)
    }
}
