import Encoding
import VFS
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
/// queued so far (up to `maxGroupSize`) as one **group**, runs the `process` closure on the whole
/// group — e.g. write all payloads and issue one `fdatasync` — and hands the result to every
/// member. The others (**followers**) sleep until their group is done, then return the leader's
/// result: the same success, or the same error. When the leader finishes, the oldest waiting
/// request becomes the next leader.
///
/// Guarantees:
/// - Requests are processed in submission order; a group is a contiguous run of that order.
/// - At most one `process` call runs at a time, so it may use non-thread-safe state.
/// - `submit` returns only after the group holding the request has been processed.
///
/// Thread safety: `submit` may be called from any number of threads.
public final class CommitQueue<Request: Sendable>: Sendable {
    /// One queued request and the means to wake its thread.
    final class Waiter: @unchecked Sendable {
        // `request` is immutable. `isLeader`, `done` and `outcome` are written and read only
        // while holding the queue's lock; the semaphore only wakes the thread (its ordering is
        // not relied on, which also keeps the thread sanitizer able to check this code).
        let request: Request
        let semaphore = DispatchSemaphore(value: 0)
        var isLeader = false
        var done = false
        var outcome: Result<Void, any Error> = .success(())

        init(_ request: Request) { self.request = request }
    }

    struct State {
        var queue: [Waiter] = []
        var head = 0
        var leaderActive = false
        /// Moving average of recent group sizes, ×16 (fixed point). Above 16 means writers have
        /// recently been concurrent, which is when a collection window pays off.
        var averageGroupSize16 = 16
    }

    private let state = Locked(State())
    private let process: @Sendable ([Request]) throws -> Void
    private let groupLimit: @Sendable ([Request], Request) -> Bool
    private let collectionWindow: @Sendable ([Request]) -> UInt64

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
    ///     A thrown error is returned to every member of the group.
    public init(
        accepts: @escaping @Sendable (_ group: [Request], _ next: Request) -> Bool = { _, _ in true },
        collectionWindow: @escaping @Sendable (_ group: [Request]) -> UInt64 = { _ in 0 },
        process: @escaping @Sendable ([Request]) throws -> Void
    ) {
        self.process = process
        self.groupLimit = accepts
        self.collectionWindow = collectionWindow
    }

    /// Submits `request` and waits until a leader (possibly this thread) has processed it.
    ///
    /// - Throws: whatever `process` threw for the group holding the request.
    public func submit(_ request: Request) throws {
        let waiter = Waiter(request)
        let leadsNow = state.withLock { state -> Bool in
            state.queue.append(waiter)
            guard !state.leaderActive else { return false }
            state.leaderActive = true
            waiter.isLeader = true
            return true
        }
        if !leadsNow {
            waiter.semaphore.wait()  // woken when done, or when promoted to leader
            let outcome: Result<Void, any Error>? = state.withLock { _ in waiter.done ? waiter.outcome : nil }
            if let outcome { return try outcome.get() }
        }
        try lead(from: waiter)
    }

    /// Runs one group as leader, then promotes the next waiting request.
    private func lead(from leader: Waiter) throws {
        var group: [Waiter] = []
        var requests: [Request] = []
        extendGroup(&group, &requests, leader: leader)
        let concurrent = state.withLock { $0.averageGroupSize16 > 20 } || group.count > 1
        let window = concurrent ? collectionWindow(requests) : 0
        if window > 0 {
            // Give woken followers a moment to submit again, absorbing them into this group.
            let deadline = WallClock.monotonicNanoseconds() + window
            var idleRounds = 0
            while WallClock.monotonicNanoseconds() < deadline && idleRounds < CommitQueueTuning.maxIdleYields {
                sched_yield()
                let before = group.count
                if !extendGroup(&group, &requests, leader: leader) { break }
                idleRounds = group.count == before ? idleRounds + 1 : 0
            }
        }
        let outcome: Result<Void, any Error>
        do {
            try process(group.map(\.request))
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let next: Waiter? = state.withLock { state in
            state.averageGroupSize16 += (group.count * 16 - state.averageGroupSize16) / 8
            for member in group {
                member.outcome = outcome
                member.done = true
            }
            // Compact the consumed prefix now and then so the array does not grow forever.
            if state.head == state.queue.count {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
            } else if state.head > 1024 {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            guard state.head < state.queue.count else {
                state.leaderActive = false
                return nil
            }
            let successor = state.queue[state.head]
            successor.isLeader = true
            return successor
        }
        for member in group where member !== leader { member.semaphore.signal() }
        next?.semaphore.signal()
        try outcome.get()
    }

    /// Moves queued requests into `group` while `accepts` allows.
    ///
    /// - Returns: `false` when the group is closed to more requests (the next one was refused).
    @discardableResult
    private func extendGroup(_ group: inout [Waiter], _ requests: inout [Request], leader: Waiter) -> Bool {
        state.withLock { state in
            if group.isEmpty {
                // The leader is always the oldest unprocessed request.
                precondition(state.queue[state.head] === leader, "commit leader is not at the head of the queue")
                group.append(leader)
                requests.append(leader.request)
                state.head += 1
            }
            while state.head < state.queue.count {
                let next = state.queue[state.head]
                guard groupLimit(requests, next.request) else { return false }
                group.append(next)
                requests.append(next.request)
                state.head += 1
            }
            return true
        }
    }
}

/// Tuning of the collection window.
enum CommitQueueTuning {
    /// The window ends after this many yields in a row that brought no new request, so a lone
    /// writer pays only a few microseconds for it.
    static let maxIdleYields = 4
}
