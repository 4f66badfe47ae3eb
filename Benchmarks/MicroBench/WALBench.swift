#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Synchronization
import VFS
import WAL

/// `make bench-wal`: WAL append throughput next to a raw sequential write of the same bytes on
/// the same disk, plus synced and group-commit rates.
enum WALBench {
    /// Only the unsynced append loop (for profiling).
    static func appendOnly() throws {
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let writer = try WALWriter.create(directory: directory.path, segmentNumber: 1, databaseID: DatabaseID.random(), fileSystem: PosixFileSystem())
        let record = [UInt8](repeating: 0xA5, count: 100)
        let seconds = try measure {
            try record.withUnsafeBytes { raw in
                for _ in 0..<5_000_000 { try writer.append(raw) }
            }
            try writer.flush()
        }
        report("WAL unsynced append, 100 B records", format(5_000_000 / seconds / 1e6, 2), "M records/s")
        try writer.close()
    }

    static func run() throws {
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let records = 2_500_000
        let recordSize = 100
        let id = DatabaseID.random()
        print("== wal (release build; directory \(directory.path); medians of 5 interleaved rounds) ==")

        // The reference: the same payload bytes written with plain 64 KiB writes, like `dd`.
        // Legs are interleaved, each starts after a global sync() so no leg inherits another's
        // dirty pages, and each is measured twice: into the page cache (no sync), and to the disk
        // (a final fdatasync, like `dd conv=fdatasync`: the physical reference).
        let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
        let totalBytes = records * recordSize
        let record = [UInt8](repeating: 0xA5, count: recordSize)
        var rates: [String: [Double]] = [:]
        for round in 0..<5 {
            for durable in [false, true] {
                sync()
                let referencePath = Path.join(directory.path, "reference")
                let file = try fileSystem.openWritable(referencePath, mode: .truncate)
                let referenceSeconds = try measure {
                    var written = 0
                    try chunk.withUnsafeBytes { raw in
                        while written < totalBytes {
                            try file.append(UnsafeRawBufferPointer(rebasing: raw[0..<min(raw.count, totalBytes - written)]))
                            written += raw.count
                        }
                    }
                    if durable { try file.sync() }
                }
                try file.close()
                try fileSystem.removeFile(referencePath)
                rates["reference-\(durable)", default: []].append(Double(totalBytes) / referenceSeconds / 1e6)

                sync()
                // Creation syncs the header and directory: outside the timed region.
                let number = UInt64(round * 2 + (durable ? 2 : 1))
                let writer = try WALWriter.create(directory: directory.path, segmentNumber: number, databaseID: id, fileSystem: fileSystem)
                let walSeconds = try measure {
                    try record.withUnsafeBytes { raw in
                        for _ in 0..<records { try writer.append(raw) }
                    }
                    if durable { try writer.sync() } else { try writer.flush() }
                }
                try writer.close()
                try fileSystem.removeFile(WALSegment(number: number, directory: directory.path).path)
                rates["wal-\(durable)", default: []].append(Double(totalBytes) / walSeconds / 1e6)
            }
        }
        func median(_ key: String) -> Double { rates[key]!.sorted()[rates[key]!.count / 2] }
        for durable in [false, true] {
            let reference = median("reference-\(durable)")
            let wal = median("wal-\(durable)")
            let what = durable ? "to disk (final fdatasync)" : "to page cache (no sync)"
            report("raw 64 KiB writes, \(what)", format(reference, 0), "MB/s", "\(totalBytes / 1_000_000) MB of payload")
            report("WAL append 100 B records, \(what)", format(wal, 0), "MB/s",
                   "\(format(wal / reference * 100, 0))% of reference; \(format(Double(records) * wal / Double(totalBytes), 2)) M records/s")
        }

        // Synced appends, one thread: one fdatasync per record.
        let syncedRecords = 2_000
        let writer = try WALWriter.create(directory: directory.path, segmentNumber: 100, databaseID: id, fileSystem: fileSystem)
        let syncedSeconds = try measure {
            for _ in 0..<syncedRecords {
                try writer.append(record)
                try writer.sync()
            }
        }
        try writer.close()
        report("WAL synced append, 1 thread", format(Double(syncedRecords) / syncedSeconds, 0), "syncs/s")

        // Group commit: 8 threads, synced.
        for threads in [1, 8] {
            let log = LogWriter(try WALWriter.create(directory: directory.path, segmentNumber: UInt64(20 + threads), databaseID: id, fileSystem: fileSystem))
            let perThread = 4_000 / threads * (threads == 1 ? 1 : 2)
            let seconds = measure {
                Threads.run(threads) { _ in
                    for _ in 0..<perThread { try? log.append(record, sync: true) }
                }
            }
            try log.close()
            let statistics = log.statistics
            report("LogWriter synced, \(threads) thread(s)", format(Double(threads * perThread) / seconds, 0), "records/s",
                   "\(statistics.syncs) syncs for \(threads * perThread) records")
        }
    }
}

