import Testing
import Encoding
import StrataTestSupport
import VFS
import WAL

/// Segments written through a shared mapping can end in zero bytes the writer reserved ahead
/// of itself (a crash before the segment was trimmed). Those are the end of the data, never
/// damage — in every recovery mode and in every segment — while real damage stays damage.
@Suite struct WALZeroTailTests {
    /// Two segments of records, closed normally; returns the payloads.
    func makeLog() throws -> (MemoryFileSystem, [[UInt8]]) {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var payloads: [[UInt8]] = []
        for index in 0..<200 {
            payloads.append(payload(index: index, size: index == 150 ? 80_000 : 30 + index * 7))
            if index == 100 { try writer.rotateNext() }
            try writer.append(payloads[index])
        }
        try writer.close()
        return (fileSystem, payloads)
    }

    @Test func zeroTailsEndTheDataInEveryModeAndSegment() throws {
        let (fileSystem, payloads) = try makeLog()
        for (segment, zeros) in [("/db/wal-000001.log", 5_000), ("/db/wal-000002.log", 1 << 20), ("/db/wal-000002.log", 3)] {
            let original = try #require(fileSystem.contents(of: segment))
            fileSystem.setContents(of: segment, to: original + [UInt8](repeating: 0, count: zeros))
            for mode in WALRecoveryMode.allCases {
                let (records, result) = try replayAll(fileSystem, mode: mode)
                #expect(records == payloads, "\(segment) + \(zeros) zeros, \(mode)")
                #expect(result.tornTail == nil && result.skipped.isEmpty, "\(segment) + \(zeros) zeros, \(mode)")
            }
            fileSystem.setContents(of: segment, to: original)
        }
    }

    @Test func aResumedWriterAppendsWhereTheDataEndsNotAfterTheZeros() throws {
        let (fileSystem, payloads) = try makeLog()
        let segment = "/db/wal-000002.log"
        let original = try #require(fileSystem.contents(of: segment))
        fileSystem.setContents(of: segment, to: original + [UInt8](repeating: 0, count: 40_000))
        let (_, result) = try replayAll(fileSystem)
        let end = try #require(result.end)
        #expect(end.offset == UInt64(original.count))
        let writer = try WALWriter.resume(segment: end.segment, validSize: end.offset, databaseID: testDatabaseID, fileSystem: fileSystem)
        try writer.append([42, 43])
        try writer.close()
        let (records, again) = try replayAll(fileSystem, mode: .absoluteConsistency)
        #expect(records == payloads + [[42, 43]])
        #expect(again.tornTail == nil)
    }

    @Test func aRecordCutShortBeforeTheZerosIsATornTail() throws {
        let (fileSystem, payloads) = try makeLog()
        let segment = "/db/wal-000002.log"
        let original = try #require(fileSystem.contents(of: segment))
        // Cut 10 bytes into the last record's payload, then zeros (a torn append on a mapped file).
        let lastRecord = payloads.last!.count + WALFormat.fragmentHeaderSize
        let cut = original.count - lastRecord + 10
        fileSystem.setContents(of: segment, to: Array(original[..<cut]) + [UInt8](repeating: 0, count: 100_000))
        let (records, result) = try replayAll(fileSystem)
        #expect(records == Array(payloads.dropLast()))
        let torn = try #require(result.tornTail)
        #expect(torn.offset == UInt64(original.count - lastRecord))
        #expect(throws: StrataError.self) { try replayAll(fileSystem, mode: .absoluteConsistency) }
    }

    @Test func zerosFollowedByDataAreDamage() throws {
        let (fileSystem, _) = try makeLog()
        let segment = "/db/wal-000001.log"
        let original = try #require(fileSystem.contents(of: segment))
        fileSystem.setContents(of: segment, to: original + [UInt8](repeating: 0, count: 70_000) + [1])
        // In an older segment this is never a torn tail.
        #expect(throws: StrataError.self) { try replayAll(fileSystem) }
        #expect(throws: StrataError.self) { try replayAll(fileSystem, mode: .absoluteConsistency) }
    }

    /// The real thing: a log written through `PosixFileSystem`'s mapped segments, read while
    /// the writer is still open (the file then ends in reserved zeros, as after a crash).
    @Test func aLiveMappedSegmentReplaysCompletely() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let writer = try WALWriter.create(directory: scratch.path, segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var payloads: [[UInt8]] = []
        for index in 0..<3_000 {
            payloads.append(payload(index: index, size: 100 + index % 500))
            try writer.append(payloads[index])
            try writer.flush()
        }
        let segment = Path.join(scratch.path, "wal-000001.log")
        #expect(try fileSystem.fileSize(segment) > writer.segmentSize)
        let (records, result) = try replayAll(fileSystem, mode: .absoluteConsistency, directory: scratch.path)
        #expect(records == payloads)
        #expect(result.end?.offset == writer.segmentSize)
        try writer.close()
        #expect(try fileSystem.fileSize(segment) == writer.segmentSize)
    }
}

extension WALZeroTailTests {
    /// A mapped segment is reserved before its header is copied in: a crash in between leaves a
    /// segment of nothing but zeros. As the newest segment it holds no records; anywhere else,
    /// or under `absoluteConsistency`, it is damage.
    @Test func anAllZeroNewestSegmentHoldsNoRecords() throws {
        let (fileSystem, payloads) = try makeLog()
        fileSystem.setContents(of: "/db/wal-000003.log", to: [UInt8](repeating: 0, count: 1 << 20))
        let (records, result) = try replayAll(fileSystem)
        #expect(records == payloads)
        #expect(result.end == nil)
        #expect(result.tornTail?.offset == 0 && result.tornTail?.droppedBytes == 0)
        #expect(throws: StrataError.self) { try replayAll(fileSystem, mode: .absoluteConsistency) }

        // The same file in the middle of the log is damage.
        fileSystem.setContents(of: "/db/wal-000002.log", to: [UInt8](repeating: 0, count: 4096))
        #expect(throws: StrataError.self) { try replayAll(fileSystem) }
    }
}
