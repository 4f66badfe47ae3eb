import Synchronization
import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct TableCacheTests {
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
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
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
}
