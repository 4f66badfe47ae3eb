import Testing
import Encoding
import Manifest
import StrataTestSupport
import VFS

@Suite struct VersionSetTests {
    @Test func randomEditHistoriesSurviveReopenIdentically() throws {
        for seed in 0..<6 {
            var random = SplitMix64(seed: UInt64(seed))
            let fileSystem = try memoryDirectory()
            var options = ManifestOptions()
            options.maxManifestSize = seed % 2 == 0 ? 64 << 20 : 2048  // odd seeds roll the manifest often
            var set = try VersionSet.create(directory: "/db", fileSystem: fileSystem, options: options)
            // Disjoint key slots for levels ≥ 1: slot i covers "k{i}a" ... "k{i}z".
            var slotsInUse = Array(repeating: Set<Int>(), count: Version.levelCount)
            var sequence: UInt64 = 1
            for step in 0..<300 {
                var edit = VersionEdit()
                let version = set.currentVersion
                // Delete a few random files.
                for level in 0..<Version.levelCount where !version.levels[level].isEmpty && random.next() % 4 == 0 {
                    let victim = version.levels[level][Int(random.next() % UInt64(version.levels[level].count))]
                    edit.delete(level: level, fileNumber: victim.fileNumber)
                    if level > 0, let slot = Int(String(decoding: victim.smallestUserKey.dropFirst().dropLast(), as: UTF8.self)) {
                        slotsInUse[level].remove(slot)
                    }
                }
                // Add one or two files.
                for _ in 0..<(1 + Int(random.next() % 2)) {
                    let level = Int(random.next() % UInt64(Version.levelCount))
                    let number = set.newFileNumber()
                    sequence += 1
                    let file: FileMetadata
                    if level == 0 {
                        file = fileMetadata(number, level: 0, "a\(random.next() % 50)", "z\(random.next() % 50)", size: 100 + number, sequence: sequence)
                    } else {
                        var slot = Int(random.next() % 1000)
                        while slotsInUse[level].contains(slot) { slot = (slot + 1) % 1000 }
                        slotsInUse[level].insert(slot)
                        let name = "k" + String(slot).leftPadded(to: 4)
                        file = fileMetadata(number, level: level, name + "a", name + "z", size: 100 + number, sequence: sequence)
                    }
                    try writeTableFile(fileSystem, file)
                    edit.add(file)
                }
                edit.lastSequence = SequenceNumber(rawValue: sequence)
                edit.logNumber = UInt64(step)
                if step % 17 == 0 { edit.compactionPointers[1 + step % 6] = InternalKey(userKey: Array("p\(step)".utf8), sequence: .max, kind: .put).encoded }
                try set.logAndApply(edit)
                try set.currentVersion.checkInvariants()
                if step % 100 == 99 {
                    let before = set.currentVersion
                    try set.close()
                    set = try VersionSet.open(directory: "/db", fileSystem: fileSystem, options: options)
                    #expect(snapshot(set.currentVersion) == snapshot(before), "seed \(seed) step \(step)")
                    #expect(set.currentVersion.compactionPointers == before.compactionPointers)
                    #expect(set.lastSequence == SequenceNumber(rawValue: sequence))
                    #expect(set.logNumber == UInt64(step))
                }
            }
            let final = set.currentVersion
            let nextNumber = set.newFileNumber()
            try set.close()
            let reopened = try VersionSet.open(directory: "/db", fileSystem: fileSystem, options: options)
            #expect(snapshot(reopened.currentVersion) == snapshot(final))
            // File numbers are never handed out twice, across reopens.
            #expect(reopened.newFileNumber() > nextNumber)
            try reopened.close()
        }
    }

