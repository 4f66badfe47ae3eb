#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Encoding
import Synchronization

/// Leader/follower batching for writers that must be serialised (LevelDB's writer queue).
///
/// Threads `submit` requests. One thread at a time is the **leader**: it takes every request
/// queued so far (up to what `accepts` allows) as one **group**, runs the `process` closure on
/// the whole group — e.g. write all payloads and issue one `fdatasync` — and hands the result to
/// every member. The others (**followers**) sleep until their group is done, then return the
/// leader's result: the same success, or the same error. When the leader finishes, the oldest
/// waiting request becomes the next leader.
///
/// Guarantees:
/// - Requests are processed in submission order; a group is a contiguous run of that order.
/// - At most one `process` call runs at a time, so it may use non-thread-safe state.
/// - `submit` returns only after the group holding the request has been processed.
///
/// Cost: a lone writer (nobody leading, nobody queued) takes one uncontended lock on the way in
/// and one on the way out, and allocates nothing. Only a writer that has to wait allocates a
/// waiter with a semaphore. The methods are `@inlinable` so each client specialises the queue
/// for its request type (unspecialised generic code here cost more than the write itself).
///
/// Thread safety: `submit` may be called from any number of threads.
public final class CommitQueue<Request: Sendable>: Sendable {
    /// One queued request and the means to wake its thread.
    @usableFromInline
    final class Waiter: @unchecked Sendable {
        // `request` is immutable. `isLeader`, `done` and `outcome` are written and read only
        // while holding the queue's lock; the semaphore only wakes the thread (its ordering is
        // not relied on, which also keeps the thread sanitizer able to check this code).
        @usableFromInline let request: Request
        @usableFromInline let semaphore = DispatchSemaphore(value: 0)
        @usableFromInline var isLeader = false
        @usableFromInline var done = false
        @usableFromInline var outcome: Result<Void, any Error> = .success(())

        @inlinable
        init(_ request: Request) { self.request = request }
    }

    @usableFromInline
    struct State {
        /// Waiting requests; those before `head` have been taken into a group.
        @usableFromInline var queue: [Waiter] = []
        @usableFromInline var head = 0
        @usableFromInline var leaderActive = false
        /// Moving average of recent group sizes, ×16 (fixed point). Above 16 means writers have
        /// recently been concurrent, which is when a collection window pays off.
        @usableFromInline var averageGroupSize16 = 16

        @inlinable
        init() {}

        /// `true` when no request is waiting.
        @inlinable
        var isIdle: Bool { head == queue.count }
    }

    /// Buffers only the active leader touches, reused so that a group costs no allocation.
    @usableFromInline
    struct LeaderScratch {
        @usableFromInline var requests: [Request] = []
        @usableFromInline var followers: [Waiter] = []

        @inlinable
        init() {}
    }

    @usableFromInline let state: Locked<State>
    // One leader at a time, handed over under `state`'s lock, so accesses never overlap.
    @usableFromInline let scratch = UncheckedCell(LeaderScratch())
    @usableFromInline let process: @Sendable ([Request]) throws -> Void
    @usableFromInline let groupLimit: @Sendable ([Request], Request) -> Bool
    @usableFromInline let collectionWindow: @Sendable ([Request]) -> UInt64

    /// Creates a queue.
    ///
    /// - Parameters:
    ///   - accepts: decides whether a group (so far) may take one more request; defaults to
    ///     accepting everything queued. Use it to cap group bytes, or to keep requests that need
    ///     different treatment apart.
    ///   - collectionWindow: for a group about to be processed, how many nanoseconds the leader
    ///     may spend yielding the CPU to let more requests join it (default: none). Worth it only
    ///     when processing is slow compared to a thread wake-up — an `fdatasync` of 100 µs or
    ///     more — because just-woken followers need a moment to submit again, and without a
    ///     window the next leader starts with a near-empty group. The window is opened only when
    ///     recent groups held more than one request, so a lone writer never waits.
    ///   - process: runs on the leader's thread for each group, in order, never concurrently.
    ///     A thrown error is returned to every member of the group. The array is valid only
    ///     during the call.
    @inlinable
    public init(
        accepts: @escaping @Sendable (_ group: [Request], _ next: Request) -> Bool = { _, _ in true },
        collectionWindow: @escaping @Sendable (_ group: [Request]) -> UInt64 = { _ in 0 },
        process: @escaping @Sendable ([Request]) throws -> Void
    ) {
        self.state = Locked(State())
        self.process = process
        self.groupLimit = accepts
        self.collectionWindow = collectionWindow
    }

