#if canImport(Glibc)
import Glibc
#endif
import Compaction
import Encoding
import Manifest
import Memtable
import SSTable
import VFS

/// `make bench-compaction`: the leveled shape and write amplification of loading 2,000,000 random
/// keys with small level targets, and the memory a compaction of four ≥ 500 MB inputs needs.
enum CompactionBench {
    static func run() throws {
        try leveledLoad()
        try memoryBound()
    }

    /// A minimal single-threaded tree: memtable → L0 flushes → compactions until none is needed.
    static func leveledLoad() throws {
        print("== compaction: leveled load (release build; 2,000,000 random 16 B keys, 100 B values) ==")
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let versionSet = try VersionSet.create(directory: directory.path, fileSystem: fileSystem)
        let tableCache = TableCache(fileSystem: fileSystem, directory: directory.path, maxOpenFiles: 1000, options: TableReaderOptions(blockCache: BlockCache(capacity: 8 << 20)))
        var options = CompactionOptions()
        options.maxBytesForLevelBase = 10 << 20
        options.levelMultiplier = 10
        options.targetFileSize = 2 << 20
        options.level0CompactionTrigger = 4
        var builderOptions = TableBuilderOptions()
        builderOptions.compression = .none
        let compactor = Compactor(versionSet: versionSet, tableCache: tableCache, strategy: LeveledCompactionPicker(options: options), builderOptions: builderOptions)
        let writeBuffer = 4 << 20
        var memtable = try Memtable(capacity: 64 << 20)
        var random = BenchRandom(seed: 42)
        var userBytes: UInt64 = 0
        var flushedBytes: UInt64 = 0
        let value = [UInt8](repeating: 0x61, count: 100)
        func flush() throws {
            let frozen = memtable.freeze()
            let number = versionSet.newFileNumber(reserve: true)
            let table = try TableBuilder.build(from: frozen.flushSource, fileSystem: fileSystem, directory: directory.path, fileNumber: number, options: builderOptions)
            var edit = VersionEdit()
            edit.add(FileMetadata(table, level: 0))
            edit.lastSequence = frozen.maxSequence
            try versionSet.logAndApply(edit)
            versionSet.references.unreserve(number)
            flushedBytes += table.fileSize
            memtable = try Memtable(capacity: 64 << 20)
            memtable.injectMaxSequence(frozen.maxSequence)
            while try compactor.compactOnce(snapshots: []) != nil {}
        }
        let seconds = try measure {
            for index in 0..<2_000_000 {
                let key = Array(String(random.next() % 100_000_000).leftPadded(to: 16).utf8)
                try memtable.put(key, value, sequence: SequenceNumber(rawValue: UInt64(index + 1)))
                userBytes += UInt64(key.count + value.count)
                if memtable.approximateMemoryUsage >= writeBuffer { try flush() }
            }
            try flush()
        }
        let version = versionSet.currentVersion
        try version.checkInvariants()
        let statistics = compactor.levelStatistics
        let compactionWritten = statistics.reduce(0) { $0 + $1.bytesWritten }
        print(version)
        for level in 1..<(Version.levelCount - 1) where version.size(ofLevel: level) > 0 {
            print("  L\(level) size \(format(Double(version.size(ofLevel: level)) / 1e6, 1)) MB, target \(format(Double(options.targetSize(ofLevel: level)) / 1e6, 1)) MB")
        }
        for (level, totals) in statistics.enumerated() where totals.compactions > 0 {
            print("  into L\(level): \(totals.compactions) compactions (\(totals.trivialMoves) trivial moves), read \(format(Double(totals.bytesRead) / 1e6, 1)) MB, wrote \(format(Double(totals.bytesWritten) / 1e6, 1)) MB, dropped \(totals.dropped) entries")
        }
        report("user bytes", format(Double(userBytes) / 1e6, 1), "MB")
        report("flushed (L0) bytes", format(Double(flushedBytes) / 1e6, 1), "MB")
        report("compaction bytes written", format(Double(compactionWritten) / 1e6, 1), "MB")
        report("write amplification (flush + compaction) / user", format(Double(flushedBytes + compactionWritten) / Double(userBytes), 2), "x")
        report("load + compaction time", format(seconds, 1), "s", "\(format(2_000_000 / seconds / 1e3, 0)) K keys/s, single thread, no WAL")
        try versionSet.close()
    }

