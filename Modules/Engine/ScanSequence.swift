import Encoding

/// The entries of a key range, in order or reversed: `Database.scan(from:to:at:reverse:)` and
/// `Database.scan(prefix:at:reverse:)`.
///
/// Iterate it either way:
///
/// ```swift
/// for try await (key, value) in db.scan(prefix: "user:") { … }   // Swift concurrency
///
/// var entries = db.scan(from: start).makeIterator()                // synchronous
/// while let (key, value) = try entries.next() { … }
/// ```
///
/// **Asynchronously**, the entries are read in chunks (up to `chunkEntries` entries or
/// `chunkBytes` bytes) on the database's dedicated threads, never on a thread of the
/// cooperative pool, and only when the consumer asks for more: a slow consumer holds at most one
/// chunk in memory (back-pressure by pulling). **Synchronously**, the iterator reads on the
/// calling thread.
///
/// The scan reads one consistent snapshot (the one given, or the latest data when iteration
/// starts). Errors (a damaged table, a closed database) are thrown by `next()`.
public struct ScanSequence: AsyncSequence, Sendable {
    /// A key and its value.
    public typealias Element = (key: [UInt8], value: [UInt8])

    let database: Database
    let options: ReadOptions
    let reverse: Bool
    /// The most entries an asynchronous step reads ahead. Default 256.
    public var chunkEntries = 256
    /// The most key and value bytes an asynchronous step reads ahead (at least one entry is
    /// read). Default 256 KiB.
    public var chunkBytes = 256 << 10

    @usableFromInline
    init(database: Database, options: ReadOptions, reverse: Bool) {
        self.database = database
        self.options = options
        self.reverse = reverse
    }

    /// An iterator that reads in chunks on the database's dedicated threads.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: ScanSource(database: database, options: options, reverse: reverse), chunkEntries: Swift.max(1, chunkEntries), chunkBytes: chunkBytes)
    }

    /// An iterator that reads on the calling thread.
    public func makeIterator() -> Iterator {
        Iterator(source: ScanSource(database: database, options: options, reverse: reverse))
    }

    /// Calls `body` for every entry, in order, on the calling thread.
    public func forEach(_ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) throws {
        var iterator = makeIterator()
        while let (key, value) = try iterator.next() { try body(key, value) }
    }

    /// Every entry, in order, read on the calling thread.
    public func collect() throws -> [Element] {
        var result: [Element] = []
        try forEach { result.append(($0, $1)) }
        return result
    }

    /// Reads a scan on the calling thread; `next()` is an ordinary throwing function.
    public struct Iterator {
        let source: ScanSource

        /// The next entry, or `nil` at the end.
        ///
        /// - Throws: `.closed` once the database is closed; `.corruption`/`.io` for damaged or
        ///   unreadable tables.
        public mutating func next() throws -> Element? {
            try source.next()
        }
    }

    /// Reads a scan in chunks on the database's dedicated threads.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: ScanSource
        let chunkEntries: Int
        let chunkBytes: Int
        var buffer: [Element] = []
        var position = 0
        var finished = false

        /// The next entry, or `nil` at the end; reads the next chunk when the last one is used up.
        public mutating func next() async throws -> Element? {
            if position < buffer.count {
                defer { position += 1 }
                return buffer[position]
            }
            guard !finished else { return nil }
            let (source, entries, bytes) = (self.source, chunkEntries, chunkBytes)
            let chunk = try await source.database.executor.run { try source.nextChunk(entries: entries, bytes: bytes) }
            buffer = chunk.entries
            position = 0
            finished = chunk.isLast
            guard !buffer.isEmpty else { return nil }
            position = 1
            return buffer[0]
        }
    }
}

/// The cursor behind a scan, created when iteration starts.
///
/// `@unchecked Sendable`: an iterator owns its source and uses it from one task or thread at a
/// time (an asynchronous step hands it to an executor thread and waits for it), so the cursor is
/// never used concurrently.
final class ScanSource: @unchecked Sendable {
    let database: Database
    let options: ReadOptions
    let reverse: Bool
    private var cursor: Cursor?

    init(database: Database, options: ReadOptions, reverse: Bool) {
        self.database = database
        self.options = options
        self.reverse = reverse
    }

    func next() throws -> ScanSequence.Element? {
        if let cursor {
            guard cursor.isValid else { return nil }
            if reverse { try cursor.prev() } else { try cursor.next() }
        } else {
            let cursor = try database.cursor(options)
            if reverse { try cursor.seekToLast() } else { try cursor.seekToFirst() }
            self.cursor = cursor
        }
        guard let cursor, cursor.isValid else { return nil }
        return (cursor.key, cursor.value)
    }

    /// Up to `entries` entries or `bytes` bytes (at least one entry), and whether the scan ended.
    func nextChunk(entries: Int, bytes: Int) throws -> (entries: [ScanSequence.Element], isLast: Bool) {
        var chunk: [ScanSequence.Element] = []
        var total = 0
        while chunk.count < entries && (chunk.isEmpty || total < bytes) {
            guard let entry = try next() else { return (chunk, true) }
            total += entry.key.count + entry.value.count
            chunk.append(entry)
        }
        return (chunk, false)
    }
}
