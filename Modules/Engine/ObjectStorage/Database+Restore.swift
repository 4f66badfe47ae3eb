import Encoding
import ObjectStore
import VFS

/// What `Database.restore(from:into:options:)` did.
public struct RestoreReport: Sendable, Equatable {
    /// The manifest object the restore started from.
    public var manifest: UInt64
    /// The writer epoch of that manifest.
    public var epoch: UInt64
    /// Files of the checkpoint downloaded, and their bytes.
    public var files: Int
    /// The checkpoint's bytes.
    public var bytes: UInt64
    /// WAL objects replayed after the checkpoint.
    public var walObjects: Int
    /// The restored database holds every write up to this sequence number.
    public var lastSequence: SequenceNumber
}

extension Database {
    /// Copies the database in `store` into the empty (or missing) directory `path` without
    /// becoming its writer: the current checkpoint is downloaded, then every WAL object after it
    /// is applied, so the copy holds a prefix of the writes the store had when the call began —
    /// batches whole, sequences without gaps. The running writer is not disturbed (no epoch is
    /// claimed), and the copy is not attached to the store: open it normally, or open an empty
    /// directory with `Options.objectStore` to take over as writer instead.
    ///
    /// Memory stays bounded: files stream to disk, and one WAL object is held at a time.
    ///
    /// - Throws: `.invalidArgument` when `path` holds anything or the store holds no database;
    ///   `.corruption` naming the object for a damaged object or a gap in the log;
    ///   `.objectStore` for the store's errors.
    @discardableResult
    public static func restore(from store: any ObjectStore, into path: String, options: Options = Options()) throws -> RestoreReport {
        try options.validate()
        let store = retryingTransientFailures(store)
        let fileSystem = options.fileSystem
        if fileSystem.exists(path) {
            guard fileSystem.isDirectory(path), try fileSystem.listDirectory(path).isEmpty else {
                throw StrataError.invalidArgument("restore needs an empty or missing directory; \(path) holds files")
            }
        }
        guard let manifest = try StoreOpening.latestManifest(in: store) else {
            throw StrataError.invalidArgument("\(store) holds no database (no manifest object)")
        }
        try StoreOpening.download(manifest, from: store, into: path, fileSystem: fileSystem)
        var localOptions = options
        localOptions.objectStore = nil
        let database = try Database.open(at: path, options: localOptions)
        do {
            let highest = try blockingAwait {
                try await StoreLayout.highest(in: store, prefix: StoreLayout.walPrefix, from: manifest.firstWALObject)
            } ?? 0
            _ = try database.replayStoreWAL(from: manifest.firstWALObject, to: highest, store: store)
            let report = RestoreReport(
                manifest: manifest.number, epoch: manifest.epoch, files: manifest.files.count,
                bytes: manifest.files.reduce(0) { $0 + $1.size },
                walObjects: highest >= manifest.firstWALObject ? Int(highest - manifest.firstWALObject + 1) : 0,
                lastSequence: database.latestSequence)
            try database.close()
            return report
        } catch {
            try? database.close()
            throw error
        }
    }

    /// `restore(from:into:options:)` on a thread of its own.
    @discardableResult
    public static func restore(from store: any ObjectStore, into path: String, options: Options = Options()) async throws -> RestoreReport {
        try await Threads.run { try Database.restore(from: store, into: path, options: options) }
    }
}
