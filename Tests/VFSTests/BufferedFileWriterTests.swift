import Testing
import Encoding
import VFS

@Suite struct BufferedFileWriterTests {
    func freshFile(_ fileSystem: any FileSystem, _ path: String = "/f") throws -> any WritableFile {
        try fileSystem.openWritable(path, mode: .createNew)
    }

    @Test func smallAppendsStayBufferedUntilFlushAndLandInOrder() throws {
        let fileSystem = MemoryFileSystem()
        let writer = BufferedFileWriter(try freshFile(fileSystem), bufferSize: 4096)
        var expected: [UInt8] = []
        for index in 0..<100 {
            let record = [UInt8](repeating: UInt8(index), count: 10)
            try writer.append(record)
            expected += record
        }
        #expect(writer.offset == 1000)
        #expect(try fileSystem.fileSize("/f") == 0)  // nothing handed to the file yet
        try writer.flush()
        #expect(try fileSystem.readFile("/f") == expected)
        try writer.close()
    }

    @Test func aFullBufferIsWrittenAndLargeAppendsBypassIt() throws {
        let fileSystem = MemoryFileSystem()
        let writer = BufferedFileWriter(try freshFile(fileSystem), bufferSize: 4096)
        let small = [UInt8](repeating: 1, count: 4000)
        let large = [UInt8](repeating: 2, count: 20_000)
        try writer.append(small)
        try writer.append(large)  // fills the buffer, writes it, then the rest goes straight through
        try writer.append([3])
        #expect(writer.offset == 24_001)
        #expect(try fileSystem.fileSize("/f") == 24_000)
        try writer.sync()
        #expect(try fileSystem.readFile("/f") == small + large + [3])
    }

    @Test func reserveAndCommitEncodeInPlace() throws {
        let fileSystem = MemoryFileSystem()
        let writer = BufferedFileWriter(try freshFile(fileSystem), bufferSize: 4096)
        for round in 0..<10 {
            let room = try writer.reserve(1000)
            room.initializeMemory(as: UInt8.self, repeating: UInt8(round), count: 1000)
            writer.commit(600)  // only part of the reservation is used
        }
        try writer.flush()
        let bytes = try fileSystem.readFile("/f")
        #expect(bytes.count == 6000)
        #expect((0..<10).allSatisfy { round in bytes[(round * 600)..<(round * 600 + 600)].allSatisfy { $0 == UInt8(round) } })
    }

    @Test func appendingContinuesAfterTheFilesExistingEnd() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.writeFile("/f", [9, 9, 9], sync: true)
        let writer = BufferedFileWriter(try fileSystem.openWritable("/f", mode: .append))
        #expect(writer.offset == 3)
        try writer.append([1, 2])
        try writer.flush()
        #expect(try fileSystem.readFile("/f") == [9, 9, 9, 1, 2])
    }

    @Test func aFailedWriteOrSyncIsSticky() throws {
        let fileSystem = FaultInjectionFileSystem(wrapping: MemoryFileSystem())
        let writer = BufferedFileWriter(try freshFile(fileSystem), bufferSize: 4096)
        try writer.append([1, 2, 3])
        fileSystem.inject(.init(.write, pathContains: "/f"))
        let first = #expect(throws: StrataError.self) { try writer.flush() }
        #expect(writer.error == first)
        fileSystem.clearFaults()
        // The fault is gone, yet the writer keeps refusing: a hole may precede later bytes.
        #expect(throws: StrataError.self) { try writer.append([4]) }
        #expect(throws: StrataError.self) { try writer.sync() }

        let synced = BufferedFileWriter(try freshFile(fileSystem, "/g"))
        try synced.append([1])
        fileSystem.inject(.init(.sync, pathContains: "/g"))
        #expect(throws: StrataError.self) { try synced.sync() }
        fileSystem.clearFaults()
        #expect(throws: StrataError.self) { try synced.flush() }
    }
}
