import Encoding
import VFS
import WAL
import StrataTestSupport

/// The payload of record `index` with `size` bytes: derived from both, so a reader can check a
/// record's content without the writer keeping a copy.
func payload(index: Int, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    var state = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 | 1
    for offset in 0..<size {
        if offset & 7 == 0 { state ^= state << 13; state ^= state >> 7; state ^= state << 17 }
        bytes[offset] = UInt8(truncatingIfNeeded: state >> ((offset & 7) * 8))
    }
    return bytes
}

/// Record sizes from 0 B to 200 KiB: mostly small, with a tail of multi-block records and the
/// exact edges (0 B, one block, one block ± a header).
func recordSize(_ index: Int, using random: inout SplitMix64) -> Int {
    switch index % 1000 {
    case 0: return 0
    case 1: return 200 * 1024
    case 2: return WALFormat.blockSize - WALFormat.fragmentHeaderSize
    case 3: return WALFormat.blockSize
    case 4: return WALFormat.blockSize + 1
    default:
        let roll = random.next() % 100
        if roll == 0 { return Int(random.next() % UInt64(200 * 1024)) }
        if roll < 10 { return Int(random.next() % 4096) }
        return Int(random.next() % 200)
    }
}

let testDatabaseID = DatabaseID(bytes: Array(0..<16))!


/// Replays every segment in `/db` and returns the payloads with their result.
func replayAll(
    _ fileSystem: any FileSystem, mode: WALRecoveryMode = .tolerateTornTail, directory: String = "/db", from first: UInt64 = 1
) throws -> (records: [[UInt8]], result: WALReplayResult) {
    let segments = try WALSegment.list(in: directory, fileSystem: fileSystem, from: first)
    var records: [[UInt8]] = []
    let result = try WALReader.replay(segments: segments, databaseID: testDatabaseID, fileSystem: fileSystem, mode: mode, sequenceRange: nil) { bytes, _ in
        records.append(Array(bytes))
    }
    return (records, result)
}

