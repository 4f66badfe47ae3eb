import Testing
import Encoding
import StrataTestSupport
import VFS
import WAL

@Suite struct WALRecoveryTests {
    /// Writes `count` records (the last one spanning three blocks) to segments 1 and 2.
    /// Returns the file system, the payloads, and the offset of the last record in segment 2.
    func makeLog(count: Int = 300) throws -> (MemoryFileSystem, [[UInt8]], UInt64) {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var payloads: [[UInt8]] = []
        for index in 0..<count {
            let size = index == count - 1 ? 70_000 : 50 + (index * 37) % 900
            payloads.append(payload(index: index, size: size))
            if index == count / 2 { try writer.rotateNext() }
            if index == count - 1 { try writer.flush() }
            try writer.append(payloads[index])
        }
        try writer.close()
        let (_, result) = try replayAll(fileSystem)
        let lastOffset = try #require(fileSystem.contents(of: "/db/wal-000002.log")).count
        _ = result
        // Find the last record's start by replaying with locations.
        var lastStart: UInt64 = 0
        _ = try WALReader.replay(
            segments: try WALSegment.list(in: "/db", fileSystem: fileSystem, from: 1), databaseID: testDatabaseID,
            fileSystem: fileSystem, sequenceRange: nil
        ) { _, location in lastStart = location.offset }
        #expect(lastStart < UInt64(lastOffset))
        return (fileSystem, payloads, lastStart)
    }

    @Test func truncationInsideTheLastRecordIsAToleratedTornTail() throws {
        let (fileSystem, payloads, lastStart) = try makeLog()
        let segment = "/db/wal-000002.log"
        let full = try #require(fileSystem.contents(of: segment))
        // Every offset strictly inside the last record, sampled (all of the first and last 100
        // bytes, then every 97th byte).
        var cuts = Set<Int>()
        for offset in (Int(lastStart) + 1)..<full.count
        where offset < Int(lastStart) + 100 || offset > full.count - 100 || offset % 97 == 0 {
            cuts.insert(offset)
        }
        #expect(cuts.count > 800)
        for cut in cuts.sorted() {
            fileSystem.setContents(of: segment, to: Array(full[0..<cut]))
            let (records, result) = try replayAll(fileSystem)
            #expect(records == Array(payloads.dropLast()), "cut at \(cut)")
            let torn = try #require(result.tornTail, "cut at \(cut)")
            #expect(torn.offset == lastStart && torn.droppedBytes == UInt64(cut) - lastStart && torn.file == segment)
            #expect(result.end?.offset == lastStart)
            let error = #expect(throws: StrataError.self, "cut at \(cut)") { try replayAll(fileSystem, mode: .absoluteConsistency) }
            #expect(error?.isCorruption == true)
        }
    }

    @Test func aTornTailIsTruncatedBeforeNewWrites() throws {
        let (fileSystem, payloads, lastStart) = try makeLog()
        let segment = "/db/wal-000002.log"
        let full = try #require(fileSystem.contents(of: segment))
        fileSystem.setContents(of: segment, to: Array(full[0..<(Int(lastStart) + 40_000)]))
        let (_, result) = try replayAll(fileSystem)
        let end = try #require(result.end)
        let writer = try WALWriter.resume(segment: end.segment, validSize: end.offset, databaseID: testDatabaseID, fileSystem: fileSystem)
        try writer.append(Array("after recovery".utf8))
        try writer.close()
        // The log is whole again: even the strictest mode accepts it.
        let (records, again) = try replayAll(fileSystem, mode: .absoluteConsistency)
        #expect(records == Array(payloads.dropLast()) + [Array("after recovery".utf8)])
        #expect(again.tornTail == nil)
    }

    @Test func aFlippedByteInAMiddleRecordFailsTheDefaultModeAndIsSkippedOnRequest() throws {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var payloads: [[UInt8]] = []
        for index in 0..<2_000 {
            payloads.append(payload(index: index, size: index % 50 == 0 ? 40_000 : 150))
            try writer.append(payloads[index])
        }
        try writer.close()
        var spans: [Range<Int>] = []  // each record's first byte ..< next record's first byte
        _ = try WALReader.replay(segments: [WALSegment(number: 1, directory: "/db")], databaseID: testDatabaseID, fileSystem: fileSystem, sequenceRange: nil) { _, location in
            if let last = spans.popLast() { spans.append(last.lowerBound..<Int(location.offset)) }
            spans.append(Int(location.offset)..<Int.max)
        }
        let clean = try #require(fileSystem.contents(of: "/db/wal-000001.log"))
        spans[spans.count - 1] = spans[spans.count - 1].lowerBound..<clean.count
        let blockCount = (clean.count - 64) / WALFormat.blockSize
        var random = SplitMix64(seed: 7)
        for trial in 0..<60 {
            // A byte somewhere in the first 80% of the file, so valid data follows it.
            let target = 64 + Int(random.next() % UInt64(blockCount * WALFormat.blockSize * 4 / 5))
            var damaged = clean
            damaged[target] ^= 0x40
            fileSystem.setContents(of: "/db/wal-000001.log", to: damaged)
            let blockStart = 64 + (target - 64) / WALFormat.blockSize * WALFormat.blockSize
            let block = blockStart..<(blockStart + WALFormat.blockSize)

            let error = #expect(throws: StrataError.self, "trial \(trial)") { try replayAll(fileSystem) }
            guard case .corruption(let file, let offset, _) = error else {
                Issue.record("trial \(trial): \(String(describing: error))")
                continue
            }
            #expect(file == "/db/wal-000001.log")
            #expect(offset <= target && offset >= blockStart)  // fragments never cross blocks

            let (records, result) = try replayAll(fileSystem, mode: .skipCorrupted)
            // Every record with no byte in the damaged block is recovered, in order; nothing
            // damaged is delivered.
            let outside = payloads.indices.filter { !spans[$0].overlaps(block) }.map { payloads[$0] }
            #expect(records.allSatisfy { payloads.contains($0) })
            var cursor = records.makeIterator()
            var next = cursor.next()
            var missing = 0
            for expected in payloads {
                if next == expected { next = cursor.next() } else if outside.contains(expected) { missing += 1 }
            }
            #expect(missing == 0 && next == nil, "trial \(trial): \(missing) records outside the block lost")
            #expect(result.droppedBytes > 0)
        }
    }

