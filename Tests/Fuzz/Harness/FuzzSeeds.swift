import Encoding
import Manifest
import SSTable
import VFS
import WAL

/// Valid inputs for each harness, made with the real encoders, to start the fuzzers from
/// inputs that reach deep into the decoders.
public enum FuzzSeeds {
    /// Named seed inputs for `harness`.
    public static func seeds(for harness: FuzzHarness) throws -> [(name: String, bytes: [UInt8])] {
        switch harness {
        case .table:
            var seeds: [(String, [UInt8])] = []
            for (name, compression) in [("none", Compression.none), ("lz4", .lz4), ("zstd", .zstd(level: 1))] {
                let fileSystem = MemoryFileSystem()
                try fileSystem.createDirectory("/t")
                var options = TableBuilderOptions()
                options.blockSize = 256
                options.compression = compression
                let builder = try TableBuilder(fileSystem: fileSystem, directory: "/t", fileNumber: 1, options: options)
                for index in 0..<40 {
                    let key = InternalKey(userKey: Array("key\(String(index).leftPadded(to: 3))".utf8), sequence: SequenceNumber(rawValue: UInt64(100 - index)), kind: index % 7 == 0 ? .delete : .put)
                    try builder.add(key: key.encoded, value: index % 7 == 0 ? [] : Array("value-\(index)".utf8))
                }
                try builder.addRangeTombstone(RangeTombstone(start: Array("key1".utf8), end: Array("key2".utf8), sequence: SequenceNumber(rawValue: 50)))
                _ = try builder.finish()
                seeds.append(("table-\(name)", fileSystem.contents(of: "/t/000001.sst") ?? []))
            }
            return seeds
        case .wal:
            let fileSystem = MemoryFileSystem()
            try fileSystem.createDirectory("/w")
            let writer = try WALWriter.create(directory: "/w", segmentNumber: 1, databaseID: FuzzHarness.databaseID, fileSystem: fileSystem)
            for index in 0..<12 {
                var batch = WriteBatch()
                batch.put(Array("k\(index)".utf8), [UInt8](repeating: UInt8(index), count: index * 9))
                if index % 3 == 0 { batch.deleteRange(from: "a", to: "b") }
                try writer.append(batch.encoded)
            }
            try writer.append([UInt8](repeating: 7, count: 40_000))  // spans blocks
            try writer.close()
            let segment = fileSystem.contents(of: "/w/wal-000001.log") ?? []
            // Odd first byte: used whole; even: the harness prepends a header to the rest.
            return [("segment-whole", segment), ("body-after-header", [0] + segment.dropFirst(WALFormat.segmentHeaderSize))]
        case .versionEdit:
            var edit = VersionEdit()
            edit.databaseID = FuzzHarness.databaseID
            edit.comparator = BytewiseComparator.name
            edit.logNumber = 7
            edit.nextFileNumber = 12
            edit.lastSequence = SequenceNumber(rawValue: 999)
            edit.add(FileMetadata(
                level: 1, fileNumber: 9, fileSize: 4096, smallest: InternalKey(userKey: [1], sequence: SequenceNumber(rawValue: 3), kind: .put).encoded,
                largest: InternalKey(userKey: [9], sequence: SequenceNumber(rawValue: 4), kind: .put).encoded,
                smallestSequence: SequenceNumber(rawValue: 3), largestSequence: SequenceNumber(rawValue: 4), entryCount: 10))
            edit.delete(level: 0, fileNumber: 5)
            return [("edit", edit.encoded)]
        case .encoding:
            var batch = WriteBatch()
            batch.put("key", "value")
            batch.delete("gone")
            batch.deleteRange(from: "a", to: "z")
            var varints = ByteWriter()
            for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, .max] { varints.appendVarint64(value) }
            return [("batch", batch.encoded), ("varints", varints.bytes), ("internal-key", InternalKey(userKey: [1, 2, 3], sequence: SequenceNumber(rawValue: 5), kind: .put).encoded)]
        case .exec:
            let lines = ["put k v", "get k", "del k", "delrange a b", "batch 2", "put a 1", "del b", "scan - - 10", "sync", "flush", "snapshot", "get@1 k", "release 1", "quit", "put 00ff 0102"]
            return [("session", Array(lines.joined(separator: "\n").utf8))]
        }
    }
}
