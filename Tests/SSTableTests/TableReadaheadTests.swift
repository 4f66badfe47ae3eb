import Encoding
import SSTable
import StrataTestSupport
import Testing
import VFS

/// Automatic read-ahead (`TableReaderOptions.maxReadaheadBytes`): a forward scan hints the file
/// ahead of its reads in growing windows; other access patterns hint nothing.
@Suite struct TableReadaheadTests {
    /// A table of many small blocks (no compression, not mapped: the memory file system).
    func makeTable() throws -> (MemoryFileSystem, TableTestData, UInt64) {
        let data = TableTestData.generate(targetEntries: 6_000, tombstoneCount: 0, seed: 11)
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.blockSize = 1024
        options.compression = .none
        _ = try data.build(fileSystem: fileSystem, fileNumber: 1, options: options)
        return (fileSystem, data, try fileSystem.fileSize("/db/000001.sst"))
    }

    func open(_ fileSystem: MemoryFileSystem, readahead: Int) throws -> TableReader {
        var options = TableReaderOptions()
        options.maxReadaheadBytes = readahead
        return try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem, options: options)
    }

    @Test func aForwardScanHintsAheadInGrowingWindows() throws {
        let (fileSystem, data, size) = try makeTable()
        let reader = try open(fileSystem, readahead: 64 << 10)
        var iterator = reader.makeIterator()
        try iterator.seekToFirst()
        var count = 0
        while iterator.isValid {
            count += 1
            try iterator.next()
        }
        #expect(count == data.entries.count)
        let hints = fileSystem.prefetches
        #expect(hints.count >= 5, "\(hints.count) hints for a \(size)-byte table")
        #expect(hints.allSatisfy { $0.path == "/db/000001.sst" && $0.offset < size })
        // Windows of 8, 16, 32, then 64 KiB (the limit) at most; each starts where the previous
        // ended or further on: the hints never go back.
        #expect(Array(hints.prefix(4).map(\.count)) == [8 << 10, 16 << 10, 32 << 10, 64 << 10])
        #expect(hints.allSatisfy { $0.count <= 64 << 10 })
        for (previous, next) in zip(hints, hints.dropFirst()) {
            #expect(next.offset >= previous.offset + UInt64(previous.count))
        }
        // The hinted windows together cover the file past the first blocks.
        let covered = hints.reduce(0) { $0 + $1.count }
        #expect(UInt64(covered) + (16 << 10) >= size)
    }

    @Test func pointReadsSeeksAndBackwardScansHintNothing() throws {
        let (fileSystem, data, _) = try makeTable()
        let reader = try open(fileSystem, readahead: 256 << 10)
        for keyIndex in stride(from: 0, to: data.userKeyCount, by: 13) {
            _ = try reader.get(data.userKey(keyIndex))
        }
        var iterator = reader.makeIterator()
        for keyIndex in stride(from: 0, to: data.userKeyCount, by: 97) {
            let target = InternalKey.seekKey(data.userKey(keyIndex), at: .max)
            try target.withUnsafeBytes { try iterator.seek(to: $0) }
            #expect(iterator.isValid)
        }
        try iterator.seekToLast()
        while iterator.isValid { try iterator.prev() }
        #expect(fileSystem.prefetches.isEmpty)
    }

    @Test func aZeroLimitTurnsItOff() throws {
        let (fileSystem, _, _) = try makeTable()
        let reader = try open(fileSystem, readahead: 0)
        var iterator = reader.makeIterator()
        try iterator.seekToFirst()
        while iterator.isValid { try iterator.next() }
        #expect(fileSystem.prefetches.isEmpty)
    }
}
