#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import VFS

@Suite struct MemoryFileSystemTests {
    func write(_ file: any WritableFile, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try file.append($0) }
    }

    @Test func powerCutLosesExactlyTheUnsyncedBytes() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        let file = try fileSystem.openWritable("/db/log", mode: .createNew)
        try fileSystem.syncDirectory("/db")
        try write(file, [1, 2, 3])
        try file.sync()
        try write(file, [4, 5])  // never synced
        #expect(fileSystem.contents(of: "/db/log") == [1, 2, 3, 4, 5])
        fileSystem.simulatePowerCut()
        #expect(fileSystem.contents(of: "/db/log") == [1, 2, 3])
        // The dead process's handle is unusable.
        #expect(throws: StrataError.self) { try write(file, [6]) }
    }

    @Test func aCreatedFileWithoutADirectorySyncVanishes() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        let file = try fileSystem.openWritable("/db/new", mode: .createNew)
        try write(file, [9])
        try file.sync()  // data synced, directory entry not
        fileSystem.simulatePowerCut()
        #expect(!fileSystem.exists("/db/new"))
    }

    @Test func unsyncedRenamesAndRemovalsAreUndone() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        try fileSystem.writeFile("/db/a", [1], sync: true)
        try fileSystem.writeFile("/db/gone", [2], sync: true)
        try fileSystem.syncDirectory("/db")
        try fileSystem.rename("/db/a", to: "/db/b")
        try fileSystem.removeFile("/db/gone")
        #expect(Set(try fileSystem.listDirectory("/db")) == ["b"])
        fileSystem.simulatePowerCut()
        #expect(Set(try fileSystem.listDirectory("/db")) == ["a", "gone"])
        #expect(fileSystem.contents(of: "/db/a") == [1])

        // The same operations followed by a directory sync survive.
        try fileSystem.rename("/db/a", to: "/db/b")
        try fileSystem.removeFile("/db/gone")
        try fileSystem.syncDirectory("/db")
        fileSystem.simulatePowerCut()
        #expect(Set(try fileSystem.listDirectory("/db")) == ["b"])
    }

    @Test func atomicReplaceIsOldOrNewNeverAMix() throws {
        // The CURRENT-file protocol: write temp, sync, rename, sync directory.
        for crashAfterStep in 0...3 {
            let fileSystem = MemoryFileSystem()
            try fileSystem.createDirectory("/db")
            try fileSystem.writeFile("/db/CURRENT", Array("old".utf8), sync: true)
            try fileSystem.syncDirectory("/db")
            let temp = try fileSystem.openWritable("/db/CURRENT.tmp", mode: .truncate)
            try write(temp, Array("new".utf8))
            if crashAfterStep >= 1 { try temp.sync() }
            if crashAfterStep >= 2 { try fileSystem.rename("/db/CURRENT.tmp", to: "/db/CURRENT") }
            if crashAfterStep >= 3 { try fileSystem.syncDirectory("/db") }
            fileSystem.simulatePowerCut()
            let current = String(decoding: try fileSystem.readFile("/db/CURRENT"), as: UTF8.self)
            #expect(current == (crashAfterStep == 3 ? "new" : "old"))
        }
    }

    @Test func tornWritesKeepAPrefixOfTheUnsyncedBytes() throws {
        var lengths = Set<Int>()
        for seed in 0..<40 {
            let fileSystem = MemoryFileSystem()
            try fileSystem.createDirectory("/db")
            let file = try fileSystem.openWritable("/db/log", mode: .createNew)
            try fileSystem.syncDirectory("/db")
            try write(file, [1, 2])
            try file.sync()
            try write(file, [3, 4, 5, 6])
            fileSystem.simulatePowerCut(.keepRandomPrefix(seed: UInt64(seed)))
            let survivor = try #require(fileSystem.contents(of: "/db/log"))
            #expect(Array([1, 2, 3, 4, 5, 6].prefix(survivor.count)) == survivor)
            #expect(survivor.count >= 2)
            lengths.insert(survivor.count)
        }
        #expect(lengths.count > 2)  // different seeds tear at different points
    }

    @Test func locksConflictUntilReleasedOrPowerCut() throws {
        let fileSystem = MemoryFileSystem()
        try fileSystem.createDirectory("/db")
        let lock = try fileSystem.lock("/db/LOCK")
        #expect(throws: StrataError.self) { try fileSystem.lock("/db/LOCK") }
        lock.unlock()
        let second = try fileSystem.lock("/db/LOCK")
        fileSystem.simulatePowerCut()
        let third = try fileSystem.lock("/db/LOCK")  // the dead process's lock is gone
        second.unlock()  // must not release the new holder's lock
        #expect(throws: StrataError.self) { try fileSystem.lock("/db/LOCK") }
        third.unlock()
    }

    @Test func errorsCarryPathAndErrno() {
        let fileSystem = MemoryFileSystem()
        let error = #expect(throws: StrataError.self) { try fileSystem.openWritable("/nodir/file", mode: .truncate) }
        #expect(error == .io(path: "/nodir/file", errno: ENOENT, operation: "open"))
        #expect(throws: StrataError.self) { try fileSystem.openReadable("/missing") }
    }
}
