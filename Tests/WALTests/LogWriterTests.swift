import Dispatch
import Synchronization
import Testing
import Encoding
import StrataTestSupport
import VFS
import WAL

@Suite struct LogWriterTests {
    @Test func groupCommitIssuesFarFewerSyncsThanRecords() throws {
        // 8 threads × 10,000 synced 100-byte records on the real file system.
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let log = LogWriter(try WALWriter.create(directory: directory.path, segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem))
        let threads = 8
        let perThread = 10_000
        let failures = Atomic<Int>(0)
        let start = WallClock.monotonicNanoseconds()
        Threads.run(threads) { thread in
            for index in 0..<perThread {
                var record = [UInt8](repeating: UInt8(thread), count: 100)
                withUnsafeBytes(of: UInt32(index).littleEndian) { for byte in 0..<4 { record[1 + byte] = $0[byte] } }
                do { try log.append(record, sync: true) } catch { failures.add(1, ordering: .relaxed) }
            }
        }
        let seconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        try log.close()
        let statistics = log.statistics
        print("group commit: \(threads)×\(perThread) synced 100 B records -> \(statistics.syncs) syncs, \(statistics.groups) groups, \(Int(Double(threads * perThread) / seconds)) records/s")
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(statistics.records == UInt64(threads * perThread))
        #expect(statistics.syncs < UInt64(threads * perThread / 4), "\(statistics.syncs) syncs for \(threads * perThread) records")

        // Every record is readable, and each thread's records are in its submission order.
        var nextIndex = [Int](repeating: 0, count: threads)
        var outOfOrder = 0
        let (records, _) = try replayAll(fileSystem, directory: directory.path)
        for record in records {
            let thread = Int(record[0])
            let index = Int(record[1]) | Int(record[2]) << 8 | Int(record[3]) << 16 | Int(record[4]) << 24
            if index != nextIndex[thread] { outOfOrder += 1 }
            nextIndex[thread] = index + 1
        }
        #expect(records.count == threads * perThread)
        #expect(outOfOrder == 0)
        #expect(nextIndex == [Int](repeating: perThread, count: threads))
    }

    @Test func aFailedSyncFailsTheWholeGroupAndEveryLaterAppend() throws {
        let memory = try memoryDirectory()
        let fileSystem = FaultInjectionFileSystem(wrapping: memory)
        let log = LogWriter(try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem))
        try log.append([1], sync: true)
        fileSystem.inject(.init(.sync, pathContains: "wal-"))
        let errors = Locked<[StrataError]>([])
        Threads.run(4) { thread in
            for _ in 0..<50 {
                do { try log.append([UInt8(thread)], sync: true) } catch let error as StrataError {
                    errors.withLock { $0.append(error) }
                } catch {}
            }
        }
        let seen = errors.withLock { $0 }
        let expected = StrataError.io(path: "/db/wal-000001.log", errno: 5, operation: "fdatasync")
        // The injected fault fired once; from then on every append reports that same error.
        #expect(fileSystem.injectedFailures == 1)
        #expect(!seen.isEmpty && seen.allSatisfy { $0 == expected })
        #expect(throws: StrataError.self) { try log.append([9], sync: false) }
        #expect(throws: StrataError.self) { try log.sync() }
    }

    @Test func aFailedWriteIsStickyInTheSegmentWriter() throws {
        let memory = try memoryDirectory()
        let fileSystem = FaultInjectionFileSystem(wrapping: memory)
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        fileSystem.inject(.init(.write, pathContains: "wal-"))
        try writer.append([1, 2, 3])  // buffered: no write yet
        let first = #expect(throws: StrataError.self) { try writer.sync() }
        // The fault is gone, but the log has a hole: it must keep refusing.
        let second = #expect(throws: StrataError.self) { try writer.append([4]) }
        #expect(first != nil && first == second)
        #expect(writer.error == first)
    }

    @Test func rotationThroughTheQueueStartsTheNextSegment() throws {
        let fileSystem = try memoryDirectory()
        let log = LogWriter(try WALWriter.create(directory: "/db", segmentNumber: 5, databaseID: testDatabaseID, fileSystem: fileSystem))
        try log.append([1], sync: false)
        #expect(try log.rotateNext() == 6)
        try log.append([2], sync: true)
        #expect(log.segmentNumber == 6)
        try log.close()
        let (records, result) = try replayAll(fileSystem, from: 5)
        #expect(records == [[1], [2]])
        #expect(result.segments.map(\.number) == [5, 6])
    }

    @Test func oversizedRecordsFailAloneWithoutPoisoningTheLog() throws {
        let fileSystem = try memoryDirectory()
        var options = WALOptions()
        options.maxRecordSize = 10
        let log = LogWriter(try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem, options: options))
        #expect(throws: StrataError.invalidArgument("WAL record of 11 bytes exceeds the maximum of 10")) {
            try log.append([UInt8](repeating: 0, count: 11), sync: true)
        }
        try log.append([1, 2], sync: true)
        try log.close()
    }
}
