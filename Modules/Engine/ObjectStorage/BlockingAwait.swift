import Encoding

/// Runs async object-store work from the engine's synchronous code (open, the shipper and
/// checkpointer threads): the work runs as a task, the calling OS thread waits for its result.
///
/// Never call it on a thread of Swift's cooperative pool (the `async` API hands open and writes
/// to dedicated threads first): the pool could be waiting on itself.
package func blockingAwait<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let outcome = Monitor<Result<Value, any Error>?>(nil)
    Task.detached {
        let result: Result<Value, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        outcome.broadcast()
    }
    return try outcome.wait(until: { $0 != nil }) { $0! }.get()
}
