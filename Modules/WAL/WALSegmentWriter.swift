import Encoding
import VFS
// See Docs/formats/wal.md.

/// Appends records to one WAL segment file, cutting them into fragments that never cross a
/// 32 KiB block boundary.
///
/// Appends go into a user-space buffer that is handed to the file when it reaches the buffer
/// size (64 KiB by default), on `flush()`, and on `sync()`. The file is opened with
/// `FileSystem.openMappedWritable`: on POSIX that hand-over is a copy into a shared mapping of
/// the file, so even a `flush()` per record costs no system call, and flushed records survive
/// a process crash. The segment may then end in reserved zero bytes after a crash, which
/// readers treat as the end of the data (Docs/formats/wal.md).
///
/// Failure is sticky: after a write or sync fails, every later call throws the original error,
/// because a log with a hole must not keep accepting records.
///
/// Thread safety: not thread-safe. `WALWriter` and `LogWriter` serialise access.
package final class WALSegmentWriter {
    /// The segment this writer appends to.
    package let segment: WALSegment
    /// The largest record accepted.
    package let maxRecordSize: Int

    private let file: any WritableFile
    /// Fragments are encoded directly into this writer's buffer (`reserve`/`commit`).
    private let writer: BufferedFileWriter
    /// Position inside the current block (0 ..< blockSize).
    private var blockOffset: Int
    private var closed = false

    /// Bytes appended so far (header included), whether or not they have reached the file yet.
    package var logicalSize: UInt64 { writer.offset }

    /// The first error a write or sync hit, if any; the writer refuses work after one.
    package var error: StrataError? { writer.error }

    /// Creates segment `segment` (which must not exist), writes its header, syncs it, and syncs
    /// the directory so the new file's name is durable before any record is acknowledged.
    package static func create(
        segment: WALSegment, databaseID: DatabaseID, fileSystem: any FileSystem,
        maxRecordSize: Int = WALFormat.defaultMaxRecordSize, bufferSize: Int = WALFormat.defaultBufferSize
    ) throws -> WALSegmentWriter {
        let file = try fileSystem.openMappedWritable(segment.path, mode: .createNew)
        let header = WALSegmentHeader(
            databaseID: databaseID, segmentNumber: segment.number,
            creationTimeMicros: WallClock.microsecondsSinceEpoch())
        do {
            try header.encoded.withUnsafeBytes { try file.append($0) }
            try file.sync()
            try fileSystem.syncDirectory(Path.directory(of: segment.path))
        } catch {
            try? file.close()
            throw error
        }
        return WALSegmentWriter(
            segment: segment, file: file, size: UInt64(WALFormat.segmentHeaderSize),
            maxRecordSize: maxRecordSize, bufferSize: bufferSize)
    }

    /// Reopens an existing, already validated segment to append after its first `validSize`
    /// bytes, truncating anything beyond (a torn tail found by replay) and syncing the cut.
    package static func reopen(
        segment: WALSegment, validSize: UInt64, fileSystem: any FileSystem,
        maxRecordSize: Int = WALFormat.defaultMaxRecordSize, bufferSize: Int = WALFormat.defaultBufferSize
    ) throws -> WALSegmentWriter {
        precondition(validSize >= UInt64(WALFormat.segmentHeaderSize), "a reopened segment keeps its header")
        let file = try fileSystem.openMappedWritable(segment.path, mode: .append)
        do {
            if file.size != validSize {
                try file.truncate(to: validSize)
                try file.sync()
            }
        } catch {
            try? file.close()
            throw error
        }
        return WALSegmentWriter(
            segment: segment, file: file, size: validSize, maxRecordSize: maxRecordSize, bufferSize: bufferSize)
    }

    private init(segment: WALSegment, file: any WritableFile, size: UInt64, maxRecordSize: Int, bufferSize: Int) {
        self.segment = segment
        self.file = file
        self.maxRecordSize = maxRecordSize
        // Room for a whole block plus a trailer, so any fragment fits in one reservation.
        self.writer = BufferedFileWriter(file, bufferSize: max(bufferSize, 2 * WALFormat.blockSize))
        self.blockOffset = Int((size - UInt64(WALFormat.segmentHeaderSize)) % UInt64(WALFormat.blockSize))
    }

    /// Appends one record into the buffer, fragmenting it across blocks.
    ///
    /// The record is durable only after a later `sync()` returns.
    ///
    /// - Throws: `StrataError.invalidArgument` when `payload` exceeds `maxRecordSize` (nothing
    ///   is written); the sticky error after an earlier failure; `StrataError.io` when flushing a
    ///   full buffer fails (the writer then refuses further work).
    package func append(_ payload: UnsafeRawBufferPointer) throws {
        try checkUsable()
        guard payload.count <= maxRecordSize else {
            throw StrataError.invalidArgument("WAL record of \(payload.count) bytes exceeds the maximum of \(maxRecordSize)")
        }
        var remaining = payload
        var isFirst = true
        repeat {
            let leftInBlock = WALFormat.blockSize - blockOffset
            if leftInBlock < WALFormat.fragmentHeaderSize {
                // Too small for a fragment header: zero-fill the block trailer.
                try writer.reserve(leftInBlock).initializeMemory(as: UInt8.self, repeating: 0, count: leftInBlock)
                writer.commit(leftInBlock)
                blockOffset = 0
            }
            let available = WALFormat.blockSize - blockOffset - WALFormat.fragmentHeaderSize
            let length = min(available, remaining.count)
            let isLast = length == remaining.count
            let type: FragmentType = isFirst ? (isLast ? .full : .first) : (isLast ? .last : .middle)
            let fragment = UnsafeRawBufferPointer(rebasing: remaining[0..<length])
            try emitFragment(fragment, type: type)
            remaining = UnsafeRawBufferPointer(rebasing: remaining[length...])
            isFirst = false
            if isLast { break }
        } while true
    }

    /// Appends one record held in an array.
    package func append(_ payload: [UInt8]) throws {
        try payload.withUnsafeBytes { try append($0) }
    }

    /// Hands buffered bytes to the operating system (survives a process crash, not a power cut).
    package func flush() throws {
        try checkUsable()
        try writer.flush()
    }

    /// Makes every record appended so far durable: flush, then `fdatasync`.
    package func sync() throws {
        try checkUsable()
        try writer.sync()
    }

    /// Flushes, syncs and closes the segment. Calling it again does nothing.
    package func close() throws {
        guard !closed else { return }
        defer {
            closed = true
            try? file.close()
        }
        if writer.error == nil { try sync() }
        try file.close()
    }

    // MARK: - Internal

    private func emitFragment(_ payload: UnsafeRawBufferPointer, type: FragmentType) throws {
        let size = WALFormat.fragmentHeaderSize + payload.count
        // Invariant: a fragment never crosses a block boundary, and its length fits the header's
        // 16-bit field (LevelDB's log_writer asserts the same).
        InternalChecks.check(blockOffset + size <= WALFormat.blockSize, "WAL fragment of \(size) bytes at block offset \(blockOffset) crosses the block end")
        InternalChecks.check(payload.count <= Int(UInt16.max), "WAL fragment length \(payload.count) does not fit 16 bits")
        let header = try writer.reserve(size)
        let checksum = WALFormat.fragmentChecksum(payload, type: type.rawValue)
        header.storeBytes(of: checksum.littleEndian, as: UInt32.self)
        header.storeBytes(of: UInt16(payload.count).littleEndian, toByteOffset: 4, as: UInt16.self)
        header.storeBytes(of: type.rawValue, toByteOffset: 6, as: UInt8.self)
        if let source = payload.baseAddress, payload.count > 0 {
            (header + WALFormat.fragmentHeaderSize).copyMemory(from: source, byteCount: payload.count)
        }
        writer.commit(size)
        blockOffset += size
    }

    private func checkUsable() throws {
        if closed { throw StrataError.closed }
    }
}
