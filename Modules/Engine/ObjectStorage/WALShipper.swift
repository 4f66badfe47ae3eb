import Encoding
import Logging
import ObjectStore
import WAL

/// Ships committed write groups to the object store as WAL objects, and lets writers wait until
/// their write is stored (`Durability.objectStore`).
///
/// The commit leader hands each group's encoded batches to `enqueue` after appending them to the
/// local log (cheap: an append under a lock). A dedicated thread uploads what has gathered every
/// `walUploadInterval`, or as soon as `walUploadBytes` are waiting, as the next WAL object with
/// create-if-absent: all writers waiting meanwhile share that one upload. A failed upload is
/// retried with backoff (writers waiting on it get the error); a create-if-absent refused because
/// another writer's object holds the number means a newer writer fenced this one.
///
/// Thread safety: every method may be called from any thread.
final class WALShipper: Sendable {
    struct State {
        /// Encoded batches committed locally and not yet stored, oldest first.
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        var pendingLastSequence: UInt64 = 0
        /// Every write up to this sequence is in the store.
        var shippedSequence: UInt64
        var nextNumber: UInt64
        /// Objects stored by this writer, (number, last sequence), since the oldest retained
        /// checkpoint: where a new checkpoint's replay must start.
        var history: [(number: UInt64, lastSequence: UInt64)] = []
        var bytesSinceCheckpoint: UInt64 = 0
        /// After a failed upload, the number of records it held: the retry must send exactly
        /// those bytes again (the failed attempt may have been stored, and a create-if-absent
        /// retry recognises its own object only by identical bytes).
        var retryRecordCount: Int?
        /// The last upload failure; waiters that started before it fail with it.
        var failure: StrataError?
        var failureGeneration: UInt64 = 0
        var fenced: StrataError?
        var stopping = false
        var stopped = false
    }

    let store: any ObjectStore
    let epoch: UInt64
    let state: Monitor<State>
    private let options: Options
    private let logger: Logger
    private let thread = Locked<Threads.Handle?>(nil)
    private let onFenced: @Sendable (StrataError) -> Void
    private let onCheckpointDue: @Sendable () -> Void

    init(store: any ObjectStore, epoch: UInt64, nextNumber: UInt64, shippedSequence: UInt64, options: Options,
         onFenced: @escaping @Sendable (StrataError) -> Void, onCheckpointDue: @escaping @Sendable () -> Void) {
        self.store = store
        self.epoch = epoch
        self.options = options
        self.logger = options.logger
        self.onFenced = onFenced
        self.onCheckpointDue = onCheckpointDue
        self.state = Monitor(State(shippedSequence: shippedSequence, nextNumber: nextNumber))
    }

    func start() {
        let handle = Threads.start { [self] in run() }
        thread.withLock { $0 = handle }
    }

    /// Blocks the commit leader while more than `maxUnshippedBytes` wait for the store (a write
    /// stall), and returns the microseconds waited. Throws once fenced.
    func waitForRoom(bytes: Int) throws -> UInt64 {
        let limit = options.maxUnshippedBytes
        let full = state.withLock { $0.pendingBytes + bytes > limit && $0.fenced == nil && !$0.stopping }
        guard full else {
            if let fenced = state.withLock({ $0.fenced }) { throw fenced }
            return 0
        }
        let start = WallClock.monotonicNanoseconds()
        state.broadcast()
        try state.wait(until: { $0.pendingBytes + bytes <= limit || $0.fenced != nil || $0.stopping }) { state in
            if let fenced = state.fenced { throw fenced }
        }
        return (WallClock.monotonicNanoseconds() - start) / 1000
    }

    /// Queues a committed group's batches (their sequences set) for upload. Leader only.
    func enqueue(_ batches: [WriteBatch]) {
        let urgent = state.withLock { state -> Bool in
            for batch in batches {
                state.pending.append(batch.encoded)
                state.pendingBytes += batch.encoded.count
                state.pendingLastSequence = batch.lastSequence.rawValue
            }
            return state.pendingBytes >= options.walUploadBytes
        }
        if urgent { state.broadcast() }
    }

    /// Waits until every write up to `sequence` is in the store.
    ///
    /// - Throws: `.fenced`; the store's error when an upload holding the write failed after the
    ///   store's retries (the write stays committed locally and is uploaded later); `.closed`.
    func waitUntilStored(_ sequence: UInt64) throws {
        let generation = state.withLock { $0.failureGeneration }
        try state.wait(until: {
            $0.shippedSequence >= sequence || $0.fenced != nil || $0.stopped || $0.failureGeneration > generation
        }) { state in
            if state.shippedSequence >= sequence { return }
            if let fenced = state.fenced { throw fenced }
            if let failure = state.failure, state.failureGeneration > generation { throw failure }
            throw StrataError.closed
        }
    }

    /// The first stored WAL object that may hold a write after `sequence` (a checkpoint's replay
    /// start), dropping older history.
    func firstObject(after sequence: UInt64) -> UInt64 {
        state.withLock { state in
            let first = state.history.first { $0.lastSequence > sequence }?.number ?? state.nextNumber
            state.history.removeAll { $0.number < first }
            state.bytesSinceCheckpoint = 0
            return first
        }
    }

