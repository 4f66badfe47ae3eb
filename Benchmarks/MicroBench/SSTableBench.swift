import Encoding
import SSTable
import VFS

/// `make bench-sstable`: build throughput and file size per codec for 1,000,000 entries of
/// 16-byte keys and 100-byte values (db_bench's shape: values compressible to about half), then
/// random point gets through the mapping (the default) and through pread with a warm and with no
/// block cache, and a sequential scan.
enum SSTableBench {
    static let count = 1_000_000

    static func key(_ index: Int) -> [UInt8] {
        Array(String(index).leftPadded(to: 16).utf8)
    }

    /// db_bench's value generator: 50 random printable bytes, repeated to fill 100.
    static func value(_ index: Int) -> [UInt8] {
        var random = BenchRandom(seed: UInt64(index))
        let half = (0..<50).map { _ in UInt8(32 + random.next() % 95) }
        return half + half
    }

    /// Only warm random gets on an uncompressed table (for profiling).
    static func getOnly() throws {
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        var options = TableBuilderOptions()
        options.compression = .none
        let builder = try TableBuilder(fileSystem: fileSystem, directory: directory.path, fileNumber: 1, options: options)
        for index in 0..<count {
            try builder.add(key: InternalKey(userKey: key(index), sequence: SequenceNumber(rawValue: UInt64(index + 1)), kind: .put).encoded, value: value(index))
        }
        _ = try builder.finish()
        let cache = BlockCache(capacity: 512 << 20)
        let reader = try TableReader.open(path: Path.join(directory.path, TableFormat.fileName(for: 1)), fileNumber: 1, fileSystem: fileSystem, options: TableReaderOptions(blockCache: cache))
        var random = BenchRandom(seed: 7)
        let probes = (0..<200_000).map { _ in key(Int(random.next() % UInt64(count))) }
        _ = try getAll(reader, probes)
        let seconds = try measure { for _ in 0..<5 { blackHole(try getAll(reader, probes)) } }
        report("random get, warm block cache", format(Double(probes.count * 5) / seconds / 1e6, 2), "M gets/s")
    }

    static func run() throws {
        print("== sstable (release build; \(count) × 16 B keys, 100 B values; ext4, mapped and pread) ==")
        let directory = try TemporaryDirectory(prefix: "strata-bench")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        var internalKeys: [[UInt8]] = []
        var values: [[UInt8]] = []
        internalKeys.reserveCapacity(count)
        values.reserveCapacity(count)
        for index in 0..<count {
            internalKeys.append(InternalKey(userKey: key(index), sequence: SequenceNumber(rawValue: UInt64(index + 1)), kind: .put).encoded)
            values.append(value(index))
        }
        let rawBytes = Double(count * (24 + 100))
        for (number, compression) in [Compression.none, .lz4, .zstd(level: 1)].enumerated() {
            var options = TableBuilderOptions()
            options.compression = compression
            let fileNumber = UInt64(number + 1)
            var metadata: TableMetadata? = nil
            let buildSeconds = try median {
                if let metadata { try fileSystem.removeFile(Path.join(directory.path, TableFormat.fileName(for: metadata.fileNumber))) }
                let builder = try TableBuilder(fileSystem: fileSystem, directory: directory.path, fileNumber: fileNumber, options: options)
                for index in 0..<count { try builder.add(key: internalKeys[index], value: values[index]) }
                metadata = try builder.finish()
            }
            let size = metadata!.fileSize
            print("\(compression):")
            report("  build", format(rawBytes / buildSeconds / 1e6, 0), "MB/s", "\(format(Double(count) / buildSeconds / 1e6, 2)) M entries/s (fsync included)")
            report("  file size", format(Double(size) / 1e6, 1), "MB", "\(format(Double(size) / rawBytes * 100, 0))% of raw")

            let path = Path.join(directory.path, TableFormat.fileName(for: fileNumber))
            var random = BenchRandom(seed: 7)
            let probes = (0..<200_000).map { _ in key(Int(random.next() % UInt64(count))) }
            // Through pread (`useMappedReads = false`). Cold: no block cache, every lookup reads
            // and decodes its data block (from the OS page cache, which the build just filled).
            // Warm: a block cache holding the whole table, filled by a first pass.
            var preadOptions = TableReaderOptions()
            preadOptions.useMappedReads = false
            let cold = try TableReader.open(path: path, fileNumber: fileNumber, fileSystem: fileSystem, options: preadOptions)
            let coldSeconds = try median { blackHole(try getAll(cold, probes)) }
            let cache = BlockCache(capacity: 512 << 20)
            preadOptions.blockCache = cache
            let warmPread = try TableReader.open(path: path, fileNumber: fileNumber, fileSystem: fileSystem, options: preadOptions)
            _ = try getAll(warmPread, probes)
            let warmSeconds = try median { blackHole(try getAll(warmPread, probes)) }
            // The default: mapped. Uncompressed blocks are used in place (no cache entry);
            // compressed ones are decompressed from the mapping into a block cache.
            let mappedCache = BlockCache(capacity: 512 << 20)
            let warm = try TableReader.open(path: path, fileNumber: fileNumber, fileSystem: fileSystem, options: TableReaderOptions(blockCache: mappedCache))
            _ = try getAll(warm, probes)
            let mappedSeconds = try median { blackHole(try getAll(warm, probes)) }
            report("  random get, mapped (default)", format(Double(probes.count) / mappedSeconds / 1e6, 2), "M gets/s", "\(format(mappedSeconds * 1e9 / Double(probes.count), 0)) ns/get, block-cache hit rate \(Int(mappedCache.statistics.hitRate * 100))%")
            report("  random get, pread, warm block cache", format(Double(probes.count) / warmSeconds / 1e6, 2), "M gets/s", "\(format(warmSeconds * 1e9 / Double(probes.count), 0)) ns/get, hit rate \(Int(cache.statistics.hitRate * 100))%")
            report("  random get, pread, no block cache", format(Double(probes.count) / coldSeconds / 1e6, 2), "M gets/s", "\(format(coldSeconds * 1e9 / Double(probes.count), 0)) ns/get")
            let scanSeconds = try median {
                var iterator = warm.makeIterator()
                try iterator.seekToFirst()
                var entries = 0
                while iterator.isValid {
                    entries += 1
                    try iterator.next()
                }
                precondition(entries == count)
            }
            report("  sequential scan, mapped", format(Double(count) / scanSeconds / 1e6, 2), "M entries/s")
        }
    }

    @inline(never)
    static func getAll(_ reader: TableReader, _ keys: [[UInt8]]) throws -> Int {
        var found = 0
        for key in keys {
            if case .value = try reader.get(key) { found += 1 }
        }
        return found
    }
}
