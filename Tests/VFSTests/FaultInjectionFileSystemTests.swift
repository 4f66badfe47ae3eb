#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import VFS

@Suite struct FaultInjectionFileSystemTests {
    func makeFileSystem() throws -> (MemoryFileSystem, FaultInjectionFileSystem) {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        return (memory, FaultInjectionFileSystem(wrapping: memory))
    }

    @Test func theNthWriteFailsWithTheFilesPath() throws {
        let (memory, fileSystem) = try makeFileSystem()
        fileSystem.inject(.init(.write, pathContains: "wal", after: 2))
        let other = try fileSystem.openWritable("/db/other", mode: .truncate)
        let file = try fileSystem.openWritable("/db/wal-000001.log", mode: .truncate)
        for _ in 0..<5 { try other.append(bytes: [0]) }  // filtered out by path
        try file.append(bytes: [1])
        try file.append(bytes: [2])
        let error = #expect(throws: StrataError.self) { try file.append(bytes: [3]) }
        #expect(error == .io(path: "/db/wal-000001.log", errno: EIO, operation: "pwrite"))
        // A one-shot fault is disarmed after firing; the failed write left no bytes behind.
        try file.append(bytes: [4])
        #expect(memory.contents(of: "/db/wal-000001.log") == [1, 2, 4])
        #expect(fileSystem.injectedFailures == 1)
    }

    @Test func persistentFaultsKeepFailing() throws {
        let (_, fileSystem) = try makeFileSystem()
        fileSystem.inject(.init(.sync, persistent: true))
        let file = try fileSystem.openWritable("/db/f", mode: .truncate)
        for _ in 0..<3 { #expect(throws: StrataError.self) { try file.sync() } }
        fileSystem.clearFaults()
        try file.sync()
    }

    @Test func eachOperationKindCanFail() throws {
        let (_, fileSystem) = try makeFileSystem()
        try fileSystem.writeFile("/db/a", [1], sync: true)
        let cases: [(FaultInjectionFileSystem.Operation, () throws -> Void)] = [
            (.openWritable, { _ = try fileSystem.openWritable("/db/b", mode: .truncate) }),
            (.openReadable, { _ = try fileSystem.openReadable("/db/a") }),
            (.rename, { try fileSystem.rename("/db/a", to: "/db/c") }),
            (.remove, { try fileSystem.removeFile("/db/a") }),
            (.syncDirectory, { try fileSystem.syncDirectory("/db") }),
            (.list, { _ = try fileSystem.listDirectory("/db") }),
            (.lock, { _ = try fileSystem.lock("/db/LOCK") }),
            (.read, { _ = try fileSystem.readFile("/db/a") }),
        ]
        for (operation, call) in cases {
            fileSystem.inject(.init(operation, errno: EACCES))
            let error = #expect(throws: StrataError.self, "\(operation)") { try call() }
            guard case .io(_, let code, _) = error else {
                Issue.record("\(operation) gave \(String(describing: error))")
                continue
            }
            #expect(code == EACCES)
        }
        #expect(fileSystem.injectedFailures == cases.count)
        #expect(fileSystem.exists("/db/a"))  // nothing happened underneath the failed calls
    }

    @Test func aFullDiskFailsAppendsWithENOSPC() throws {
        let (_, fileSystem) = try makeFileSystem()
        fileSystem.setDiskCapacity(10)
        let file = try fileSystem.openWritable("/db/big", mode: .truncate)
        try file.append(bytes: [UInt8](repeating: 1, count: 8))
        let error = #expect(throws: StrataError.self) {
            try file.append(bytes: [UInt8](repeating: 2, count: 3))
        }
        #expect(error == .io(path: "/db/big", errno: ENOSPC, operation: "pwrite"))
        #expect(file.size == 8)
        fileSystem.setDiskCapacity(nil)
        try file.append(bytes: [UInt8](repeating: 2, count: 3))
    }
}
