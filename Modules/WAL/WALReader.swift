import Encoding
import VFS

// See Docs/formats/wal.md ("Recovery modes").

/// How replay treats damaged log data.
public enum WALRecoveryMode: String, Sendable, CaseIterable {
    /// The default. Damage at the very end of the newest segment — a torn append from a crash —
    /// ends the log there: replay succeeds, reports the offset and the dropped bytes, and the
    /// caller truncates the segment before writing again. Damage anywhere else is an error.
    case tolerateTornTail
    /// Any damage, even a torn tail, is an error.
    case absoluteConsistency
    /// Damaged blocks are skipped (with any record that has a fragment in them); replay
    /// resynchronises at the next block and reports how many bytes it dropped. Use it to salvage
    /// a damaged log, knowing that some records are lost.
    case skipCorrupted
}

/// Where a record starts: its segment and the file offset of its first fragment.
public struct WALRecordLocation: Sendable, Hashable {
    /// The segment number.
    public var segment: UInt64
    /// The offset of the record's first fragment header in the segment file.
    public var offset: UInt64
}

/// A torn tail that `tolerateTornTail` replay stopped at.
public struct WALTornTail: Sendable, Equatable {
    /// The damaged segment file.
    public var file: String
    /// Its segment number.
    public var segment: UInt64
    /// Where the valid log ends: truncate the segment here before appending.
    public var offset: UInt64
    /// Bytes after `offset` that were dropped.
    public var droppedBytes: UInt64
    /// What was wrong with the tail.
    public var reason: String
}

/// A damaged region that `skipCorrupted` replay skipped.
public struct WALSkippedRegion: Sendable, Equatable {
    /// The damaged segment file.
    public var file: String
    /// The offset where the damage was found.
    public var offset: UInt64
    /// Bytes dropped because of it (the rest of the block plus any partial record discarded).
    public var droppedBytes: UInt64
    /// What was wrong.
    public var reason: String
}

/// What a replay found.
public struct WALReplayResult: Sendable {
    /// Records delivered to the visitor.
    public var records = 0
    /// Payload bytes delivered.
    public var payloadBytes: UInt64 = 0
    /// The segments replayed, in order.
    public var segments: [WALSegment] = []
    /// The largest sequence number covered by a delivered record, when records carry write
    /// batches (`nil` when no record did).
    public var maxSequence: SequenceNumber?
    /// The newest segment and the offset just past its last valid record: where appends may
    /// resume (`WALWriter.resume`). `nil` when there were no segments, or the newest one's header
    /// was cut short by a crash (it holds no records; recreate it).
    public var end: (segment: WALSegment, offset: UInt64)?
    /// The torn tail replay stopped at, if any (`tolerateTornTail` and `skipCorrupted`).
    public var tornTail: WALTornTail?
    /// Damaged regions skipped (`skipCorrupted` only).
    public var skipped: [WALSkippedRegion] = []

    /// All bytes dropped: the torn tail plus skipped regions.
    public var droppedBytes: UInt64 {
        (tornTail?.droppedBytes ?? 0) + skipped.reduce(0) { $0 + $1.droppedBytes }
    }
}

