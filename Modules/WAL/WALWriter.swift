import Encoding
import VFS
/// Options for writing a write-ahead log.
public struct WALOptions: Sendable {
    /// The largest record accepted; bigger appends fail with `invalidArgument`. Default 64 MiB.
    public var maxRecordSize: Int = WALFormat.defaultMaxRecordSize
    /// The user-space buffer filled before each `write` call. Default 64 KiB.
    public var bufferSize: Int = WALFormat.defaultBufferSize

    /// Default options.
    public init() {}
}

/// Counters of a log writer. All values are totals since the writer was created.
public struct WALStatistics: Sendable, Equatable {
    /// Records appended.
    public var records: UInt64 = 0
    /// Payload bytes appended (excluding framing).
    public var payloadBytes: UInt64 = 0
    /// `fdatasync` calls issued for records (segment creation syncs are not counted).
    public var syncs: UInt64 = 0
    /// Commit groups written (group commit only; one group may carry many records).
    public var groups: UInt64 = 0
    /// Segments started after the first.
    public var rotations: UInt64 = 0

    /// Empty counters.
    public init() {}
}

/// A write-ahead log spread over numbered segments: appends go to the current segment, and
/// `rotateNext()` seals it and starts the next.
///
/// Thread safety: not thread-safe. Use `LogWriter` to share a log between threads with group
/// commit, or serialise calls yourself.
public final class WALWriter {
    /// The directory holding the segments.
    public let directory: String
    /// The identity written into every segment header.
    public let databaseID: DatabaseID
    /// The file system the segments live on.
    public let fileSystem: any FileSystem
    /// The options the writer was created with.
    public let options: WALOptions
    /// Counters since creation.
    public var statistics: WALStatistics { counters }
    // Private storage lets the compiler check exclusive access statically (a `public private(set)`
    // stored property costs a runtime `swift_beginAccess` per mutation).
    private var counters = WALStatistics()

    private var current: WALSegmentWriter

    /// The number of the segment being appended to.
    public var segmentNumber: UInt64 { current.segment.number }

    /// The current segment's size so far, framing included (for rotation decisions).
    public var segmentSize: UInt64 { current.logicalSize }

    /// The first error a write or sync hit, if any (the writer refuses work after one).
    public var error: StrataError? { current.error }

    /// Starts a log at a new segment `segmentNumber` (which must not exist yet).
    public static func create(
        directory: String, segmentNumber: UInt64, databaseID: DatabaseID,
        fileSystem: any FileSystem, options: WALOptions = WALOptions()
    ) throws -> WALWriter {
        let segment = try WALSegmentWriter.create(
            segment: WALSegment(number: segmentNumber, directory: directory), databaseID: databaseID,
            fileSystem: fileSystem, maxRecordSize: options.maxRecordSize, bufferSize: options.bufferSize)
        return WALWriter(directory: directory, databaseID: databaseID, fileSystem: fileSystem, options: options, current: segment)
    }

    /// Continues an existing segment after replay: keeps its first `validSize` bytes (the end of
    /// the last valid record replay reported), truncating a torn tail, and appends after them.
    public static func resume(
        segment: WALSegment, validSize: UInt64, databaseID: DatabaseID,
        fileSystem: any FileSystem, options: WALOptions = WALOptions()
    ) throws -> WALWriter {
        let writer = try WALSegmentWriter.reopen(
            segment: segment, validSize: validSize, fileSystem: fileSystem,
            maxRecordSize: options.maxRecordSize, bufferSize: options.bufferSize)
        return WALWriter(directory: Path.directory(of: segment.path), databaseID: databaseID, fileSystem: fileSystem, options: options, current: writer)
    }

    private init(directory: String, databaseID: DatabaseID, fileSystem: any FileSystem, options: WALOptions, current: WALSegmentWriter) {
        self.directory = directory
        self.databaseID = databaseID
        self.fileSystem = fileSystem
        self.options = options
        self.current = current
    }

    /// Appends a record to the current segment's buffer. Durable after the next `sync()`.
    ///
    /// - Throws: `invalidArgument` for a record over `maxRecordSize`; `StrataError.io` (sticky)
    ///   if a buffer flush fails.
    public func append(_ payload: UnsafeRawBufferPointer) throws {
        // Only `rotateNext()` replaces `current`, and this class is not reentrant, so the segment
        // writer stays alive for the call without the retain/release pair the compiler would
        // otherwise add (measured: ~10 ns of a 100-byte append).
        try Unmanaged.passUnretained(current)._withUnsafeGuaranteedRef { try $0.append(payload) }
        counters.records += 1
        counters.payloadBytes += UInt64(payload.count)
    }

    /// Appends a record held in an array.
    public func append(_ payload: [UInt8]) throws {
        try payload.withUnsafeBytes { try append($0) }
    }

    /// Hands buffered records to the operating system (durable against a process crash).
    public func flush() throws {
        try current.flush()
    }

    /// Makes every record appended so far durable (`fdatasync`).
    public func sync() throws {
        try current.sync()
        counters.syncs += 1
    }

    /// Seals the current segment (flush + sync + close) and starts segment N+1 with a fresh
    /// header (its creation syncs the file and the directory).
    ///
    /// - Returns: the new segment's number.
    /// - Throws: if sealing fails the writer keeps the current segment and its sticky error; if
    ///   creating the next segment fails the error is thrown and the writer stays on the sealed
    ///   segment, refusing appends.
    @discardableResult
    public func rotateNext() throws -> UInt64 {
        try current.close()
        let next = WALSegment(number: current.segment.number + 1, directory: directory)
        current = try WALSegmentWriter.create(
            segment: next, databaseID: databaseID, fileSystem: fileSystem,
            maxRecordSize: options.maxRecordSize, bufferSize: options.bufferSize)
        counters.rotations += 1
        return next.number
    }

    /// Flushes, syncs and closes the current segment.
    public func close() throws {
        try current.close()
    }

    /// Counts one commit group (called by group-commit drivers).
    package func countGroup() {
        counters.groups += 1
    }
}
