import Testing
import StrataTestSupport
import Encoding
import WAL

@Suite struct WriteBatchTests {
    func sample() -> WriteBatch {
        var batch = WriteBatch()
        batch.put("apple", "red")
        batch.delete("banana")
        batch.deleteRange(from: "c", to: "d")
        batch.put([0xFF, 0x00], [UInt8]())
        batch.sequence = SequenceNumber(rawValue: 1_000)
        return batch
    }

    @Test func entriesRoundTripWithConsecutiveSequences() throws {
        let batch = sample()
        #expect(batch.count == 4)
        #expect(batch.lastSequence == SequenceNumber(rawValue: 1_003))
        let decoded = try batch.encoded.withUnsafeBytes { try WriteBatch(decoding: $0) }
        #expect(decoded == batch)
        #expect(decoded.entries == [
            .init(kind: .put, key: Array("apple".utf8), value: Array("red".utf8), sequence: SequenceNumber(rawValue: 1_000)),
            .init(kind: .delete, key: Array("banana".utf8), value: [], sequence: SequenceNumber(rawValue: 1_001)),
            .init(kind: .rangeDelete, key: Array("c".utf8), value: Array("d".utf8), sequence: SequenceNumber(rawValue: 1_002)),
            .init(kind: .put, key: [0xFF, 0x00], value: [], sequence: SequenceNumber(rawValue: 1_003)),
        ])
        #expect(batch.encoded.withUnsafeBytes { WriteBatch.sequenceRange(of: $0) } == SequenceNumber(rawValue: 1_000)...SequenceNumber(rawValue: 1_003))
    }

    @Test func theEncodingIsTheDocumentedOne() {
        var batch = WriteBatch()
        batch.put("k", "v")
        batch.sequence = SequenceNumber(rawValue: 7)
        #expect(batch.encoded == [7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0x6B, 1, 0x76])
    }

    @Test func everyTruncationIsCorruption() {
        let encoded = sample().encoded
        for length in 0..<encoded.count {
            let error = #expect(throws: StrataError.self, "length \(length)") {
                try Array(encoded[0..<length]).withUnsafeBytes { try WriteBatch(decoding: $0, file: "wal-000001.log", offset: 500) }
            }
            guard case .corruption(let file, let offset, _) = error else { continue }
            #expect(file == "wal-000001.log" && offset >= 500)
        }
    }

    @Test func countMismatchesUnknownKindsAndTrailingBytesAreCorruption() {
        var tooMany = sample().encoded
        tooMany[8] = 5  // claims five entries, holds four
        var unknown = sample().encoded
        unknown[12] = 9  // first entry's kind
        let trailing = sample().encoded + [0]
        for bytes in [tooMany, unknown, trailing] {
            #expect(throws: StrataError.self) { try bytes.withUnsafeBytes { try WriteBatch(decoding: $0) } }
        }
    }

    @Test func keyspaceEntriesCarryTheirIdAndDefaultEntriesDoNot() throws {
        var batch = WriteBatch()
        batch.put("a", "1", keyspaceID: 1)
        batch.delete("b", keyspaceID: 300)
        batch.put("c", "3")
        // Docs/formats/wal.md: kind | 0x80, then the id as varint32; the default keyspace's
        // entries are as before.
        #expect(Array(batch.encoded[12...]) == [0x81, 0x01, 0x01, 0x61, 0x01, 0x31, 0x80, 0xAC, 0x02, 0x01, 0x62, 0x01, 0x01, 0x63, 0x01, 0x33])
        #expect(batch.summary.keyspaces == [1, 300])
        let decoded = try batch.encoded.withUnsafeBytes { try WriteBatch(decoding: $0) }
        #expect(decoded == batch)
        #expect(batch.entries.map(\.keyspace) == [1, 300, 0])
        // Keyspace 0 behind the flag is corruption.
        var flagged = WriteBatch().encoded
        flagged[8] = 1
        flagged += [0x81, 0x00, 0x01, 0x61, 0x00]
        #expect(throws: StrataError.self) { try flagged.withUnsafeBytes { try WriteBatch(decoding: $0) } }
        var other = WriteBatch()
        other.put("d", "4", keyspaceID: 2)
        batch.append(contentsOf: other)
        #expect(batch.summary.keyspaces == [1, 300, 2])
    }

    @Test func appendAndRemoveAll() {
        var batch = sample()
        var other = WriteBatch()
        other.put("z", "26")
        batch.append(contentsOf: other)
        #expect(batch.count == 5)
        #expect(batch.entries.last?.key == Array("z".utf8))
        batch.removeAll()
        #expect(batch.isEmpty && batch.byteSize == WriteBatch.headerSize)
    }

    @Test func replayReportsTheLargestSequence() throws {
        let fileSystem = try memoryDirectory()
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var batch = sample()
        try writer.append(batch.encoded)
        batch.sequence = SequenceNumber(rawValue: 50)
        try writer.append(batch.encoded)  // an older batch after a newer one: max still wins
        try writer.close()
        let result = try WALReader.replay(segments: [WALSegment(number: 1, directory: "/db")], databaseID: testDatabaseID, fileSystem: fileSystem) { _, _ in }
        #expect(result.maxSequence == SequenceNumber(rawValue: 1_003))
    }

    /// The summary the engine checks limits with is exact for built, appended, decoded and
    /// cleared batches.
    @Test func theSummaryDescribesTheEntries() throws {
        var batch = WriteBatch()
        #expect(batch.summary == WriteBatch.Summary())
        batch.put([1, 2, 3], [9, 9, 9, 9, 9])
        batch.delete([7])
        batch.deleteRange(from: [5, 5], to: [6])
        var expected = WriteBatch.Summary()
        expected.puts = 1
        expected.deletes = 1
        expected.rangeDeletes = 1
        expected.userBytes = 3 + 5 + 1 + 2 + 1
        expected.shortestKey = 1
        expected.longestKey = 3
        expected.longestValue = 5
        #expect(batch.summary == expected)

        var other = WriteBatch()
        other.deleteRange(from: [9], to: [1])  // start after end
        other.put([], [])
        var combined = batch
        combined.append(contentsOf: other)
        #expect(combined.summary.hasEmptyRange && combined.summary.shortestKey == 0 && combined.summary.puts == 2)

        let decoded = try combined.encoded.withUnsafeBytes { try WriteBatch(decoding: $0) }
        #expect(decoded.summary == combined.summary)
        combined.removeAll()
        #expect(combined.summary == WriteBatch.Summary())
    }
}