    /// Compacts four overlapping L0 files of together ≥ 500 MB and reports the peak RSS growth.
    static func memoryBound() throws {
        print("== compaction: memory bound (4 overlapping inputs, ≥ 500 MB) ==")
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let versionSet = try VersionSet.create(directory: directory.path, fileSystem: fileSystem)
        let tableCache = TableCache(fileSystem: fileSystem, directory: directory.path, maxOpenFiles: 100)
        var builderOptions = TableBuilderOptions()
        builderOptions.compression = .none
        let perFile = 1_150_000
        var inputBytes: UInt64 = 0
        var edit = VersionEdit()
        for file in 0..<4 {
            let number = versionSet.newFileNumber(reserve: true)
            let builder = try TableBuilder(fileSystem: fileSystem, directory: directory.path, fileNumber: number, options: builderOptions)
            var random = BenchRandom(seed: UInt64(file))
            for index in 0..<perFile {
                // Interleaved keys: every file spans the whole key range, so all four overlap.
                let key = Array(String(index * 4 + file).leftPadded(to: 16).utf8)
                let value = (0..<100).map { _ in UInt8(32 + random.next() % 95) }
                try builder.add(key: InternalKey(userKey: key, sequence: SequenceNumber(rawValue: UInt64(file * perFile + index + 1)), kind: .put).encoded, value: value)
            }
            let table = try builder.finish()
            inputBytes += table.fileSize
            edit.add(FileMetadata(table, level: 0))
        }
        try versionSet.logAndApply(edit)
        let picker = LeveledCompactionPicker()
        let compaction = picker.compaction(level: 0, start: nil, end: nil, version: versionSet.currentVersion)!
        let before = residentKilobytes()
        resetPeakResident()
        let job = CompactionJob(compaction: compaction, version: versionSet.currentVersion, snapshots: [], versionSet: versionSet, tableCache: tableCache, builderOptions: builderOptions, options: picker.options)
        var result: CompactionResult? = nil
        let seconds = try measure { result = try job.run() }
        let peak = peakResidentKilobytes()
        report("input bytes", format(Double(inputBytes) / 1e6, 0), "MB", "4 files")
        report("output", format(Double(result!.statistics.bytesWritten) / 1e6, 0), "MB", "\(result!.outputs.count) files of ≤ 64 MiB")
        report("compaction throughput", format(Double(inputBytes) / seconds / 1e6, 0), "MB/s read")
        report("RSS before", format(Double(before) / 1024, 1), "MiB")
        report("peak RSS during compaction (whole process)", format(Double(peak) / 1024, 1), "MiB", "growth \(format(Double(peak - min(peak, before)) / 1024, 1)) MiB over the RSS before (limit 64 MiB)")
        try versionSet.close()
    }

    /// Current resident set size (VmRSS) in KiB.
    static func residentKilobytes() -> Int { statusField("VmRSS:") }

    /// Peak resident set size since the last reset (VmHWM) in KiB.
    static func peakResidentKilobytes() -> Int { statusField("VmHWM:") }

    /// Resets the kernel's peak-RSS mark to the current RSS (`echo 5 > /proc/self/clear_refs`).
    static func resetPeakResident() {
        let descriptor = open("/proc/self/clear_refs", O_WRONLY)
        guard descriptor >= 0 else { return }
        _ = write(descriptor, "5", 1)
        close(descriptor)
    }

    static func statusField(_ name: String) -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.hasPrefix(name) {
                return Int(String(text.dropFirst(name.count)).trimmingCharacters(in: " \tkB\n")) ?? 0
            }
        }
        return 0
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var result = Substring(self)
        while let first = result.first, set.contains(first) { result.removeFirst() }
        while let last = result.last, set.contains(last) { result.removeLast() }
        return String(result)
    }
}
