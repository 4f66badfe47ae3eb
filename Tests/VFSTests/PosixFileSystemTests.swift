#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import VFS

extension WritableFile {
    /// Appends bytes given as an array (test convenience; keeps literals typed as `UInt8`).
    func append(bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }
}

@Suite struct PosixFileSystemTests {
    let fileSystem = PosixFileSystem()

    @Test func writesAppendsSyncsAndReadsBack() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "data")
        let file = try fileSystem.openWritable(path, mode: .createNew)
        try file.append(bytes: [1, 2, 3])
        try file.append(bytes: [4, 5])
        try file.sync()
        #expect(file.size == 5)
        try file.close()
        try file.close()  // idempotent
        #expect(try fileSystem.readFile(path) == [1, 2, 3, 4, 5])

        // Append mode keeps the contents and continues after them.
        let again = try fileSystem.openWritable(path, mode: .append)
        #expect(again.size == 5)
        try again.append(bytes: [6])
        try again.truncate(to: 4)
        try again.append(bytes: [9])
        try again.close()
        #expect(try fileSystem.readFile(path) == [1, 2, 3, 4, 9])

        let reader = try fileSystem.openReadable(path)
        let buffer = RawBuffer(count: 10)
        #expect(try reader.read(at: 3, into: buffer.mutableBytes) == 2)  // short only at EOF
        #expect(buffer.withBytes { Array($0.prefix(2)) } == [4, 9])
        #expect(throws: StrataError.self) { try reader.readExactly(at: 2, count: 4) }
    }

    @Test func createNewRefusesAnExistingFileWithEEXIST() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "once")
        try fileSystem.writeFile(path, [1], sync: false)
        let error = #expect(throws: StrataError.self) { try fileSystem.openWritable(path, mode: .createNew) }
        #expect(error == .io(path: path, errno: EEXIST, operation: "open"))
    }

    @Test func missingFilesFailWithTheirPathAndErrno() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "absent")
        let error = #expect(throws: StrataError.self) { try fileSystem.openReadable(path) }
        #expect(error == .io(path: path, errno: ENOENT, operation: "open"))
        #expect(throws: StrataError.self) { try fileSystem.removeFile(path) }
        #expect(throws: StrataError.self) { try fileSystem.fileSize(path) }
    }

    @Test func renameListRemoveAndDirectories() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let nested = Path.join(scratch.path, "a/b")
        try fileSystem.createDirectory(nested)
        try fileSystem.createDirectory(nested)  // exists: fine
        #expect(fileSystem.isDirectory(nested))
        try fileSystem.writeFile(Path.join(scratch.path, "x.tmp"), [7], sync: true)
        try fileSystem.rename(Path.join(scratch.path, "x.tmp"), to: Path.join(scratch.path, "x"))
        try fileSystem.syncDirectory(scratch.path)
        #expect(Set(try fileSystem.listDirectory(scratch.path)) == ["a", "x"])
        #expect(try fileSystem.fileSize(Path.join(scratch.path, "x")) == 1)
        try fileSystem.removeFile(Path.join(scratch.path, "x"))
        #expect(!fileSystem.exists(Path.join(scratch.path, "x")))
        rmdir(nested)
        rmdir(Path.join(scratch.path, "a"))
    }

    @Test func lockIsExclusiveEvenWithinOneProcessAndNamesTheHolder() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = Path.join(scratch.path, "LOCK")
        let held = try fileSystem.lock(path)
        let error = #expect(throws: StrataError.self) { try fileSystem.lock(path) }
        #expect(error == .locked(path: path, holder: "pid \(getpid())"))
        held.unlock()
        let again = try fileSystem.lock(path)
        again.unlock()
    }
}