/// Reads write-ahead log segments back, checking every header and fragment.
///
/// Memory use is one 32 KiB block plus the record being assembled, whatever the log's size.
public enum WALReader {
    /// Replays `segments` in order, calling `visit` with each valid record.
    ///
    /// - Parameters:
    ///   - segments: contiguous segments, oldest first (see `WALSegment.list`). The last one is
    ///     treated as the newest, the only one that may end in a torn tail.
    ///   - databaseID: the identity every segment header must carry.
    ///   - fileSystem: where the segments are.
    ///   - mode: how to treat damage (see `WALRecoveryMode`).
    ///   - maxRecordSize: records claiming to be larger are damage.
    ///   - sequenceRange: extracts the sequence numbers a payload covers, for `maxSequence`;
    ///     defaults to reading a `WriteBatch` header. Pass `nil` for payloads of another shape.
    ///   - visit: receives each record's payload (valid only during the call) and location.
    /// - Throws: `StrataError.corruption` naming file and offset for damage the mode does not
    ///   tolerate; `.incompatible` for a segment of another database or with the wrong number;
    ///   `.io` for read failures; whatever `visit` throws.
    public static func replay(
        segments: [WALSegment], databaseID: DatabaseID, fileSystem: any FileSystem,
        mode: WALRecoveryMode = .tolerateTornTail, maxRecordSize: Int = WALFormat.defaultMaxRecordSize,
        sequenceRange: ((UnsafeRawBufferPointer) -> ClosedRange<SequenceNumber>?)? = WriteBatch.sequenceRange(of:),
        _ visit: (UnsafeRawBufferPointer, WALRecordLocation) throws -> Void
    ) throws -> WALReplayResult {
        var result = WALReplayResult()
        result.segments = segments
        for (index, segment) in segments.enumerated() {
            var scanner = try SegmentScanner(
                segment: segment, databaseID: databaseID, fileSystem: fileSystem, mode: mode,
                isNewest: index == segments.count - 1, maxRecordSize: maxRecordSize)
            let end = try scanner.scan { payload, location in
                result.records += 1
                result.payloadBytes += UInt64(payload.count)
                if let range = sequenceRange?(payload) {
                    result.maxSequence = Swift.max(result.maxSequence ?? range.upperBound, range.upperBound)
                }
                try visit(payload, location)
            }
            result.skipped += scanner.skipped
            if let torn = scanner.tornTail { result.tornTail = torn }
            if index == segments.count - 1 {
                result.end = end.map { (segment, $0) }
            }
        }
        return result
    }
}

/// Reads one segment block by block and reassembles its records.
struct SegmentScanner {
    let segment: WALSegment
    let file: any ReadableFile
    let fileSize: UInt64
    let mode: WALRecoveryMode
    let isNewest: Bool
    let maxRecordSize: Int
    let databaseID: DatabaseID
    var skipped: [WALSkippedRegion] = []
    var tornTail: WALTornTail?

    /// The block being parsed (one block's worth of memory, reused).
    private let block = RawBuffer(count: WALFormat.blockSize)
    /// The record being assembled from FIRST/MIDDLE/LAST fragments.
    private var record: [UInt8] = []
    private var recordStart: UInt64?
    /// The end of the last complete record.
    private var lastRecordEnd = UInt64(WALFormat.segmentHeaderSize)
    /// Where the data ends: the file size, or where a zero tail reserved by the writer starts.
    private var dataEnd: UInt64

    init(segment: WALSegment, databaseID: DatabaseID, fileSystem: any FileSystem, mode: WALRecoveryMode, isNewest: Bool, maxRecordSize: Int) throws {
        self.segment = segment
        self.databaseID = databaseID
        self.file = try fileSystem.openReadable(segment.path)
        self.fileSize = try file.size()
        self.dataEnd = fileSize
        self.mode = mode
        self.isNewest = isNewest
        self.maxRecordSize = maxRecordSize
    }

    /// What to do after damage, or at the end of the data.
    private enum Resolution {
        /// Stop reading this segment (a torn tail).
        case stop
        /// Skip the rest of the current block.
        case skipBlock
        /// The data ended at this offset: nothing but zero bytes follow (space the writer
        /// reserved ahead of itself). Not damage.
        case endOfData(UInt64)
    }

