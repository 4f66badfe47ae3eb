import Encoding
import Synchronization

/// The exclusive per-key locks of pessimistic transactions (RocksDB's point lock manager), with
/// deadlock detection on the wait-for graph.
///
/// Keys are spread over `stripeCount` stripes by hash; each stripe has its own mutex and
/// condition, so unrelated keys never contend. A request for a key held by another transaction
/// records a wait-for edge (waiter → holder, key) and, before it sleeps, follows the edges from
/// the holder: reaching the waiter means a cycle, and the waiter — the transaction that would
/// close it — is refused at once with `.deadlock` naming the cycle's keys. Otherwise it sleeps
/// until the key is released, its timeout passes (`.lockTimeout`), or the holder's expiration
/// passes (then the waiter takes the lock and the holder is marked expired).
///
/// Thread safety: every method may be called from any thread.
final class LockTable: Sendable {
    static let stripeCount = 64

    private struct Stripe {
        /// Key → the transaction holding it.
        var holders: [HashedBytes: UInt64] = [:]
    }

    private struct Graph {
        /// Waiter → (holder, key): at most one outstanding request per transaction.
        var waits: [UInt64: (holder: UInt64, key: [UInt8])] = [:]
        /// Transactions whose locks may be taken from them at this monotonic time.
        var deadlines: [UInt64: UInt64] = [:]
        /// Transactions whose locks were taken after they expired.
        var expired: Set<UInt64> = []
    }

    private let stripes: [Monitor<Stripe>]
    private let graph = Locked(Graph())
    /// Transactions registered with an expiration and not yet forgotten: while 0, nobody can
    /// expire and the graph's lock is not taken on the common paths.
    private let expiring = Atomic<Int>(0)

    init() {
        stripes = (0..<LockTable.stripeCount).map { _ in Monitor(Stripe()) }
    }

    private func stripe(for key: [UInt8]) -> Monitor<Stripe> {
        var hasher = Hasher()
        hasher.combine(key)
        return stripes[Int(UInt(bitPattern: hasher.finalize()) % UInt(LockTable.stripeCount))]
    }

    /// Registers a transaction that may lock keys (`expiration`: seconds after which its locks may
    /// be taken).
    func register(_ transaction: UInt64, expiration: Double?) {
        guard let expiration else { return }
        let deadline = WallClock.monotonicNanoseconds() + UInt64(expiration * 1e9)
        expiring.add(1, ordering: .relaxed)
        graph.withLock { $0.deadlines[transaction] = deadline }
    }

    /// Whether `transaction`'s locks were taken after it expired.
    func isExpired(_ transaction: UInt64) -> Bool {
        guard expiring.load(ordering: .relaxed) > 0 else { return false }
        return graph.withLock { $0.expired.contains(transaction) }
    }

    /// Locks `key` for `transaction`, waiting at most `timeout` seconds.
    ///
    /// - Returns: `true` when the lock was newly taken, `false` when the transaction held it.
    /// - Throws: `.deadlock` when waiting would close a cycle; `.lockTimeout` after `timeout`.
    func lock(_ key: [UInt8], for transaction: UInt64, timeout: Double, detectDeadlocks: Bool, onWait: () -> Void) throws -> Bool {
        let stripe = stripe(for: key)
        let hashed = HashedBytes(key)  // hashed once for every lookup below
        let deadline = WallClock.monotonicNanoseconds() + UInt64(max(0, timeout) * 1e9)
        var waited = false
        defer { if waited { graph.withLock { _ = $0.waits.removeValue(forKey: transaction) } } }
        while true {
            // Take it when free, or held by this transaction, or held by one that expired.
            let holder: UInt64? = stripe.withLock { state in
                guard let holder = state.holders[hashed], holder != transaction else {
                    let fresh = state.holders[hashed] == nil
                    state.holders[hashed] = transaction
                    return fresh ? nil : transaction
                }
                if takeIfExpired(holder) {
                    state.holders[hashed] = transaction
                    return nil
                }
                return holder
            }
            guard let holder else { return true }
            if holder == transaction { return false }
            if !waited {
                waited = true
                onWait()
            }
            // Record the wait, then look for a cycle through it.
            let cycle: [[UInt8]]? = graph.withLock { graph in
                graph.waits[transaction] = (holder, key)
                guard detectDeadlocks else { return nil }
                var keys = [key]
                var current = holder
                var seen: Set<UInt64> = [transaction]
                while let edge = graph.waits[current] {
                    keys.append(edge.key)
                    if edge.holder == transaction { return keys }
                    guard seen.insert(current).inserted else { return nil }
                    current = edge.holder
                }
                return nil
            }
            if let cycle {
                throw StrataError.deadlock(reason: "waiting for \(InternalKey.printable(key)) would close a cycle over keys \(cycle.map { InternalKey.printable($0) }.joined(separator: ", "))")
            }
            let now = WallClock.monotonicNanoseconds()
            guard now < deadline else {
                throw StrataError.lockTimeout(reason: "key \(InternalKey.printable(key)) held by another transaction after waiting \(Int((timeout * 1000).rounded())) ms")
            }
            // Sleep until the key is released, the timeout passes, or the holder may expire.
            let holderDeadline = expiring.load(ordering: .relaxed) > 0 ? graph.withLock { $0.deadlines[holder] } ?? UInt64.max : UInt64.max
            let wake = min(deadline, holderDeadline > now ? holderDeadline : now + 1_000_000)
            stripe.wait(until: { $0.holders[hashed] != holder }, timeoutNanoseconds: wake - now) { _ in }
        }
    }

    /// Whether `holder` has expired; if so it is marked so (its locks are being taken).
    private func takeIfExpired(_ holder: UInt64) -> Bool {
        guard expiring.load(ordering: .relaxed) > 0 else { return false }
        return graph.withLock { graph in
            guard let deadline = graph.deadlines[holder], WallClock.monotonicNanoseconds() >= deadline else { return false }
            graph.expired.insert(holder)
            return true
        }
    }

    /// Releases `keys` held by `transaction` (keys it no longer holds are skipped) and, unless
    /// `forgetting` is `false` (the transaction goes on), forgets the transaction.
    func unlock(_ keys: some Sequence<[UInt8]>, for transaction: UInt64, forgetting: Bool = true) {
        var touched: [ObjectIdentifier: Monitor<Stripe>] = [:]
        for key in keys {
            let stripe = stripe(for: key)
            let hashed = HashedBytes(key)
            stripe.withLock { state in
                if state.holders[hashed] == transaction { state.holders[hashed] = nil }
            }
            touched[ObjectIdentifier(stripe)] = stripe
        }
        for stripe in touched.values { stripe.broadcast() }
        guard forgetting, expiring.load(ordering: .relaxed) > 0 else { return }
        graph.withLock { graph in
            if graph.deadlines.removeValue(forKey: transaction) != nil { expiring.subtract(1, ordering: .relaxed) }
            graph.expired.remove(transaction)
        }
    }
}
