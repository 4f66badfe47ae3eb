import Synchronization
import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct TableReaderTests {
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

    /// With `cacheIndexAndFilterBlocks`, the reader pins nothing: its index and filter live in
    /// the block cache like data blocks, and a lookup after they were evicted reads them again.
    @Test func indexAndFilterBlocksCanLiveInTheBlockCache() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1)
        let count = 5_000
        for index in 0..<count {
            try builder.add(key: InternalKey(userKey: Array("key\(String(index).leftPadded(to: 6))".utf8), sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: Array("v\(index)".utf8))
        }
        _ = try builder.finish()
        for mapped in [false, true] {
            // A cache big enough for the index and filter but far smaller than the table.
            let cache = BlockCache(capacity: 64 << 10, shardCount: 1)
            var options = TableReaderOptions(blockCache: cache)
            options.cacheIndexAndFilterBlocks = true
            options.useMappedReads = mapped
            let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem, options: options)
            // Opening validated both blocks through the cache.
            let afterOpen = cache.statistics
            if !mapped { #expect(afterOpen.inserts >= 2, "index and filter entered the cache") }
            for index in stride(from: 0, to: count, by: 7) {
                #expect(try reader.get(Array("key\(String(index).leftPadded(to: 6))".utf8)) == .value(Array("v\(index)".utf8)))
                #expect(try reader.get(Array("absent\(index)".utf8)) == .notFound)
            }
            let afterReads = cache.statistics
            #expect(afterReads.evictions > 0 || mapped, "data blocks pushed the index and filter out at least once")
            #expect(afterReads.usage <= afterReads.capacity)
        }
    }
}
