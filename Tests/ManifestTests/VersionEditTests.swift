import Testing
import Encoding
import Manifest

@Suite struct VersionEditTests {
    func sample() -> VersionEdit {
        var edit = VersionEdit()
        edit.databaseID = DatabaseID(bytes: Array(0..<16))
        edit.comparator = BytewiseComparator.name
        edit.logNumber = 5
        edit.nextFileNumber = 99
        edit.lastSequence = SequenceNumber(rawValue: 123_456)
        edit.add(fileMetadata(12, level: 0, "a", "m", size: 4096, sequence: 7))
        edit.add(fileMetadata(13, level: 6, "n", "z", size: 1 << 40, sequence: 8))
        edit.delete(level: 3, fileNumber: 4)
        edit.compactionPointers[2] = InternalKey(userKey: Array("k".utf8), sequence: .max, kind: .put).encoded
        return edit
    }

    @Test func everyFieldRoundTrips() throws {
        let edit = sample()
        #expect(try VersionEdit(decoding: edit.encoded) == edit)
        #expect(try VersionEdit(decoding: VersionEdit().encoded) == VersionEdit())
    }

    @Test func theEncodingStartsWithTheDocumentedFields() {
        var edit = VersionEdit()
        edit.logNumber = 5
        #expect(edit.encoded == [3, 1, 5])  // tag 3, length 1, varint 5
    }

    @Test func anUnknownTagIsWrittenByANewerVersion() {
        let bytes = sample().encoded + [42, 1, 0]
        let error = #expect(throws: StrataError.self) { try VersionEdit(decoding: bytes, file: "MANIFEST-000003", offset: 64) }
        guard case .incompatible(let file, let reason) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(file == "MANIFEST-000003" && reason.contains("newer version"))
    }

    @Test func truncationNeverTrapsAndOnlyFieldBoundariesDecode() {
        // Truncation of a whole record is caught by the manifest's record checksums; the edit
        // decoder's job is never to trap and never to invent fields: a cut at a field boundary
        // is a valid shorter edit (re-encoding gives back exactly those bytes), any other cut
        // is an error.
        let bytes = sample().encoded
        var boundaries = 0
        for length in 1..<bytes.count {
            let prefix = Array(bytes[0..<length])
            if let edit = try? VersionEdit(decoding: prefix) {
                #expect(edit.encoded == prefix, "length \(length)")
                boundaries += 1
            }
        }
        #expect(boundaries == 8)  // one boundary after each of the sample's first eight fields
    }

    @Test func invalidFieldsAreCorruption() {
        var badLevel = VersionEdit()
        badLevel.delete(level: 9, fileNumber: 1)
        var inverted = VersionEdit()
        inverted.add(fileMetadata(1, level: 1, "z", "a"))
        for edit in [badLevel, inverted] {
            let error = #expect(throws: StrataError.self) { try VersionEdit(decoding: edit.encoded, file: "M", offset: 0) }
            #expect(error?.isCorruption == true)
        }
    }
}
