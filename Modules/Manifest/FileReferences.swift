import Encoding

/// Counts, per table file, how many live versions reference it, and which file numbers are
/// reserved by flushes and compactions that have not yet installed their output.
///
/// A table may be deleted only when its count is zero and its number is not reserved. Versions
/// take references when created and give them back in `deinit`, so a reader that still holds an
/// old version keeps its files alive.
///
/// Thread safety: every method may be called from any thread (a version may be released on any
/// reader thread).
package final class FileReferences: Sendable {
    struct State {
        var counts: [UInt64: Int] = [:]
        var reserved: Set<UInt64> = []
    }

    private let state = Locked(State())

    init() {}

    func retain(_ files: [UInt64]) {
        state.withLock { state in
            for file in files { state.counts[file, default: 0] += 1 }
        }
    }

    func release(_ files: [UInt64]) {
        state.withLock { state in
            for file in files {
                let count = (state.counts[file] ?? 0) - 1
                precondition(count >= 0, "table \(file) released more often than retained")
                state.counts[file] = count == 0 ? nil : count
            }
        }
    }

    /// Reserves `number` for an output being written, so garbage collection leaves it alone.
    package func reserve(_ number: UInt64) {
        state.withLock { _ = $0.reserved.insert(number) }
    }

    /// Releases a reservation (after the output is installed in a version, or abandoned).
    package func unreserve(_ number: UInt64) {
        state.withLock { _ = $0.reserved.remove(number) }
    }

    /// Whether `number` is referenced by a live version or reserved.
    package func isLive(_ number: UInt64) -> Bool {
        state.withLock { $0.counts[number] != nil || $0.reserved.contains(number) }
    }
}
