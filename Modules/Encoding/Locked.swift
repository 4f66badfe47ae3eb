#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

#if STRATA_TSAN
/// A mutex-protected value (pthread-based build for ThreadSanitizer runs).
///
/// `Synchronization.Mutex` locks inside the prebuilt, uninstrumented Synchronization library, so
/// ThreadSanitizer cannot see its happens-before edges and reports false races. `make tsan`
/// compiles with `-DSTRATA_TSAN`, which swaps in this `pthread_mutex_t` version — intercepted by
/// the sanitizer — with the same API.
@usableFromInline
package final class Locked<Value>: @unchecked Sendable {
    // `value` is only touched while `mutex` is held.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    @usableFromInline
    package init(_ initialValue: Value) {
        value = initialValue
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
#else
/// A mutex-protected value: `Synchronization.Mutex` (a futex on Linux; no allocation).
/// `make tsan` swaps in a pthread-based equivalent the thread sanitizer can see.
@usableFromInline
package typealias Locked<Value> = Mutex<Value>
#endif
