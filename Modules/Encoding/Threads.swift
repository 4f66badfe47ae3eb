#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dedicated OS threads, for background work and for tests and benchmarks that need real
/// concurrency (`DispatchQueue.concurrentPerform` runs only as many blocks at once as there are
/// cores, which hides contention).
package enum Threads {
    /// A started thread that can be joined once.
    package final class Handle: @unchecked Sendable {
        // `thread` is written once by `start` before the handle is shared.
        fileprivate var thread = pthread_t()
        private var joined = false

        /// Waits for the thread to finish. Calling it again does nothing.
        package func join() {
            guard !joined else { return }
            joined = true
            pthread_join(thread, nil)
        }
    }

    private final class Job {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts `body` on a new OS thread.
    package static func start(_ body: @escaping @Sendable () -> Void) -> Handle {
        let handle = Handle()
        let job = Unmanaged.passRetained(Job(body)).toOpaque()
        #if canImport(Glibc)
        let result = pthread_create(&handle.thread, nil, { argument in
            let job = Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue()
            job.body()
            return nil
        }, job)
        #else
        let result = pthread_create(&handle.thread, nil, { argument in
            let job = Unmanaged<Job>.fromOpaque(argument).takeRetainedValue()
            job.body()
            return nil
        }, job)
        #endif
        precondition(result == 0, "pthread_create failed with \(result)")
        return handle
    }

    /// Starts `body` on a new OS thread that nobody joins (it releases its resources when done).
    package static func startDetached(_ body: @escaping @Sendable () -> Void) {
        let handle = start(body)
        pthread_detach(handle.thread)
    }

    /// Runs `body` on a new OS thread and returns its result, suspending meanwhile: for the rare
    /// blocking call (opening or closing a database) an `async` caller must not make on a thread
    /// of the cooperative pool.
    package static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            startDetached { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, each on its own thread, and waits for all.
    package static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let handles = (0..<count).map { index in start { body(index) } }
        for handle in handles { handle.join() }
    }
}
