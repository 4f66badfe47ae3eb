import Testing
import Encoding
import StrataTestSupport
import VFS
import WAL

@Suite struct WALRoundTripTests {
    @Test func hundredThousandRecordsOfEverySizeSurviveThreeRotations() throws {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var random = SplitMix64(seed: 42)
        let total = 100_000
        var sizes: [Int] = []
        for index in 0..<total {
            let size = recordSize(index, using: &random)
            sizes.append(size)
            try writer.append(payload(index: index, size: size))
            if index % 30_000 == 29_999 { try writer.rotateNext() }
            if index % 5_000 == 0 { try writer.sync() }
        }
        try writer.close()
        #expect(writer.segmentNumber == 4)
        #expect(sizes.max()! == 200 * 1024 && sizes.min()! == 0)

        let segments = try WALSegment.list(in: "/db", fileSystem: fileSystem, from: 1)
        #expect(segments.map(\.number) == [1, 2, 3, 4])
        var index = 0
        var mismatches = 0
        let result = try WALReader.replay(segments: segments, databaseID: testDatabaseID, fileSystem: fileSystem, sequenceRange: nil) { bytes, _ in
            if !bytes.elementsEqual(payload(index: index, size: sizes[index])) { mismatches += 1 }
            index += 1
        }
        #expect(mismatches == 0)
        #expect(result.records == total)
        #expect(result.tornTail == nil && result.skipped.isEmpty)
        #expect(result.end?.segment.number == 4)
        #expect(result.end?.offset == UInt64(fileSystem.contents(of: segments[3].path)!.count))
    }

    @Test func recordsLandWhereTheFormatDocumentSays() throws {
        // The worked example of Docs/formats/wal.md.
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        try writer.append(payload(index: 0, size: 100))
        try writer.append(payload(index: 1, size: 40_000))
        try writer.close()
        let bytes = try #require(fileSystem.contents(of: "/db/wal-000001.log"))
        #expect(bytes.count == 32_832 + 7 + 7_346)
        func header(at offset: Int) -> (length: Int, type: UInt8) {
            (Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8, bytes[offset + 6])
        }
        #expect(Array(bytes[0..<8]) == Array("STRATWAL".utf8))
        #expect(header(at: 64) == (100, FragmentType.full.rawValue))
        #expect(header(at: 171) == (32_654, FragmentType.first.rawValue))
        #expect(header(at: 32_832) == (7_346, FragmentType.last.rawValue))
    }

    @Test func exactlySevenBytesLeftInABlockHoldAnEmptyFragment() throws {
        // The MarginalTrailer edge: a record that leaves exactly a header's worth of room.
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        let first = payload(index: 0, size: WALFormat.blockSize - 2 * WALFormat.fragmentHeaderSize)
        try writer.append(first)
        try writer.append([])  // an empty FULL fragment in the last 7 bytes of block 0
        try writer.append(payload(index: 2, size: 10))  // starts block 1
        try writer.close()
        let bytes = try #require(fileSystem.contents(of: "/db/wal-000001.log"))
        let marginal = 64 + WALFormat.blockSize - WALFormat.fragmentHeaderSize
        #expect(bytes[marginal + 4] == 0 && bytes[marginal + 5] == 0 && bytes[marginal + 6] == FragmentType.full.rawValue)
        #expect(bytes[64 + WALFormat.blockSize + 6] == FragmentType.full.rawValue)
        let (records, result) = try replayAll(fileSystem, mode: .absoluteConsistency)
        #expect(records == [first, [], payload(index: 2, size: 10)])
        #expect(result.records == 3)
    }

    @Test func fewerThanSevenBytesLeftArePaddedWithZeros() throws {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        let first = payload(index: 0, size: WALFormat.blockSize - WALFormat.fragmentHeaderSize - 3)
        try writer.append(first)
        try writer.append(payload(index: 1, size: 5))
        try writer.close()
        let bytes = try #require(fileSystem.contents(of: "/db/wal-000001.log"))
        #expect(Array(bytes[(64 + WALFormat.blockSize - 3)..<(64 + WALFormat.blockSize)]) == [0, 0, 0])
        let (records, _) = try replayAll(fileSystem, mode: .absoluteConsistency)
        #expect(records == [first, payload(index: 1, size: 5)])
    }

    @Test func oversizedRecordsAreRejectedWithoutWritingAnything() throws {
        let fileSystem = try memoryDirectory()
        var options = WALOptions()
        options.maxRecordSize = 1000
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem, options: options)
        let error = #expect(throws: StrataError.self) { try writer.append([UInt8](repeating: 1, count: 1001)) }
        #expect(error == .invalidArgument("WAL record of 1001 bytes exceeds the maximum of 1000"))
        try writer.append([UInt8](repeating: 1, count: 1000))  // still usable
        try writer.close()
        #expect(try replayAll(fileSystem).records.count == 1)
    }

    @Test func roundTripOnTheRealFileSystem() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let writer = try WALWriter.create(directory: directory.path, segmentNumber: 7, databaseID: testDatabaseID, fileSystem: fileSystem)
        for index in 0..<2_000 { try writer.append(payload(index: index, size: index % 3 == 0 ? 5_000 : 90)) }
        try writer.rotateNext()
        for index in 2_000..<2_500 { try writer.append(payload(index: index, size: 90)) }
        try writer.close()
        let (records, result) = try replayAll(fileSystem, directory: directory.path, from: 7)
        #expect(result.segments.map(\.number) == [7, 8])
        #expect(records.count == 2_500)
        #expect(records.enumerated().allSatisfy { $0.element == payload(index: $0.offset, size: $0.offset < 2_000 && $0.offset % 3 == 0 ? 5_000 : 90) })
    }

    @Test func resumingAfterReplayContinuesTheSameSegment() throws {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        for index in 0..<10 { try writer.append(payload(index: index, size: 3_000 * index)) }
        try writer.close()
        let (_, result) = try replayAll(fileSystem)
        let end = try #require(result.end)
        let resumed = try WALWriter.resume(segment: end.segment, validSize: end.offset, databaseID: testDatabaseID, fileSystem: fileSystem)
        for index in 10..<20 { try resumed.append(payload(index: index, size: 3_000 * index)) }
        try resumed.close()
        let (records, again) = try replayAll(fileSystem, mode: .absoluteConsistency)
        #expect(records == (0..<20).map { payload(index: $0, size: 3_000 * $0) })
        #expect(again.segments.count == 1)
    }
}
