import Synchronization
import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct BlockCacheTests {
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
}
