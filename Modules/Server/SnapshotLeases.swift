import Encoding
import Engine

/// Snapshots handed to clients, each leased for a while: a vanished client cannot pin old
/// versions forever, because an expired lease releases its snapshot.
///
/// Thread safety: every method may be called from any task or thread.
final class SnapshotLeases: Sendable {
    private struct Lease {
        let snapshot: Snapshot
        let expiry: UInt64
    }

    private let leases = Locked<[UInt64: Lease]>([:])
    private let nextID = Locked<UInt64>(1)

    /// Leases `snapshot` for `seconds`.
    ///
    /// - Returns: its id.
    func add(_ snapshot: Snapshot, seconds: Double) -> UInt64 {
        let id = nextID.withLock { id in
            defer { id += 1 }
            return id
        }
        let expiry = WallClock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        leases.withLock { $0[id] = Lease(snapshot: snapshot, expiry: expiry) }
        return id
    }

    /// The snapshot `id`, or `nil` when `id` is 0 (the latest data).
    ///
    /// - Throws: `StrataError.invalidArgument` for an unknown, released or expired id.
    func snapshot(_ id: UInt64) throws -> Snapshot? {
        guard id != 0 else { return nil }
        let now = WallClock.monotonicNanoseconds()
        let snapshot = leases.withLock { leases -> Snapshot? in
            guard let lease = leases[id] else { return nil }
            guard lease.expiry > now else {
                leases[id] = nil
                return nil
            }
            return lease.snapshot
        }
        guard let snapshot else {
            throw StrataError.invalidArgument("unknown snapshot \(id) (never created, released, or its lease expired)")
        }
        return snapshot
    }

    /// Releases `id`.
    ///
    /// - Throws: `StrataError.invalidArgument` for an unknown id.
    func release(_ id: UInt64) throws {
        let removed = leases.withLock { $0.removeValue(forKey: id) }
        guard removed != nil else { throw StrataError.invalidArgument("unknown snapshot \(id)") }
    }

    /// Releases every expired lease (called periodically).
    func expire() {
        let now = WallClock.monotonicNanoseconds()
        leases.withLock { leases in leases = leases.filter { $0.value.expiry > now } }
    }

    /// Live leases.
    var count: Int { leases.withLock { $0.count } }

    /// Releases every lease (at shutdown).
    func removeAll() {
        leases.withLock { $0.removeAll() }
    }
}
