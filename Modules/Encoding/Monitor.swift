#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// State protected by a mutex, with a condition variable to wait for it to change (a Hoare
/// monitor). Built on pthreads, which the thread sanitizer understands.
///
/// Thread safety: `@unchecked Sendable` because `state` is only touched while `mutex` is held.
package final class Monitor<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Touched only while `mutex` is held; behind a pointer to skip the runtime's exclusivity check.
    private let state: UncheckedCell<State>

    package init(_ state: State) {
        self.state = UncheckedCell(state)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    package func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.value)
    }

    /// Waits until `ready` holds (or `timeoutNanoseconds` pass), then runs `body` with exclusive
    /// access. `ready` is evaluated under the lock, after every wake-up.
    package func wait<Result>(
        until ready: (State) -> Bool, timeoutNanoseconds: UInt64? = nil, then body: (inout State) throws -> Result
    ) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let timeoutNanoseconds {
            let deadline = WallClock.monotonicNanoseconds() + timeoutNanoseconds
            while !ready(state.value) {
                let now = WallClock.monotonicNanoseconds()
                guard now < deadline else { break }
                #if os(Linux)
                var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                _ = pthread_cond_timedwait(condition, mutex, &until)
                #else
                _ = pthread_cond_wait(condition, mutex)
                #endif
            }
        } else {
            while !ready(state.value) { pthread_cond_wait(condition, mutex) }
        }
        return try body(&state.value)
    }

    /// Wakes every thread waiting in `wait`.
    package func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