    @Test func aSecondOpenOfTheSameDirectoryFailsWithALockError() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let first = try VersionSet.create(directory: directory.path, fileSystem: fileSystem)
        let error = #expect(throws: StrataError.self) { try VersionSet.open(directory: directory.path, fileSystem: fileSystem) }
        guard case .locked(let path, let holder)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path.hasSuffix("/LOCK") && holder?.hasPrefix("pid ") == true)
        try first.close()
        let second = try VersionSet.open(directory: directory.path, fileSystem: fileSystem)
        try second.close()
    }

    @Test func aReaderHoldingAnOldVersionKeepsItsFilesUntilItLetsGo() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        let old = fileMetadata(set.newFileNumber(), level: 1, "a", "c")
        try writeTableFile(fileSystem, old)
        var edit = VersionEdit()
        edit.add(old)
        try set.logAndApply(edit)

        var pinned: Version? = set.currentVersion  // a reader starts
        let replacement = fileMetadata(set.newFileNumber(), level: 2, "a", "c")
        try writeTableFile(fileSystem, replacement)
        var compaction = VersionEdit()
        compaction.delete(level: 1, fileNumber: old.fileNumber)
        compaction.add(replacement)
        try set.logAndApply(compaction)

        let oldPath = "/db/" + DatabaseFiles.tableName(old.fileNumber)
        #expect(try set.collectGarbage().tables.isEmpty)
        #expect(fileSystem.exists(oldPath))  // still readable by the pinned version
        #expect(pinned!.levels[1].map(\.fileNumber) == [old.fileNumber])
        pinned = nil  // the reader lets go
        #expect(try set.collectGarbage().tables == [old.fileNumber])
        #expect(!fileSystem.exists(oldPath))
        #expect(fileSystem.exists("/db/" + DatabaseFiles.tableName(replacement.fileNumber)))
        try set.close()
    }

    @Test func garbageCollectionSparesReservedAndLiveFilesOnly() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        let live = fileMetadata(set.newFileNumber(), level: 0, "a", "b")
        try writeTableFile(fileSystem, live)
        var edit = VersionEdit()
        edit.add(live)
        edit.logNumber = 3
        try set.logAndApply(edit)
        let reserved = set.newFileNumber(reserve: true)
        try fileSystem.writeFile("/db/" + DatabaseFiles.tableName(reserved) + ".tmp", [1], sync: false)
        try fileSystem.writeFile("/db/000777.sst", [1], sync: false)  // an orphan from a crash
        try fileSystem.writeFile("/db/000778.sst.tmp", [1], sync: false)
        for segment in 1...4 { try fileSystem.writeFile("/db/wal-00000\(segment).log", [1], sync: false) }
        try fileSystem.writeFile("/db/CURRENT.tmp", [1], sync: false)
        try fileSystem.writeFile("/db/notes.txt", [1], sync: false)  // not ours: never touched
        let garbage = try set.collectGarbage()
        #expect(garbage.tables == [777])
        #expect(Set(garbage.walSegments) == [1, 2])
        #expect(Set(garbage.others) == ["000778.sst.tmp", "CURRENT.tmp"])  // MANIFEST-000001 is live
        let remaining = Set(try fileSystem.listDirectory("/db"))
        #expect(remaining.contains(DatabaseFiles.tableName(live.fileNumber)))
        #expect(remaining.contains(DatabaseFiles.tableName(reserved) + ".tmp"))
        #expect(remaining.contains("wal-000003.log") && remaining.contains("wal-000004.log"))
        #expect(remaining.contains("notes.txt") && remaining.contains("LOCK") && remaining.contains("CURRENT"))
        try set.close()
    }

    @Test func corruptCurrentIsAClearErrorAndTouchesNothing() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        try set.close()
        let cases: [([UInt8], String)] = [
            ([], "CURRENT is empty"),
            (Array("MANIFEST-000001".utf8), "CURRENT does not end with a newline"),
            (Array("garbage\n".utf8), "CURRENT names \"garbage\", not a manifest"),
            (Array("MANIFEST-000042\n".utf8), "CURRENT names MANIFEST-000042, which does not exist"),
        ]
        for (contents, reason) in cases {
            fileSystem.setContents(of: "/db/CURRENT", to: contents)
            let before = try fileSystem.listDirectory("/db").sorted()
            let error = #expect(throws: StrataError.self) { try VersionSet.open(directory: "/db", fileSystem: fileSystem) }
            #expect(error == .corruption(file: "/db/CURRENT", offset: 0, reason: reason))
            #expect(try fileSystem.listDirectory("/db").sorted() == before)
            #expect(fileSystem.contents(of: "/db/CURRENT") == contents)
        }
    }

    @Test func aMissingOrShortTableIsAnErrorNamingIt() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        let file = fileMetadata(set.newFileNumber(), level: 0, "a", "b", size: 500)
        try writeTableFile(fileSystem, file)
        var edit = VersionEdit()
        edit.add(file)
        try set.logAndApply(edit)
        try set.close()
        let path = "/db/" + DatabaseFiles.tableName(file.fileNumber)
        fileSystem.setContents(of: path, to: [UInt8](repeating: 0, count: 499))
        let short = #expect(throws: StrataError.self) { try VersionSet.open(directory: "/db", fileSystem: fileSystem) }
        #expect(short == .corruption(file: path, offset: 499, reason: "table is 499 bytes but the manifest recorded 500"))
        try fileSystem.removeFile(path)
        let missing = #expect(throws: StrataError.self) { try VersionSet.open(directory: "/db", fileSystem: fileSystem) }
        // A missing table is the manifest's problem to report: it names both files.
        #expect(missing == .corruption(file: "/db/MANIFEST-000001", offset: 0, reason: "lists live table \(file.fileNumber), but \(path) is missing"))
    }

    @Test func aTornLastEditIsIgnoredButDamageElsewhereIsAnError() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        var files: [FileMetadata] = []
        for index in 0..<3 {
            let file = fileMetadata(set.newFileNumber(), level: 0, "a\(index)", "b\(index)", sequence: UInt64(index + 1))
            try writeTableFile(fileSystem, file)
            var edit = VersionEdit()
            edit.add(file)
            try set.logAndApply(edit)
            files.append(file)
        }
        let manifest = "/db/" + DatabaseFiles.manifest(set.manifestNumber)
        try set.close()
        let full = try #require(fileSystem.contents(of: manifest))
        // Cut into the last edit: it was never acknowledged, so the version has two files.
        fileSystem.setContents(of: manifest, to: Array(full.dropLast(10)))
        let reopened = try VersionSet.open(directory: "/db", fileSystem: fileSystem)
        #expect(Set(reopened.currentVersion.levels[0].map(\.fileNumber)) == Set(files.prefix(2).map(\.fileNumber)))
        try reopened.close()

        // Damage in the middle of the manifest (the snapshot record) is an error.
        let fileSystem2 = try memoryDirectory()
        let set2 = try VersionSet.create(directory: "/db", fileSystem: fileSystem2)
        var edit = VersionEdit()
        edit.add(files[0])
        try writeTableFile(fileSystem2, files[0])
        try set2.logAndApply(edit)
        let manifest2 = "/db/" + DatabaseFiles.manifest(set2.manifestNumber)
        try set2.close()
        var damaged = try #require(fileSystem2.contents(of: manifest2))
        damaged[80] ^= 0xFF
        fileSystem2.setContents(of: manifest2, to: damaged)
        let error = #expect(throws: StrataError.self) { try VersionSet.open(directory: "/db", fileSystem: fileSystem2) }
        #expect(error?.isCorruption == true)
    }

    @Test func aManifestFromAnotherDatabaseOrRenamedIsRefused() throws {
        let fileSystem = try memoryDirectory()
        let set = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        let number = set.manifestNumber
        try set.close()
        // Renamed: the header's number no longer matches the name CURRENT uses.
        try fileSystem.rename("/db/" + DatabaseFiles.manifest(number), to: "/db/MANIFEST-000050")
        try DatabaseFiles.setCurrent(50, directory: "/db", fileSystem: fileSystem)
        let error = #expect(throws: StrataError.self) { try VersionSet.open(directory: "/db", fileSystem: fileSystem) }
        guard case .incompatible(_, let reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(reason.contains("file name says 50"))
    }
}

@Suite struct VersionLookupTests {
    @Test func aTombstoneSentinelDoesNotClaimTheNextFilesFirstKey() throws {
        // F1 ends in a range tombstone piece [m, k): its largest key is the sentinel
        // (k, 2^56-1, rangeDelete). F2 starts with real entries of k. A read of k must go to F2.
        let sentinel = InternalKey(userKey: Array("k".utf8), sequence: .max, kind: .rangeDelete).encoded
        var first = fileMetadata(1, level: 1, "a", "c")
        first.largest = sentinel
        let second = fileMetadata(2, level: 1, "k", "z")
        var edit = VersionEdit()
        edit.add(first)
        edit.add(second)
        let version = try Version().applying(edit)
        #expect(first.largestIsTombstoneSentinel && !second.largestIsTombstoneSentinel)
        #expect(Array("k".utf8).withUnsafeBytes { version.candidates(for: $0).map(\.fileNumber) } == [2])
        #expect(Array("j".utf8).withUnsafeBytes { version.candidates(for: $0).map(\.fileNumber) } == [1])
        #expect(Array("b".utf8).withUnsafeBytes { version.candidates(for: $0).map(\.fileNumber) } == [1])
    }
}
