import Encoding
import Manifest
import ObjectStore
import SSTable
import VFS

/// The tables an object store holds for this database, by local file name — what a checkpoint
/// reuses instead of uploading again — and, with `Options.localCacheBytes`, the local table
/// files as a bounded cache of them.
///
/// With a budget:
/// - A table whose file is absent is fetched from the store when the table cache first opens
///   it (`prepareTable`), written under a temporary name, checked against the manifest's size
///   and renamed into place.
/// - Past the budget, tables the store holds are deleted locally, least recently used first,
///   readers that are not open before open ones. Tables written since the last checkpoint are
///   not in the store yet: they stay, so the local bytes can exceed the budget until the next
///   checkpoint uploads them.
///
/// Thread safety: every method may be called from any thread; fetches of the same table wait
/// for each other.
final class StoreTables: TableFileSource, Sendable {
    /// A local table file this cache accounts for.
    struct LocalTable {
        var size: UInt64
        var lastUse: UInt64
    }

    struct State {
        /// The store's tables, by local file name.
        var stored: [String: StoreManifest.File]
        /// The local table files, by number.
        var local: [UInt64: LocalTable] = [:]
        /// Tables being fetched right now.
        var fetching: Set<UInt64> = []
        var clock: UInt64 = 0
        var fetches: UInt64 = 0
        var fetchedBytes: UInt64 = 0
        var evictions: UInt64 = 0
    }

    /// What the cache has done, for statistics.
    struct Figures: Sendable, Equatable {
        var fetches: UInt64
        var fetchedBytes: UInt64
        var evictions: UInt64
        var localBytes: UInt64
    }

    let store: any ObjectStore
    let directory: String
    let fileSystem: any FileSystem
    /// `Options.localCacheBytes`: `nil` keeps every table local (nothing is fetched or evicted).
    let budget: UInt64?
    private let state: Monitor<State>
    /// How the cache asks the table cache about open readers and drops them (set once the table
    /// cache exists; weak, since the table cache holds this object).
    private let readers = Locked<ReaderHooks?>(nil)

    struct ReaderHooks: Sendable {
        var isOpen: @Sendable (UInt64) -> Bool
        var evict: @Sendable (UInt64) -> Void
    }

    init(store: any ObjectStore, directory: String, fileSystem: any FileSystem, budget: UInt64?, stored: [StoreManifest.File]) {
        self.store = store
        self.directory = directory
        self.fileSystem = fileSystem
        self.budget = budget
        var byName: [String: StoreManifest.File] = [:]
        for file in stored where file.key.hasPrefix(StoreLayout.tablePrefix) { byName[file.name] = file }
        self.state = Monitor(State(stored: byName))
    }

    /// Connects the table cache whose readers eviction must drop.
    func attach(_ tableCache: TableCache) {
        readers.withLock {
            $0 = ReaderHooks(
                isOpen: { [weak tableCache] in tableCache?.isOpen($0) ?? false },
                evict: { [weak tableCache] in tableCache?.evict($0) })
        }
    }

    // MARK: What the store holds

    /// The store's object for table file `name`, if it holds one.
    func stored(_ name: String) -> StoreManifest.File? {
        state.withLock { $0.stored[name] }
    }

    /// Every table object the store holds for this database, as far as this cache knows.
    var storedFiles: [StoreManifest.File] {
        state.withLock { Array($0.stored.values) }
    }

    /// Records that the store now holds `file`.
    func recordStored(_ file: StoreManifest.File) {
        state.withLock { $0.stored[file.name] = file }
    }

    /// Forgets the store's tables whose objects are not in `keys` (collected as garbage).
    func retainStored(keys: Set<String>) {
        state.withLock { state in state.stored = state.stored.filter { keys.contains($0.value.key) } }
    }

    // MARK: The local cache

    /// Makes table `fileNumber`'s file exist at `path`, fetching it from the store when absent.
    ///
    /// - Throws: `.corruption` naming the table when it is neither local nor in the store, or
    ///   when the object's size differs from the manifest's; the store's error for a failed
    ///   fetch (nothing is left behind under the table's name).
    func prepareTable(_ fileNumber: UInt64, path: String) throws {
        let file: StoreManifest.File? = state.wait(until: { !$0.fetching.contains(fileNumber) }) { state in
            state.clock += 1
            if fileSystem.exists(path) {
                state.local[fileNumber, default: LocalTable(size: (try? fileSystem.fileSize(path)) ?? 0, lastUse: 0)].lastUse = state.clock
                return nil
            }
            guard let file = state.stored[DatabaseFiles.tableName(fileNumber)] else { return nil }
            state.fetching.insert(fileNumber)
            return file
        }
        guard let file else {
            guard fileSystem.exists(path) else {
                throw StrataError.corruption(file: path, offset: 0, reason: "table \(fileNumber) is live but neither on the local disk nor in \(store)")
            }
            return
        }
        defer {
            state.withLock { _ = $0.fetching.remove(fileNumber) }
            state.broadcast()
        }
        try StoreOpening.download(file, from: store, to: path, fileSystem: fileSystem)
        state.withLock { state in
            state.clock += 1
            state.local[fileNumber] = LocalTable(size: file.size, lastUse: state.clock)
            state.fetches += 1
            state.fetchedBytes += file.size
        }
        evictIfNeeded(keeping: fileNumber)
    }

    /// Deletes local copies of tables the store holds, least recently used first (readers that
    /// are not open first), until the local table bytes are within the budget; never
    /// `keeping`, never a table the store lacks. Does nothing without a budget.
    func evictIfNeeded(keeping: UInt64? = nil) {
        guard let budget else { return }
        let hooks = readers.withLock { $0 }
        // Tables written locally (flushes, compactions) join the accounting here; deleted ones
        // leave it.
        let names = (try? fileSystem.listDirectory(directory)) ?? []
        var present: [UInt64: UInt64] = [:]
        for name in names {
            guard case .table(let number)? = DatabaseFiles.kind(of: name) else { continue }
            present[number] = (try? fileSystem.fileSize(Path.join(directory, name))) ?? 0
        }
        let doomed: [UInt64] = state.withLock { state in
            state.local = state.local.filter { present[$0.key] != nil }
            for (number, size) in present where state.local[number] == nil {
                state.clock += 1
                state.local[number] = LocalTable(size: size, lastUse: state.clock)
            }
            var total = state.local.values.reduce(0) { $0 + $1.size }
            guard total > budget else { return [] }
            let candidates = state.local.filter { number, table in
                number != keeping && state.stored[DatabaseFiles.tableName(number)]?.size == table.size
            }.map { (number: $0.key, open: hooks?.isOpen($0.key) ?? false, table: $0.value) }
            var chosen: [UInt64] = []
            for candidate in candidates.sorted(by: { ($0.open ? 1 : 0, $0.table.lastUse) < ($1.open ? 1 : 0, $1.table.lastUse) }) {
                guard total > budget else { break }
                chosen.append(candidate.number)
                total -= candidate.table.size
                state.local.removeValue(forKey: candidate.number)
                state.evictions += 1
            }
            return chosen
        }
        for number in doomed {
            // Readers already holding the file keep reading it (the inode lives until they
            // close); the next open fetches it again.
            hooks?.evict(number)
            try? fileSystem.removeFile(Path.join(directory, DatabaseFiles.tableName(number)))
        }
    }

    /// Fetches, evictions and the local table bytes accounted for.
    var figures: Figures {
        state.withLock { state in
            Figures(fetches: state.fetches, fetchedBytes: state.fetchedBytes, evictions: state.evictions,
                    localBytes: state.local.values.reduce(0) { $0 + $1.size })
        }
    }
}
