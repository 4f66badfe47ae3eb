import Encoding
import VFS

/// Makes a table's file present before a `TableCache` opens it: for a database whose tables
/// live elsewhere too (an object store), with the local files as a cache of them.
public protocol TableFileSource: Sendable {
    /// Called before table `fileNumber` is opened from `path` (on every cache miss): makes the
    /// file exist there — fetching it if it is absent — and may note the use.
    ///
    /// - Throws: when the file cannot be made present; the open fails with that error.
    func prepareTable(_ fileNumber: UInt64, path: String) throws
}

/// Open table readers, bounded by `maxOpenFiles` and evicted least-recently-used first.
///
/// Readers read with `pread`, so they never share a file offset; an evicted reader's descriptor is
/// closed when the last user lets go of it, so an in-flight read is never cut off.
///
/// Thread safety: every method may be called from any thread. Two threads missing on the same
/// file may both open it; one reader wins and the other is dropped.
public final class TableCache: Sendable {
    struct Entry {
        let reader: TableReader
        var lastUse: UInt64
    }

    struct State {
        var entries: [UInt64: Entry] = [:]
        var clock: UInt64 = 0
        var opens: UInt64 = 0
    }

    /// The directory holding the tables.
    public let directory: String
    /// The most readers kept open.
    public let maxOpenFiles: Int
    /// Options for the readers it opens (block cache, statistics).
    public let options: TableReaderOptions
    /// Where absent table files come from (`nil`: every table is a local file).
    public let fileSource: (any TableFileSource)?
    private let fileSystem: any FileSystem
    private let state = Locked(State())

    /// Creates a cache for the tables in `directory`.
    public init(
        fileSystem: any FileSystem, directory: String, maxOpenFiles: Int = 1000, options: TableReaderOptions = TableReaderOptions(),
        fileSource: (any TableFileSource)? = nil
    ) {
        self.fileSystem = fileSystem
        self.fileSource = fileSource
        self.directory = directory
        self.maxOpenFiles = max(1, maxOpenFiles)
        self.options = options
    }

    /// A private, uncached reader of table `fileNumber` for a single sequential pass (a
    /// compaction input): it reads blocks with `pread` into memory freed after use and bypasses
    /// the block cache, so streaming a large table neither evicts the foreground's cached
    /// blocks nor leaves the table's pages mapped into the process (RocksDB's `fill_cache =
    /// false` for compaction reads).
    ///
    /// - Parameters:
    ///   - fileNumber: the table's number.
    ///   - expectedSize: as for `reader(for:expectedSize:)`.
    public func streamingReader(for fileNumber: UInt64, expectedSize: UInt64? = nil) throws -> TableReader {
        var streaming = options
        streaming.blockCache = nil
        streaming.useMappedReads = false
        return try open(fileNumber, expectedSize: expectedSize, options: streaming)
    }

    /// Opens table `fileNumber` with `options`, checking its size against the manifest's.
    private func open(_ fileNumber: UInt64, expectedSize: UInt64?, options: TableReaderOptions) throws -> TableReader {
        let path = Path.join(directory, TableFormat.fileName(for: fileNumber))
        try fileSource?.prepareTable(fileNumber, path: path)
        let reader: TableReader
        do {
            reader = try TableReader.open(path: path, fileNumber: fileNumber, fileSystem: fileSystem, options: options)
        } catch let error where fileSource != nil && !fileSystem.exists(path) {
            // The source dropped its local copy between preparing and opening: once more.
            guard let fileSource else { throw error }
            try fileSource.prepareTable(fileNumber, path: path)
            reader = try TableReader.open(path: path, fileNumber: fileNumber, fileSystem: fileSystem, options: options)
        }
        if let expectedSize, reader.fileSize != expectedSize {
            throw StrataError.corruption(
                file: path, offset: Int(clamping: reader.fileSize),
                reason: "table is \(reader.fileSize) bytes but the manifest recorded \(expectedSize)")
        }
        return reader
    }

    /// The reader for table `fileNumber`, opening it if needed.
    ///
    /// - Parameters:
    ///   - fileNumber: the table's number.
    ///   - expectedSize: the size the manifest recorded; a file of another size is reported as
    ///     corruption rather than read.
    public func reader(for fileNumber: UInt64, expectedSize: UInt64? = nil) throws -> TableReader {
        let cached: TableReader? = state.withLock { state in
            // One hash lookup, and the entry is updated in place (no copy of the reader out
            // and back in).
            guard let position = state.entries.index(forKey: fileNumber) else { return nil }
            state.clock += 1
            state.entries.values[position].lastUse = state.clock
            return state.entries.values[position].reader
        }
        if let cached { return cached }
        let reader = try open(fileNumber, expectedSize: expectedSize, options: options)
        return state.withLock { state in
            state.clock += 1
            if let winner = state.entries[fileNumber] { return winner.reader }
            state.opens += 1
            state.entries[fileNumber] = Entry(reader: reader, lastUse: state.clock)
            while state.entries.count > maxOpenFiles {
                // Opens are rare next to reads, so a scan for the oldest entry is cheap enough.
                let oldest = state.entries.min { $0.value.lastUse < $1.value.lastUse }!.key
                state.entries.removeValue(forKey: oldest)
            }
            return reader
        }
    }

    /// Forgets table `fileNumber` (after it is deleted) and drops its blocks from the block cache.
    public func evict(_ fileNumber: UInt64) {
        let reader = state.withLock { $0.entries.removeValue(forKey: fileNumber)?.reader }
        if let reader { options.blockCache?.erase(cacheID: reader.cacheID) }
    }

    /// Drops the process's resident mapped pages of table `fileNumber`, if it is open here: for a
    /// table that has just left the current version (a compaction input), so its pages and its
    /// replacement's are not both counted while older readers finish. Readers still using it
    /// keep working (pages fault back in).
    public func releaseResidentPages(of fileNumber: UInt64) {
        let reader = state.withLock { $0.entries[fileNumber]?.reader }
        reader?.file.releaseResidentPages()
    }

    /// `true` while a reader of table `fileNumber` is open here.
    public func isOpen(_ fileNumber: UInt64) -> Bool {
        state.withLock { $0.entries[fileNumber] != nil }
    }

    /// Readers currently open through the cache.
    public var openCount: Int { state.withLock { $0.entries.count } }

    /// Files opened since creation (misses).
    public var opens: UInt64 { state.withLock { $0.opens } }
}
