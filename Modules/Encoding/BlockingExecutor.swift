/// Dedicated OS threads for blocking work — file I/O, `fdatasync`, write stalls — called from
/// Swift concurrency, so that no thread of the cooperative pool ever blocks on it.
///
/// `run` suspends the calling task, runs the closure on one of the executor's threads, and
/// resumes the task with the result. Threads start on first use (a program that never calls an
/// async API starts none), up to `maxThreads`; work beyond that waits in a FIFO queue. A closure
/// that waits for another closure of the same executor can therefore deadlock when every
/// thread is taken: submit only work that makes progress on its own.
///
/// Thread safety: every method may be called from any thread or task.
package final class BlockingExecutor: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var threads: [Threads.Handle] = []
        var idle = 0
        var shutdown = false

        var pending: Int { jobs.count - head }
    }

    /// The most threads the executor starts.
    package let maxThreads: Int
    private let state: Monitor<State>

    /// Creates an executor of at most `maxThreads` threads (at least 1).
    package init(maxThreads: Int) {
        self.maxThreads = max(1, maxThreads)
        self.state = Monitor(State())
    }

    /// Runs `body` on an executor thread and returns its result to the calling task.
    ///
    /// - Throws: what `body` throws; `CancellationError` when the task was cancelled before the
    ///   work started (work that started always finishes: a write is never half-applied);
    ///   `StrataError.closed` after `shutdown()`.
    package func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let accepted = submit {
                continuation.resume(with: Result(catching: body))
            }
            if !accepted { continuation.resume(throwing: StrataError.closed) }
        }
    }

    /// Queues `job`, starting a thread when none is idle and fewer than `maxThreads` run.
    ///
    /// - Returns: `false` after `shutdown()` (the job is dropped).
    @discardableResult
    package func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, startThread) = state.withLock { state -> (Bool, Bool) in
            guard !state.shutdown else { return (false, false) }
            state.jobs.append(job)
            let start = state.idle < state.pending && state.threads.count < maxThreads
            return (true, start)
        }
        guard accepted else { return false }
        if startThread {
            let handle = Threads.start { [state] in BlockingExecutor.work(state) }
            state.withLock { $0.threads.append(handle) }
        }
        state.broadcast()
        return true
    }

    /// Lets queued work finish, then stops and joins every thread. Later `run` calls throw
    /// `.closed`. Must not be called from one of the executor's own threads.
    package func shutdown() {
        let threads = state.withLock { state -> [Threads.Handle] in
            state.shutdown = true
            return state.threads
        }
        state.broadcast()
        for thread in threads { thread.join() }
    }

    /// A worker thread's loop: take the oldest job, run it, repeat; exit once shut down and
    /// drained.
    private static func work(_ state: Monitor<State>) {
        while true {
            state.withLock { $0.idle += 1 }
            let job = state.wait(until: { $0.pending > 0 || $0.shutdown }) { state -> (@Sendable () -> Void)? in
                state.idle -= 1
                guard state.pending > 0 else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                // Compact the consumed prefix now and then so the queue does not grow forever.
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: true)
                    state.head = 0
                } else if state.head >= 1024 {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            guard let job else { return }
            job()
        }
    }
}
