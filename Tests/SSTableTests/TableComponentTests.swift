import Synchronization
import Testing
import Encoding
import Memtable
import SSTable
import StrataTestSupport
import VFS

@Suite struct TableComponentTests {
    @Test func bloomFalsePositiveRateAtTenBitsPerKeyIsAboutOnePercent() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1)
        let count = 200_000
        for index in 0..<count {
            try builder.add(key: InternalKey(userKey: Array("key\(String(index).leftPadded(to: 8))".utf8), sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: [])
        }
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        var falsePositives = 0
        var negatives = 0
        for index in 0..<count {
            let present = Array("key\(String(index).leftPadded(to: 8))".utf8)
            if try !present.withUnsafeBytes({ try reader.mayContain($0) }) { negatives += 1 }
            let absent = Array("absent\(index)".utf8)
            if try absent.withUnsafeBytes({ try reader.mayContain($0) }) { falsePositives += 1 }
        }
        let rate = Double(falsePositives) / Double(count)
        print("bloom filter at 10 bits/key: false-positive rate \(rate * 100)% over \(count) absent keys")
        #expect(negatives == 0)  // never a false negative
        #expect(rate >= 0.005 && rate <= 0.015)
    }

    @Test func noFilterWhenBitsPerKeyIsZero() throws {
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.bloomBitsPerKey = 0
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1, options: options)
        try builder.add(key: InternalKey(userKey: [1], sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: [2])
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        #expect(reader.properties.filterBitsPerKey == 0)
        #expect(try [9].withUnsafeBytes { try reader.mayContain($0) })
        #expect(try reader.get([1]) == .value([2]))
    }

    @Test func theBlockCacheStaysWithinCapacityUnderConcurrentReaders() throws {
        let data = TableTestData.generate(targetEntries: 200_000, tombstoneCount: 0, seed: 8)
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.compression = .none
        let metadata = try data.build(fileSystem: fileSystem, fileNumber: 1, options: options)
        let cache = BlockCache(capacity: 1 << 20)
        #expect(metadata.fileSize > 8 << 20)  // the table is many times the cache
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem, options: TableReaderOptions(blockCache: cache))
        let wrong = Atomic<Int>(0)
        let maxUsage = Atomic<Int>(0)
        Threads.run(4) { thread in
            var random = SplitMix64(seed: UInt64(thread))
            for probe in 0..<20_000 {
                // Skewed: half the reads go to 5% of the keys, so the cache has something to keep.
                let range = probe % 2 == 0 ? data.userKeyCount / 20 : data.userKeyCount
                let key = data.userKey(Int(random.next() % UInt64(range)))
                if (try? reader.get(key)) != data.expected(key, at: UInt64.max >> 8) { wrong.add(1, ordering: .relaxed) }
                if probe % 1000 == 0 {
                    let usage = cache.statistics.usage
                    _ = maxUsage.max(usage, ordering: .relaxed)
                }
            }
        }
        let statistics = cache.statistics
        print("block cache: capacity \(statistics.capacity), usage \(statistics.usage), hit rate \(Int(statistics.hitRate * 100))%, \(statistics.evictions) evictions")
        #expect(wrong.load(ordering: .relaxed) == 0)
        #expect(statistics.usage <= statistics.capacity)
        #expect(maxUsage.load(ordering: .relaxed) <= statistics.capacity)
        #expect(statistics.evictions > 0 && statistics.hits > 0)
    }

    @Test func theTableCacheBoundsOpenFilesAndChecksSizes() throws {
        let fileSystem = try memoryDirectory()
        for number in 1...5 {
            let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: UInt64(number))
            try builder.add(key: InternalKey(userKey: [UInt8(number)], sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: [UInt8(number)])
            _ = try builder.finish()
        }
        let cache = TableCache(fileSystem: fileSystem, directory: "/db", maxOpenFiles: 3)
        for round in 0..<3 {
            for number in 1...5 {
                #expect(try cache.reader(for: UInt64(number)).get([UInt8(number)]) == .value([UInt8(number)]), "round \(round)")
                #expect(cache.openCount <= 3)
            }
        }
        let size = try fileSystem.fileSize("/db/000002.sst")
        cache.evict(2)
        let error = #expect(throws: StrataError.self) { try cache.reader(for: 2, expectedSize: size + 1) }
        #expect(error?.isCorruption == true)
        #expect(throws: StrataError.self) { try cache.reader(for: 42) }  // missing file
    }

    /// Releasing a mapped table's resident pages (what a compaction does to its inputs once they
    /// leave the current version) never disturbs readers still using it: they keep reading the
    /// same bytes, concurrently with repeated releases.
    @Test func releasingResidentPagesLeavesReadersCorrect() throws {
        let scratch = try TemporaryDirectory()
        let fileSystem = PosixFileSystem()
        let data = TableTestData.generate(targetEntries: 20_000, tombstoneCount: 3, seed: 21)
        var options = TableBuilderOptions()
        options.compression = .none
        _ = try data.build(fileSystem: fileSystem, directory: scratch.path, fileNumber: 7, options: options)
        let cache = TableCache(fileSystem: fileSystem, directory: scratch.path)
        let reader = try cache.reader(for: 7)
        #expect(reader.file.mappedBytes != nil)
        let stop = Atomic<Bool>(false)
        let mismatches = Atomic<Int>(0)
        Threads.run(3) { thread in
            if thread == 0 {
                for _ in 0..<200 {
                    cache.releaseResidentPages(of: 7)
                    cache.releaseResidentPages(of: 99)  // not open: nothing to do
                }
                stop.store(true, ordering: .releasing)
                return
            }
            var passes = 0
            while !stop.load(ordering: .acquiring) || passes < 2 {
                do {
                    var iterator = reader.makeIterator()
                    try iterator.seekToFirst()
                    var index = 0
                    while iterator.isValid {
                        if index >= data.entries.count || Array(iterator.key) != data.internalKey(index) || Array(iterator.value) != data.value(ofEntry: index) {
                            mismatches.add(1, ordering: .relaxed)
                            break
                        }
                        index += 1
                        try iterator.next()
                    }
                    if index != data.entries.count { mismatches.add(1, ordering: .relaxed) }
                    for keyIndex in stride(from: thread, to: data.userKeyCount, by: 97) {
                        let key = data.userKey(keyIndex)
                        if try reader.get(key) != data.expected(key, at: UInt64.max >> 8) { mismatches.add(1, ordering: .relaxed) }
                    }
                } catch {
                    mismatches.add(1, ordering: .relaxed)
                }
                passes += 1
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test func separatorsAreShortAndBetweenTheirNeighbours() throws {
        // Through the public path: a table with one-entry blocks, then seeks between keys.
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.blockSize = 1
        let keys = ["abc", "abcd", "abe", "abzzzz", "b", "b\u{FF}\u{FF}", "c", "\u{FF}\u{FF}"].map { Array($0.utf8) }
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1, options: options)
        for (index, key) in keys.enumerated() {
            for version in (1...3).reversed() {
                try builder.add(key: InternalKey(userKey: key, sequence: SequenceNumber(rawValue: UInt64(index * 10 + version)), kind: .put).encoded, value: [UInt8(index)])
            }
        }
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        #expect(reader.properties.dataBlocks == UInt64(keys.count * 3))
        for (index, key) in keys.enumerated() {
            #expect(try reader.get(key) == .value([UInt8(index)]))
            #expect(try reader.get(key + [0]) == .notFound)
        }
        #expect(try reader.get(Array("ab".utf8)) == .notFound)
        #expect(try reader.get([0xFF, 0xFF, 0xFF]) == .notFound)
    }

    @Test func keysLongerThanTheLookupScratchBufferAreFound() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1)
        let keys = (0..<50).map { index in [UInt8](repeating: 0x61, count: 700) + Array(String(index).leftPadded(to: 3).utf8) }
        for (index, key) in keys.enumerated() {
            try builder.add(key: InternalKey(userKey: key, sequence: SequenceNumber(rawValue: UInt64(index + 1)), kind: .put).encoded, value: [UInt8(index)])
        }
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        for (index, key) in keys.enumerated() {
            #expect(try reader.get(key) == .value([UInt8(index)]))
            #expect(try reader.get(key + [0]) == .notFound)
        }
    }

    @Test func tombstoneFragmentsAnswerNewestCoveringAtEverySnapshot() {
        var random = SplitMix64(seed: 12)
        var tombstones: [RangeTombstone] = []
        for sequence in 1...300 {
            let a = UInt8(random.next() % 200)
            let b = a + 1 + UInt8(random.next() % 50)
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
}