    @Test func damageFollowedByValidBlocksIsNeverATornTail() throws {
        let (fileSystem, _, _) = try makeLog()
        let segment = "/db/wal-000002.log"
        var bytes = try #require(fileSystem.contents(of: segment))
        bytes[64 + 10] ^= 0xFF  // inside the newest segment's first record
        fileSystem.setContents(of: segment, to: bytes)
        let error = #expect(throws: StrataError.self) { try replayAll(fileSystem) }
        #expect(error?.description.contains("not a torn tail") == true)
    }

    @Test func damageInAnOlderSegmentIsAnErrorEvenAtItsEnd() throws {
        let (fileSystem, _, _) = try makeLog()
        let older = "/db/wal-000001.log"
        let bytes = try #require(fileSystem.contents(of: older))
        fileSystem.setContents(of: older, to: Array(bytes.dropLast(5)))
        let error = #expect(throws: StrataError.self) { try replayAll(fileSystem) }
        guard case .corruption(let file, _, _) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(file == older)
    }

    @Test func aSegmentCutInsideItsHeaderHoldsNoRecords() throws {
        let (fileSystem, payloads, _) = try makeLog()
        try fileSystem.writeFile("/db/wal-000003.log", Array(WALSegmentHeader(databaseID: testDatabaseID, segmentNumber: 3, creationTimeMicros: 1).encoded.prefix(20)), sync: true)
        let (records, result) = try replayAll(fileSystem)
        #expect(records == payloads)
        #expect(result.end == nil && result.tornTail?.segment == 3)
        #expect(throws: StrataError.self) { try replayAll(fileSystem, mode: .absoluteConsistency) }
    }

    @Test func aRenamedSegmentIsRefusedNamingBothNumbers() throws {
        let (fileSystem, _, _) = try makeLog()
        try fileSystem.rename("/db/wal-000002.log", to: "/db/wal-000003.log")
        try fileSystem.rename("/db/wal-000001.log", to: "/db/wal-000002.log")
        let error = #expect(throws: StrataError.self) { try replayAll(fileSystem, from: 2) }
        #expect(error == .incompatible(
            file: "/db/wal-000002.log",
            reason: "segment header says segment 1 but the file name says 2 (renamed or copied log file)"))
    }

    @Test func aSegmentFromAnotherDatabaseIsRefusedNamingBothIdentities() throws {
        let fileSystem = try memoryDirectory()
        let stranger = DatabaseID(bytes: Array(100..<116))!
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: stranger, fileSystem: fileSystem)
        try writer.append([1, 2, 3])
        try writer.close()
        let error = #expect(throws: StrataError.self) { try replayAll(fileSystem) }
        guard case .incompatible(let file, let reason) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(file == "/db/wal-000001.log")
        #expect(reason.contains(stranger.description) && reason.contains(testDatabaseID.description))
    }

    @Test func aDamagedSegmentHeaderIsCorruption() throws {
        let (fileSystem, _, _) = try makeLog()
        var bytes = try #require(fileSystem.contents(of: "/db/wal-000001.log"))
        bytes[20] ^= 1  // inside the UUID: caught by the header checksum
        fileSystem.setContents(of: "/db/wal-000001.log", to: bytes)
        let error = #expect(throws: StrataError.self) { try replayAll(fileSystem) }
        #expect(error == .corruption(file: "/db/wal-000001.log", offset: 56, reason: "segment header checksum mismatch"))
    }

    @Test func aMissingMiddleSegmentIsAnError() throws {
        let (fileSystem, _, _) = try makeLog()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 4, databaseID: testDatabaseID, fileSystem: fileSystem)
        try writer.close()
        let error = #expect(throws: StrataError.self) { try WALSegment.list(in: "/db", fileSystem: fileSystem, from: 1) }
        #expect(error == .corruption(file: "/db/wal-000003.log", offset: 0, reason: "WAL segment 3 is missing between 2 and 4"))
        // A missing first segment the caller still needs is an error too.
        try fileSystem.removeFile("/db/wal-000001.log")
        #expect(throws: StrataError.self) { try WALSegment.list(in: "/db", fileSystem: fileSystem, from: 1) }
    }

    @Test func segmentNamesHaveAtLeastSixDigits() {
        #expect(WALSegment.fileName(for: 1) == "wal-000001.log")
        #expect(WALSegment.fileName(for: 1_234_567) == "wal-1234567.log")
        #expect(WALSegment.number(fromFileName: "wal-000042.log") == 42)
        #expect(WALSegment.number(fromFileName: "wal-42.log") == nil)
        #expect(WALSegment.number(fromFileName: "wal-00004x.log") == nil)
        #expect(WALSegment.number(fromFileName: "000042.sst") == nil)
    }
}
