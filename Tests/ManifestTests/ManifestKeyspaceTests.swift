import Testing
import Encoding
import Manifest
import StrataTestSupport
import VFS

/// Named keyspaces in the manifest: their records, their trees, drops and id allocation.
@Suite struct ManifestKeyspaceTests {
    func inKeyspace(_ file: FileMetadata, _ keyspace: UInt32) -> FileMetadata {
        var file = file
        file.keyspace = keyspace
        return file
    }

    @Test func keyspaceRecordsHaveTheDocumentedBytes() throws {
        var edit = VersionEdit()
        edit.keyspaces = [KeyspaceDescriptor(id: 1, name: "users", options: [0x01, 0x01, 0x02, 0x03])]
        edit.nextKeyspaceID = 2
        // Docs/formats/manifest.md, "Keyspaces", worked example.
        #expect(edit.encoded == [0x09, 0x0C, 0x01, 0x05, 0x75, 0x73, 0x65, 0x72, 0x73, 0x04, 0x01, 0x01, 0x02, 0x03, 0x0E, 0x01, 0x02])
        #expect(try VersionEdit(decoding: edit.encoded) == edit)

        // An edit without keyspaces encodes as it did before they existed (tags 6-8 only).
        var plain = VersionEdit()
        plain.add(fileMetadata(12, level: 0, "a", "b"))
        plain.delete(level: 1, fileNumber: 3)
        plain.compactionPointers[1] = InternalKey(userKey: [1], sequence: .zero, kind: .put).encoded
        #expect(Set(try tags(of: plain.encoded)) == [6, 7, 8])

        var named = VersionEdit()
        named.add(inKeyspace(fileMetadata(13, level: 2, "c", "d"), 7))
        named.delete(level: 3, fileNumber: 4, keyspace: 7)
        named.setCompactionPointer(level: 2, InternalKey(userKey: [2], sequence: .zero, kind: .put).encoded, keyspace: 7)
        named.droppedKeyspaces = [5]
        #expect(Set(try tags(of: named.encoded)) == [10, 11, 12, 13])
        #expect(try VersionEdit(decoding: named.encoded) == named)
    }

    /// The tags of an encoded edit's fields.
    func tags(of bytes: [UInt8]) throws -> [UInt32] {
        try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, file: "<test>", baseOffset: 0)
            var tags: [UInt32] = []
            while !reader.isAtEnd {
                tags.append(try reader.readVarint32("tag"))
                _ = try reader.readLengthPrefixed("payload")
            }
            return tags
        }
    }

    @Test func damagedKeyspaceFieldsAreErrors() throws {
        // Keyspace id 0 in a named keyspace's field; an empty name; a name that is not UTF-8.
        let bad: [[UInt8]] = [
            [0x0A, 0x01, 0x00],
            [0x09, 0x03, 0x01, 0x00, 0x00],
            [0x09, 0x05, 0x01, 0x02, 0xC3, 0x28, 0x00],
            [0x0B, 0x01, 0x05],
        ]
        for bytes in bad {
            #expect(throws: StrataError.self) { try VersionEdit(decoding: bytes) }
        }
    }

    @Test func keyspaceTreesSurviveReopenDropsFreeTheirTablesAndIdsAreNotReused() throws {
        let fileSystem = try memoryDirectory()
        var options = ManifestOptions()
        options.maxManifestSize = 600  // several new manifests (snapshots) along the way
        var set = try VersionSet.create(directory: "/db", fileSystem: fileSystem, options: options)
        var create = VersionEdit()
        create.keyspaces = [KeyspaceDescriptor(id: 1, name: "one", options: [1]), KeyspaceDescriptor(id: 2, name: "two")]
        try set.logAndApply(create)

        let defaultFile = fileMetadata(set.newFileNumber(), level: 0, "a", "z")
        let first = inKeyspace(fileMetadata(set.newFileNumber(), level: 0, "a", "z"), 1)
        let second = inKeyspace(fileMetadata(set.newFileNumber(), level: 1, "a", "m"), 2)
        let overlapping = inKeyspace(fileMetadata(set.newFileNumber(), level: 1, "b", "c"), 1)
        for file in [defaultFile, first, second, overlapping] { try writeTableFile(fileSystem, file) }
        var flush = VersionEdit()
        flush.add(defaultFile)
        flush.add(first)
        flush.add(second)
        // Level 1 of keyspace 1 and of keyspace 2 overlap each other: different trees.
        flush.add(overlapping)
        flush.setCompactionPointer(level: 1, second.largest, keyspace: 2)
        try set.logAndApply(flush)
        for _ in 0..<10 { try set.logAndApply(VersionEdit()) }

        func check(_ version: Version) {
            #expect(version.levels[0].map(\.fileNumber) == [defaultFile.fileNumber])
            #expect(version.tree(1)?.levels[0].map(\.fileNumber) == [first.fileNumber])
            #expect(version.tree(1)?.levels[1].map(\.fileNumber) == [overlapping.fileNumber])
            #expect(version.tree(2)?.levels[1].map(\.fileNumber) == [second.fileNumber])
            #expect(version.tree(2)?.compactionPointers[1] == second.largest)
            #expect(version.keyspace(named: "one")?.options == [1])
            #expect(Set(version.allFileNumbers) == Set([defaultFile, first, second, overlapping].map(\.fileNumber)))
        }
        check(set.currentVersion)
        try set.close()
        set = try VersionSet.open(directory: "/db", fileSystem: fileSystem, options: options)
        check(set.currentVersion)

        // A file added to a keyspace that does not exist is corruption...
        var orphan = VersionEdit()
        orphan.keyspaces = []
        let stray = inKeyspace(fileMetadata(set.newFileNumber(), level: 0, "a", "b"), 9)
        #expect(throws: StrataError.self) { try set.currentVersion.applying(with(stray)) }
        // ...but a flush that finishes after its keyspace was dropped is logged without it.
        var drop = VersionEdit()
        drop.droppedKeyspaces = [2]
        try set.logAndApply(drop)
        let late = inKeyspace(fileMetadata(set.newFileNumber(), level: 0, "a", "b"), 2)
        try writeTableFile(fileSystem, late)
        var lateFlush = VersionEdit()
        lateFlush.add(late)
        lateFlush.logNumber = 3
        try set.logAndApply(lateFlush)
        #expect(set.currentVersion.tree(2) == nil)
        #expect(set.logNumber == 3)
        let garbage = try set.collectGarbage()
        #expect(Set(garbage.tables) == [second.fileNumber, late.fileNumber])
        #expect(set.currentVersion.nextKeyspaceID == 3)
        try set.close()

        set = try VersionSet.open(directory: "/db", fileSystem: fileSystem, options: options)
        #expect(set.currentVersion.keyspaceDescriptors.keys.sorted() == [1])
        #expect(set.currentVersion.nextKeyspaceID == 3, "a dropped keyspace's id is never handed out again")
        // Two keyspaces with one name is corruption.
        var duplicate = VersionEdit()
        duplicate.keyspaces = [KeyspaceDescriptor(id: 3, name: "one")]
        #expect(throws: StrataError.self) { try set.logAndApply(duplicate) }
        try set.close()
    }

    func with(_ file: FileMetadata) -> VersionEdit {
        var edit = VersionEdit()
        edit.add(file)
        return edit
    }
}
