#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import VFS

@Suite struct PosixMappedWritableFileTests {
    let fileSystem = PosixFileSystem()

    /// Appends land in the file at once (a reader sees them before any sync or close), across
    /// window boundaries; the file carries a reserved zero tail until close cuts it.
    @Test func appendsAreVisibleAtOnceAndCloseCutsTheReservedTail() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "log")
        let file = try fileSystem.openMappedWritable(path, mode: .createNew)
        var expected: [UInt8] = []
        var random = SplitMix64(seed: 7)
        // ~5 MiB in uneven pieces, so appends straddle the growing windows [0, 1), [1, 2),
        // [2, 4) and [4, 8) MiB.
        while expected.count < 5_000_000 {
            let piece = (0..<Int(random.next() % 70_000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            try file.append(bytes: piece)
            expected += piece
        }
        #expect(file.size == UInt64(expected.count))

        // Before close: the data is readable through the page cache, followed only by zeros.
        let onDisk = try fileSystem.fileSize(path)
        // Reserved up to the end of the window holding the last byte, and no further.
        #expect(onDisk == 8 << 20)
        let contents = try fileSystem.readFile(path)
        #expect(Array(contents[..<expected.count]) == expected)
        #expect(contents[expected.count...].allSatisfy { $0 == 0 })

        try file.sync()
        try file.close()
        try file.close()  // idempotent
        #expect(try fileSystem.readFile(path) == expected)
    }

    @Test func appendModeContinuesAndTruncateCuts() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "log")
        try fileSystem.writeFile(path, [1, 2, 3, 4, 5], sync: false)
        let file = try fileSystem.openMappedWritable(path, mode: .append)
        #expect(file.size == 5)
        try file.append(bytes: [6, 7])
        try file.truncate(to: 4)
        try file.append(bytes: [9])
        try file.close()
        #expect(try fileSystem.readFile(path) == [1, 2, 3, 4, 9])
    }

    @Test func createNewRefusesAnExistingFile() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "log")
        try fileSystem.writeFile(path, [1], sync: false)
        #expect(throws: StrataError.self) { _ = try fileSystem.openMappedWritable(path, mode: .createNew) }
    }

    /// A writer dropped without close (as at process exit) still leaves exactly its data.
    @Test func anAbandonedWriterLeavesItsData() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "log")
        do {
            let file = try fileSystem.openMappedWritable(path, mode: .createNew)
            try file.append(bytes: [1, 2, 3])
        }
        #expect(try fileSystem.readFile(path) == [1, 2, 3])
    }
}

@Suite struct PosixMappedReadableFileTests {
    let fileSystem = PosixFileSystem()

    @Test func aMappedFileExposesItsBytesAndReadsLikeAnyOther() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "table")
        let contents = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try fileSystem.writeFile(path, contents, sync: false)
        let file = try fileSystem.openMappedReadable(path)
        #expect(try file.size() == 10_000)
        let mapped = try #require(file.mappedBytes)
        #expect(Array(mapped) == contents)
        let buffer = RawBuffer(count: 100)
        #expect(try file.read(at: 9_950, into: buffer.mutableBytes) == 50)
        #expect(Array(buffer.bytes.prefix(50)) == Array(contents[9_950...]))
        #expect(try file.read(at: 20_000, into: buffer.mutableBytes) == 0)
        // A buffer borrowing the mapping keeps it alive after the file object is dropped.
        let borrowed = RawBuffer(borrowing: mapped.baseAddress! + 5_000, count: 10, owner: file)
        #expect(Array(borrowed.bytes) == Array(contents[5_000..<5_010]))
    }

    @Test func anEmptyFileFallsBackToOrdinaryReads() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "empty")
        try fileSystem.writeFile(path, [], sync: false)
        let file = try fileSystem.openMappedReadable(path)
        #expect(file.mappedBytes == nil)
        #expect(try file.size() == 0)
        #expect(throws: StrataError.self) { _ = try fileSystem.openMappedReadable(Path.join(scratch.path, "missing")) }
    }
}