    /// Scans the segment, delivering records.
    ///
    /// - Returns: the offset just past the last valid record, or `nil` when the header itself is
    ///   missing (a crash during segment creation).
    mutating func scan(_ deliver: (UnsafeRawBufferPointer, WALRecordLocation) throws -> Void) throws -> UInt64? {
        let headerSize = UInt64(WALFormat.segmentHeaderSize)
        if fileSize < headerSize {
            // Only the newest segment can be cut inside its header (crash while creating it).
            guard isNewest, mode != .absoluteConsistency else {
                throw StrataError.corruption(
                    file: segment.path, offset: Int(fileSize),
                    reason: "segment ends inside its \(headerSize)-byte header (\(fileSize) bytes)")
            }
            tornTail = WALTornTail(
                file: segment.path, segment: segment.number, offset: 0, droppedBytes: fileSize,
                reason: "segment header cut short (\(fileSize) of \(headerSize) bytes)")
            return nil
        }
        let headerBytes = try file.readExactly(at: 0, count: WALFormat.segmentHeaderSize)
        if headerBytes.withBytes({ !$0.contains { $0 != 0 } }), try onlyZeros(from: headerSize) {
            // A mapped segment is reserved (zero-filled) before its header is copied in: a crash
            // in between leaves nothing but zeros, like a header cut short.
            guard isNewest, mode != .absoluteConsistency else {
                throw StrataError.corruption(
                    file: segment.path, offset: 0, reason: "segment is all zero bytes (its header was never written)")
            }
            tornTail = WALTornTail(
                file: segment.path, segment: segment.number, offset: 0, droppedBytes: 0,
                reason: "segment header never written (\(fileSize) reserved zero bytes)")
            return nil
        }
        let decoded = try headerBytes.withBytes { try WALSegmentHeader(decoding: $0, file: segment.path) }
        try decoded.validate(file: segment.path, expectedNumber: segment.number, databaseID: databaseID)

        var blockStart = headerSize
        blocks: while blockStart < fileSize {
            let length = Int(Swift.min(UInt64(WALFormat.blockSize), fileSize - blockStart))
            let got = try file.read(at: blockStart, into: UnsafeMutableRawBufferPointer(start: block.base, count: length))
            guard got == length else {
                throw StrataError.corruption(file: segment.path, offset: Int(blockStart + UInt64(got)), reason: "segment shrank while being read")
            }
            switch try scanBlock(blockStart: blockStart, length: length, deliver) {
            case nil, .skipBlock?: break
            case .stop?: return tornTail?.offset ?? lastRecordEnd
            case .endOfData(let end)?:
                dataEnd = end
                break blocks
            }
            blockStart += UInt64(WALFormat.blockSize)
        }
        if let start = recordStart {
            // The segment ends in the middle of a record. Nothing follows the end of the file,
            // so in the newest segment this is a torn tail.
            let reason = "record starting here is incomplete at the end of the segment"
            if isNewest && mode != .absoluteConsistency {
                _ = stopAtTornTail(offset: start, reason: reason)
                return tornTail?.offset
            }
            try sequenceDamage(at: start, dropped: UInt64(record.count), reason: reason)
            recordStart = nil
        }
        return lastRecordEnd
    }