    /// Submits `request` and waits until a leader (possibly this thread) has processed it.
    ///
    /// - Throws: whatever `process` threw for the group holding the request.
    @inlinable
    public func submit(_ request: Request) throws {
        // Fast path: nobody leads and nobody waits, so this thread leads without queueing.
        let leadsAlone = state.withLock { state -> Bool in
            guard !state.leaderActive && state.isIdle else { return false }
            state.leaderActive = true
            return true
        }
        if leadsAlone { return try lead(first: request, queued: false) }

        let waiter = Waiter(request)
        let leadsNow = state.withLock { state -> Bool in
            state.queue.append(waiter)
            guard !state.leaderActive else { return false }
            // No leader means nothing else waits (a finishing leader promotes the head), so
            // this waiter is at the head of the queue.
            state.leaderActive = true
            waiter.isLeader = true
            return true
        }
        if !leadsNow {
            waiter.semaphore.wait()  // woken when done, or when promoted to leader
            let outcome: Result<Void, any Error>? = state.withLock { _ in waiter.done ? waiter.outcome : nil }
            if let outcome { return try outcome.get() }
        }
        try lead(first: request, queued: true)
    }

    /// Runs one group as leader — `first` (still at the head of the queue when `queued`) and
    /// what follows it — then promotes the next waiting request.
    @inlinable
    func lead(first: Request, queued: Bool) throws {
        let scratch = self.scratch
        scratch.value.requests.append(first)
        extendGroup(takingHead: queued)
        let concurrent = !scratch.value.followers.isEmpty || state.withLock { $0.averageGroupSize16 > 20 }
        let window = concurrent ? collectionWindow(scratch.value.requests) : 0
        if window > 0 {
            // Give woken followers a moment to submit again, absorbing them into this group.
            let deadline = WallClock.monotonicNanoseconds() + window
            var idleRounds = 0
            while WallClock.monotonicNanoseconds() < deadline && idleRounds < CommitQueueTuning.maxIdleYields {
                sched_yield()
                let before = scratch.value.followers.count
                if !extendGroup(takingHead: false) { break }
                idleRounds = scratch.value.followers.count == before ? idleRounds + 1 : 0
            }
        }
        let outcome: Result<Void, any Error>
        do {
            try process(scratch.value.requests)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let groupSize = scratch.value.requests.count
        scratch.value.requests.removeAll(keepingCapacity: true)
        // The followers leave the scratch while the lock is held: once leadership is handed
        // over (below), the next leader owns the scratch.
        var followers: [Waiter] = []
        let next: Waiter? = state.withLock { state in
            state.averageGroupSize16 += (groupSize * 16 - state.averageGroupSize16) / 8
            if !scratch.value.followers.isEmpty { swap(&followers, &scratch.value.followers) }
            for member in followers {
                member.outcome = outcome
                member.done = true
            }
            // Compact the consumed prefix now and then so the array does not grow forever.
            if state.isIdle {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
            } else if state.head > 1024 {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            guard !state.isIdle else {
                state.leaderActive = false
                return nil
            }
            let successor = state.queue[state.head]
            successor.isLeader = true
            return successor
        }
        // Signalled outside the lock. A lone writer never gets here with followers, so the
        // swap above costs an allocation only when writers actually waited.
        for member in followers { member.semaphore.signal() }
        next?.semaphore.signal()
        try outcome.get()
    }

    /// Moves queued requests into the leader's group while `accepts` allows; with `takingHead`
    /// first consumes the leader's own queue entry.
    ///
    /// - Returns: `false` when the group is closed to more requests (the next one was refused).
    @inlinable
    @discardableResult
    func extendGroup(takingHead: Bool) -> Bool {
        let scratch = self.scratch
        return state.withLock { state in
            if takingHead {
                // The leader is always the oldest unprocessed request.
                precondition(state.queue[state.head].isLeader, "commit leader is not at the head of the queue")
                state.head += 1
            }
            while state.head < state.queue.count {
                let next = state.queue[state.head]
                guard groupLimit(scratch.value.requests, next.request) else { return false }
                scratch.value.followers.append(next)
                scratch.value.requests.append(next.request)
                state.head += 1
            }
            return true
        }
    }
}

/// Tuning of the collection window.
@usableFromInline
enum CommitQueueTuning {
    /// The window ends after this many yields in a row that brought no new request, so a lone
    /// writer pays only a few microseconds for it.
    @usableFromInline static let maxIdleYields = 4
}