    /// Uploads what is pending (for up to `timeoutSeconds`), then stops the thread.
    func stop(timeoutSeconds: Double) {
        state.wait(until: { $0.pending.isEmpty || $0.fenced != nil }, timeoutNanoseconds: UInt64(timeoutSeconds * 1e9)) { _ in }
        state.withLock { $0.stopping = true }
        state.broadcast()
        thread.withLock { $0?.join(); $0 = nil }
        state.withLock { $0.stopped = true }
        state.broadcast()
    }

    // MARK: The upload thread

    private func run() {
        var backoffMilliseconds = 0
        let interval = UInt64(options.walUploadInterval * 1e9)
        while true {
            // Wait for the interval (or for enough bytes), then take up to about walUploadBytes.
            let deadline = WallClock.monotonicNanoseconds() + (backoffMilliseconds > 0 ? UInt64(backoffMilliseconds) * 1_000_000 : interval)
            let work = state.wait(until: { state in
                state.stopping || state.fenced != nil
                    || (backoffMilliseconds == 0 && state.pendingBytes >= options.walUploadBytes)
                    || WallClock.monotonicNanoseconds() >= deadline
            }, timeoutNanoseconds: deadline - min(deadline, WallClock.monotonicNanoseconds()) + 1_000_000) { state -> ([[UInt8]], UInt64)? in
                guard state.fenced == nil, !state.pending.isEmpty else { return nil }
                var taken = 0
                var bytes = 0
                if let retry = state.retryRecordCount {
                    taken = retry
                } else {
                    while taken < state.pending.count && (taken == 0 || bytes < options.walUploadBytes) {
                        bytes += state.pending[taken].count
                        taken += 1
                    }
                }
                return (Array(state.pending[0..<taken]), state.nextNumber)
            }
            let stopping = state.withLock { $0.stopping || $0.fenced != nil }
            guard let (records, number) = work else {
                if stopping { return }
                continue
            }
            do {
                try upload(records, number: number)
                backoffMilliseconds = 0
            } catch let error as StrataError {
                if case .fenced = error {
                    // The database refuses writes before any waiter hears of the fence.
                    onFenced(error)
                    state.withLock { $0.fenced = error }
                    state.broadcast()
                    return
                }
                state.withLock { state in
                    state.failure = error
                    state.failureGeneration += 1
                    state.retryRecordCount = records.count
                }
                state.broadcast()
                logger.warning("WAL upload failed; will retry", metadata: ["object": "\(StoreLayout.walKey(number))", "error": "\(error)"])
                backoffMilliseconds = min(5000, max(50, backoffMilliseconds * 2))
                if stopping { return }
            } catch {
                state.withLock { $0.retryRecordCount = records.count }
                backoffMilliseconds = min(5000, max(50, backoffMilliseconds * 2))
                if stopping { return }
            }
        }
    }

    /// Stores `records` as WAL object `number` and marks them shipped.
    private func upload(_ records: [[UInt8]], number: UInt64) throws {
        var first: UInt64 = 0
        var last: UInt64 = 0
        for (index, record) in records.enumerated() {
            guard let range = record.withUnsafeBytes({ WriteBatch.sequenceRange(of: $0) }) else { continue }
            if index == 0 { first = range.lowerBound.rawValue }
            last = range.upperBound.rawValue
        }
        let object = WALObject(kind: .records, epoch: epoch, number: number, firstSequence: first, lastSequence: last, records: records)
        let bytes = object.encoded()
        let key = StoreLayout.walKey(number)
        try StoreWrites.create(key, bytes, in: store, epoch: epoch)
        let due = state.withLock { state -> Bool in
            state.pending.removeFirst(records.count)
            state.pendingBytes -= records.reduce(0) { $0 + $1.count }
            state.shippedSequence = max(state.shippedSequence, last)
            state.nextNumber = number + 1
            state.history.append((number, last))
            state.bytesSinceCheckpoint += UInt64(bytes.count)
            state.failure = nil
            state.retryRecordCount = nil
            return state.bytesSinceCheckpoint >= options.checkpointWALBytes
        }
        state.broadcast()
        if due { onCheckpointDue() }
    }
}

/// Create-if-absent writes of the objects only the writer may add (WAL objects, manifests).
enum StoreWrites {
    /// Creates `key` with `bytes`. A refusal because the key exists is our own earlier attempt
    /// when the stored bytes are these (a retry after a lost response), else another writer's
    /// object: `.fenced`.
    static func create(_ key: String, _ bytes: [UInt8], in store: any ObjectStore, epoch: UInt64) throws {
        do {
            _ = try blockingAwait { try await store.put(key, bytes, condition: .ifAbsent) }
        } catch StrataError.objectStore(let failure) where failure.kind == .preconditionFailed {
            let existing = try blockingAwait { try await store.get(key, range: nil) }
            guard existing != bytes else { return }
            throw StrataError.fenced(reason: "\(key) in \(store) was written by another writer; this one (epoch \(epoch)) may no longer write")
        }
    }
}
