import Testing
import Encoding
import Memtable
import VFS
import WAL

@Suite struct MemtableBehaviourTests {
    @Test func aFrozenMemtableRefusesWritesAndStreamsEverythingForFlush() throws {
        let memtable = try Memtable(capacity: 1 << 20, walSegment: 7)
        try memtable.put(Array("b".utf8), Array("2".utf8), sequence: SequenceNumber(rawValue: 2))
        try memtable.put(Array("a".utf8), Array("1".utf8), sequence: SequenceNumber(rawValue: 1))
        try memtable.delete(Array("a".utf8), sequence: SequenceNumber(rawValue: 3))
        try memtable.insertRangeTombstone(start: Array("c".utf8), end: Array("d".utf8), sequence: SequenceNumber(rawValue: 4))
        let frozen = memtable.freeze()
        #expect(memtable.isFrozen)
        #expect(throws: StrataError.self) { try memtable.put(Array("z".utf8), [], sequence: SequenceNumber(rawValue: 5)) }
        #expect(frozen.walSegments == 7...7)
        #expect(frozen.deletionCount == 1)
        var source = frozen.flushSource
        #expect(source.pointCount == 3 && source.rangeTombstoneCount == 1)
        var points: [String] = []
        while source.points.isValid {
            points.append((try? InternalKey(decoding: Array(source.points.key)))?.description ?? "?")
            source.points.next()
        }
        // All versions, not collapsed: both versions of "a", newest first.
        #expect(points == ["a@3:DEL", "a@1:PUT", "b@2:PUT"])
        #expect(source.rangeTombstones.isValid && Array(source.rangeTombstones.value) == Array("d".utf8))
        #expect(frozen.get(Array("a".utf8)) == .deleted)
    }

    @Test func aFullArenaIsAnErrorAndBatchesAreAllOrNothing() throws {
        let memtable = try Memtable(capacity: 4096)
        var batch = WriteBatch()
        for index in 0..<100 { batch.put(Array("key\(index)".utf8), [UInt8](repeating: 1, count: 30)) }
        batch.sequence = SequenceNumber(rawValue: 1)
        let error = #expect(throws: StrataError.self) { try batch.encoded.withUnsafeBytes { try memtable.apply(batch: $0) } }
        guard case .invalidArgument = error else { Issue.record("\(String(describing: error))"); return }
        #expect(memtable.entryCount == 0)  // nothing of the batch went in
        var total = 0
        while true {
            do { try memtable.put(Array("k\(total)".utf8), [1, 2, 3], sequence: SequenceNumber(rawValue: UInt64(total + 1))) } catch { break }
            total += 1
        }
        #expect(total > 10 && memtable.entryCount == total)
        #expect(memtable.approximateMemoryUsage <= 4096)
    }

    @Test func applyingReplayedLogRecordsRestoresEntriesAndTheSequence() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        let id = DatabaseID.random()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: id, fileSystem: fileSystem)
        var sequence: UInt64 = 1
        for round in 0..<50 {
            var batch = WriteBatch()
            batch.put(Array("key\(round)".utf8), Array("value\(round)".utf8))
            if round % 5 == 0 { batch.delete(Array("key\(round - 1)".utf8)) }
            if round == 20 { batch.deleteRange(from: Array("key30".utf8), to: Array("key35".utf8)) }
            batch.sequence = SequenceNumber(rawValue: sequence)
            sequence += UInt64(batch.count)
            try writer.append(batch.encoded)
            if round == 25 { try writer.rotateNext() }
        }
        try writer.close()
        let lastWritten = SequenceNumber(rawValue: sequence - 1)

        let segments = try WALSegment.list(in: "/db", fileSystem: fileSystem, from: 1)
        // What the engine's recovery does with each record: apply it with its own sequences.
        let memtable = try Memtable(capacity: 1 << 20, walSegment: segments[0].number)
        let replay = try WALReader.replay(segments: segments, databaseID: id, fileSystem: fileSystem) { payload, location in
            memtable.noteWALSegment(location.segment)
            try memtable.apply(batch: payload, file: WALSegment.fileName(for: location.segment), offset: Int(location.offset))
        }
        if let maxSequence = replay.maxSequence { memtable.injectMaxSequence(maxSequence) }
        #expect(replay.records == 50)
        #expect(memtable.maxSequence == lastWritten)
        #expect(memtable.nextSequence == lastWritten.advanced(by: 1))
        #expect(memtable.walSegments == 1...2)
        #expect(memtable.get(Array("key7".utf8)) == .value(Array("value7".utf8)))
        #expect(memtable.get(Array("key9".utf8)) == .deleted)  // deleted by round 10's batch
        #expect(memtable.get(Array("key32".utf8)) == .value(Array("value32".utf8)))  // written after the range delete
        // Before the range delete (round 20, sequence 26) nothing covers key32; between it and
        // key32's own put (round 32) the range delete hides it.
        #expect(memtable.get(Array("key32".utf8), at: SequenceNumber(rawValue: 20)) == .notFound)
        #expect(memtable.get(Array("key32".utf8), at: SequenceNumber(rawValue: 40)) == .deleted)

        // The next write continues after the recovered maximum.
        let next = memtable.nextSequence
        try memtable.put(Array("after".utf8), [1], sequence: next)
        #expect(memtable.maxSequence == lastWritten.advanced(by: 1))

        // injectMaxSequence never lowers the counter.
        memtable.injectMaxSequence(SequenceNumber(rawValue: 5))
        #expect(memtable.maxSequence == lastWritten.advanced(by: 1))
        memtable.injectMaxSequence(SequenceNumber(rawValue: 1_000_000))
        #expect(memtable.nextSequence == SequenceNumber(rawValue: 1_000_001))
    }

    @Test func aCorruptBatchIsReportedWithItsLocation() throws {
        let memtable = try Memtable(capacity: 1 << 20)
        var batch = WriteBatch()
        batch.put("a", "b")
        var bytes = batch.encoded
        bytes[12] = 77
        let error = #expect(throws: StrataError.self) { try bytes.withUnsafeBytes { try memtable.apply(batch: $0, file: "wal-000003.log", offset: 4096) } }
        #expect(error == .corruption(file: "wal-000003.log", offset: 4108, reason: "unknown batch entry kind 77"))
    }
}