    /// Parses the fragments of one block. Returns non-nil when damage ended the block early.
    private mutating func scanBlock(
        blockStart: UInt64, length: Int, _ deliver: (UnsafeRawBufferPointer, WALRecordLocation) throws -> Void
    ) throws -> Resolution? {
        let bytes = UnsafeRawBufferPointer(start: block.base, count: length)
        var offset = 0
        while offset < length {
            let here = blockStart + UInt64(offset)
            let roomInBlock = WALFormat.blockSize - offset
            if roomInBlock < WALFormat.fragmentHeaderSize {
                // The block trailer: the writer fills it with zeros.
                if bytes[offset..<length].contains(where: { $0 != 0 }) {
                    return try damage(at: here, blockStart: blockStart, fragmentEnd: nil, reason: "non-zero bytes in a block trailer")
                }
                return nil
            }
            guard length - offset >= WALFormat.fragmentHeaderSize else {
                // Fewer bytes than a header remain in the file: zeros are reserved space.
                if !bytes[offset..<length].contains(where: { $0 != 0 }) { return .endOfData(here) }
                return try damage(at: here, blockStart: blockStart, fragmentEnd: nil, reason: "segment ends inside a fragment header")
            }
            let checksum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let payloadLength = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)))
            let typeByte = bytes[offset + 6]
            let fragmentEnd = offset + WALFormat.fragmentHeaderSize + payloadLength
            // Where the next fragment would start, if this header's length can be believed.
            let plausibleEnd = fragmentEnd <= length ? blockStart + UInt64(fragmentEnd) : nil
            guard let type = FragmentType(rawValue: typeByte) else {
                let zeroed = typeByte == 0 && payloadLength == 0 && checksum == 0
                if zeroed, try onlyZerosFollow(blockStart: blockStart, offsetInBlock: offset, length: length) {
                    // Space reserved ahead of the writer (a mapped segment cut short by a
                    // crash, or not yet trimmed): the data ends here.
                    return .endOfData(here)
                }
                let reason = zeroed ? "zeroed fragment header" : "unknown fragment type \(typeByte)"
                return try damage(at: here, blockStart: blockStart, fragmentEnd: plausibleEnd, reason: reason)
            }
            guard fragmentEnd <= WALFormat.blockSize else {
                return try damage(at: here, blockStart: blockStart, fragmentEnd: nil, reason: "fragment length \(payloadLength) crosses the block boundary")
            }
            guard fragmentEnd <= length else {
                return try damage(at: here, blockStart: blockStart, fragmentEnd: nil, reason: "segment ends inside a fragment of \(payloadLength) bytes")
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + WALFormat.fragmentHeaderSize)..<fragmentEnd])
            guard WALFormat.fragmentChecksum(payload, type: typeByte) == checksum else {
                return try damage(at: here, blockStart: blockStart, fragmentEnd: plausibleEnd, reason: "fragment checksum mismatch")
            }
            offset = fragmentEnd
            let end = blockStart + UInt64(fragmentEnd)

            switch type {
            case .full, .first:
                if let start = recordStart {
                    // The previous record never got its last fragment: something was lost.
                    try sequenceDamage(at: start, dropped: UInt64(record.count), reason: "record is missing its last fragment")
                    recordStart = nil
                }
                if type == .full {
                    try deliver(payload, WALRecordLocation(segment: segment.number, offset: here))
                    lastRecordEnd = end
                } else {
                    record.removeAll(keepingCapacity: true)
                    record.append(contentsOf: payload)
                    recordStart = here
                }
            case .middle, .last:
                guard let start = recordStart else {
                    // A continuation without a beginning: its start was lost.
                    try sequenceDamage(
                        at: here, dropped: UInt64(WALFormat.fragmentHeaderSize + payload.count),
                        reason: "\(type == .middle ? "MIDDLE" : "LAST") fragment without a FIRST")
                    continue
                }
                guard record.count + payload.count <= maxRecordSize else {
                    try sequenceDamage(at: start, dropped: UInt64(record.count + payload.count), reason: "record exceeds the maximum record size \(maxRecordSize)")
                    recordStart = nil
                    record.removeAll(keepingCapacity: true)
                    continue
                }
                record.append(contentsOf: payload)
                if type == .last {
                    try record.withUnsafeBytes { try deliver($0, WALRecordLocation(segment: segment.number, offset: start)) }
                    recordStart = nil
                    record.removeAll(keepingCapacity: true)
                    lastRecordEnd = end
                }
            }
        }
        return nil
    }

    /// Damage revealed by a *valid* fragment (a record missing its end, a continuation missing its
    /// start). Valid data follows it by construction, so it is never a torn tail: an error, except
    /// in `skipCorrupted`, which drops the broken record and carries on with the same fragment.
    private mutating func sequenceDamage(at offset: UInt64, dropped: UInt64, reason: String) throws {
        guard mode == .skipCorrupted else {
            throw StrataError.corruption(file: segment.path, offset: Int(offset), reason: reason)
        }
        recordSkip(at: offset, dropped: dropped, reason: reason)
        record.removeAll(keepingCapacity: true)
    }

    /// Applies the recovery mode to damage of the bytes at `offset` (a bad header, checksum,
    /// length or trailer), after which nothing in the block can be trusted.
    ///
    /// - Parameter fragmentEnd: where the next fragment would start if the damaged fragment's
    ///   length field is right (used to look for valid data right after it).
    private mutating func damage(at offset: UInt64, blockStart: UInt64, fragmentEnd: UInt64?, reason: String) throws -> Resolution {
        switch mode {
        case .absoluteConsistency:
            throw StrataError.corruption(file: segment.path, offset: Int(offset), reason: reason)
        case .tolerateTornTail:
            guard isNewest, try nothingValidFollows(blockStart: blockStart, fragmentEnd: fragmentEnd) else {
                throw StrataError.corruption(
                    file: segment.path, offset: Int(offset),
                    reason: "\(reason) (valid log data follows, so this is not a torn tail)")
            }
            return stopAtTornTail(offset: offset, reason: reason)
        case .skipCorrupted:
            if try isNewest && nothingValidFollows(blockStart: blockStart, fragmentEnd: fragmentEnd) {
                return stopAtTornTail(offset: offset, reason: reason)
            }
            let blockEnd = Swift.min(blockStart + UInt64(WALFormat.blockSize), fileSize)
            let partial = UInt64(record.count)
            recordSkip(at: offset, dropped: (blockEnd > offset ? blockEnd - offset : 0) + partial, reason: reason)
            record.removeAll(keepingCapacity: true)
            recordStart = nil
            return .skipBlock
        }
    }

    private mutating func stopAtTornTail(offset: UInt64, reason: String) -> Resolution {
        let cut = recordStart ?? offset
        tornTail = WALTornTail(
            file: segment.path, segment: segment.number, offset: Swift.max(cut, lastRecordEnd),
            droppedBytes: dataEnd - Swift.max(cut, lastRecordEnd), reason: reason)
        recordStart = nil
        record.removeAll(keepingCapacity: true)
        return .stop
    }

    private mutating func recordSkip(at offset: UInt64, dropped: UInt64, reason: String) {
        skipped.append(WALSkippedRegion(file: segment.path, offset: offset, droppedBytes: dropped, reason: reason))
    }

    /// `true` when no data follows the damage: no valid fragment right after the damaged one in
    /// its block, and nothing but zero bytes in every later block. A crash while appending can
    /// only leave damage of that shape (file systems keep a prefix of appended data, possibly
    /// padded with zeros); anything else is corruption that must not be silently dropped.
    private func nothingValidFollows(blockStart: UInt64, fragmentEnd: UInt64?) throws -> Bool {
        if let next = fragmentEnd, next + UInt64(WALFormat.fragmentHeaderSize) <= Swift.min(blockStart + UInt64(WALFormat.blockSize), fileSize) {
            let start = Int(next - blockStart)
            let bytes = UnsafeRawBufferPointer(start: block.base, count: Int(Swift.min(UInt64(WALFormat.blockSize), fileSize - blockStart)))
            if isValidFragment(in: bytes, at: start) { return false }
        }
        return try onlyZeros(from: blockStart + UInt64(WALFormat.blockSize))
    }

    /// `true` when every byte of the file from `offset` on is zero. Reads one block at a time.
    private func onlyZeros(from offset: UInt64) throws -> Bool {
        var cursor = offset
        let scratch = RawBuffer(count: WALFormat.blockSize)
        while cursor < fileSize {
            let count = Int(Swift.min(UInt64(WALFormat.blockSize), fileSize - cursor))
            let got = try file.read(at: cursor, into: UnsafeMutableRawBufferPointer(start: scratch.base, count: count))
            if UnsafeRawBufferPointer(start: scratch.base, count: got).contains(where: { $0 != 0 }) { return false }
            cursor += UInt64(count)
        }
        return true
    }

    /// `true` when every byte from `offsetInBlock` of the current block to the end of the file
    /// is zero. Reads one block at a time.
    private func onlyZerosFollow(blockStart: UInt64, offsetInBlock: Int, length: Int) throws -> Bool {
        let bytes = UnsafeRawBufferPointer(start: block.base, count: length)
        if bytes[offsetInBlock..<length].contains(where: { $0 != 0 }) { return false }
        return try onlyZeros(from: blockStart + UInt64(WALFormat.blockSize))
    }

    private func isValidFragment(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + WALFormat.fragmentHeaderSize <= bytes.count else { return false }
        let checksum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)))
        let type = bytes[offset + 6]
        guard FragmentType(rawValue: type) != nil, offset + WALFormat.fragmentHeaderSize + length <= bytes.count else { return false }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + WALFormat.fragmentHeaderSize)..<(offset + WALFormat.fragmentHeaderSize + length)])
        return WALFormat.fragmentChecksum(payload, type: type) == checksum
    }
}
