import Encoding
import Manifest
import SSTable
import StrataTool
import VFS
import WAL

/// The decoders that read untrusted bytes, each wrapped as one function that takes arbitrary
/// input and must return normally — errors are the expected answer to damage; a trap, a hang or
/// a sanitizer report is a bug. `strata-fuzz` feeds them to libFuzzer; `FuzzRegressionTests`
/// replays every saved input (corpus and past crashes) in the ordinary test run.
public enum FuzzHarness: String, CaseIterable, Sendable {
    /// A whole table file: footer, metaindex, properties, filter, range tombstones, index, and
    /// every data block through iteration both ways and point lookups.
    case table
    /// A WAL segment (a valid header is prepended when the first byte is even, to reach the
    /// fragment decoder), replayed in every recovery mode, records decoded as write batches.
    case wal
    /// One manifest record: a `VersionEdit`.
    case versionEdit = "version-edit"
    /// The small encodings: varints, fixed-width reads, internal keys, write batches, block
    /// decompression.
    case encoding
    /// `strata exec` protocol lines, in text and hex mode.
    case exec

    /// Runs the harness on `data`.
    public func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .table: FuzzHarness.table(data)
        case .wal: FuzzHarness.wal(data)
        case .versionEdit: _ = try? VersionEdit(decoding: data, file: "<fuzz>", offset: 0)
        case .encoding: FuzzHarness.encoding(data)
        case .exec: FuzzHarness.exec(data)
        }
    }

    static func table(_ data: UnsafeRawBufferPointer) {
        let fileSystem = MemoryFileSystem()
        fileSystem.setContents(of: "/t/000001.sst", to: Array(data))
        guard let reader = try? TableReader.open(path: "/t/000001.sst", fileNumber: 1, fileSystem: fileSystem) else { return }
        var iterator = reader.makeIterator()
        var keys: [[UInt8]] = []
        do {
            try iterator.seekToFirst()
            while iterator.isValid && keys.count < 10_000 {
                keys.append(Array(iterator.key))
                _ = iterator.value
                try iterator.next()
            }
            try iterator.seekToLast()
            var steps = 0
            while iterator.isValid && steps < 10_000 {
                try iterator.prev()
                steps += 1
            }
        } catch {}
        for key in keys.prefix(64) {
            _ = try? reader.get(Array(key.dropLast(min(8, key.count))))
            var seeker = reader.makeIterator()
            _ = try? key.withUnsafeBytes { try seeker.seek(to: $0) }
            _ = try? key.withUnsafeBytes { try seeker.seekForPrev(to: $0) }
        }
        _ = try? reader.get([0x61])
        _ = try? reader.mayContain(UnsafeRawBufferPointer(start: nil, count: 0))
    }

    static let databaseID = DatabaseID(bytes: Array(0..<16))!

    static func wal(_ data: UnsafeRawBufferPointer) {
        let fileSystem = MemoryFileSystem()
        var bytes = Array(data)
        if bytes.first.map({ $0 & 1 == 0 }) ?? true {
            let header = WALSegmentHeader(databaseID: databaseID, segmentNumber: 1, creationTimeMicros: 0)
            bytes = header.encoded + bytes.dropFirst(min(1, bytes.count))
        }
        fileSystem.setContents(of: "/w/wal-000001.log", to: bytes)
        for mode in WALRecoveryMode.allCases {
            _ = try? WALReader.replay(
                segments: [WALSegment(number: 1, directory: "/w")], databaseID: databaseID, fileSystem: fileSystem, mode: mode
            ) { payload, _ in
                _ = try? WriteBatch(decoding: payload)
            }
        }
    }

    static func encoding(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, data.count > 0 else { return }
        let end = base + data.count
        var cursor = base
        while cursor < end, let (_, length) = Varint.decode64(cursor, end: end) { cursor += length }
        _ = Varint.decode32(base, end: end)
        var reader = ByteReader(data)
        while !reader.isAtEnd {
            guard (try? reader.readLengthPrefixed()) != nil, (try? reader.readVarint32()) != nil, (try? reader.readFixed32()) != nil else { break }
        }
        _ = try? InternalKey(decoding: data)
        _ = try? WriteBatch(decoding: data)
        _ = WriteBatch.sequenceRange(of: data)
        let decompressor = BlockDecompressor()
        for codec in [CodecID.lz4.rawValue, CodecID.zstd.rawValue, 9] {
            _ = try? decompressor.decompress(data, codecByte: codec, file: "<fuzz>", offset: 0)
        }
    }

    static func exec(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        for hex in [false, true] {
            let parser = ExecParser(text: ByteText(hex: hex))
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                _ = try? parser.parse(line)
                _ = try? parser.parseBatchLine(line)
            }
        }
    }
}
