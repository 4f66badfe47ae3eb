#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore
import Strata

extension KVService {
    /// One interactive transaction per stream: `begin` first, then reads, writes and scans
    /// answered in order, then `commit` or `rollback`. An error ends the stream with its status
    /// (ABORTED for a conflict, lock timeout or deadlock) and rolls the transaction back; so does
    /// a stream that ends without a commit.
    func transact(
        request: RPCAsyncSequence<Strata_V1_TransactRequest, any Error>, response: RPCWriter<Strata_V1_TransactResponse>,
        context: ServerContext
    ) async throws {
        var transaction: Transaction? = nil
        do {
            try await mappingErrors {
                for try await message in request {
                    guard let op = message.op else { throw StrataError.invalidArgument("a Transact message without an operation") }
                    try configuration.checkSize(message)
                    if case .begin(let begin) = op {
                        guard transaction == nil else { throw StrataError.invalidArgument("begin may only be the first message") }
                        let isolation: IsolationLevel
                        switch begin.isolation {
                        case .serializable: isolation = .serializable
                        case .snapshot: isolation = .snapshot
                        case .pessimistic: isolation = .pessimistic
                        case .UNRECOGNIZED(let value): throw StrataError.invalidArgument("unknown isolation \(value)")
                        }
                        let timeout = begin.lockTimeoutMs == 0 ? 1 : Double(begin.lockTimeoutMs) / 1000
                        let began = try database.beginTransaction(TransactionOptions(isolation: isolation, lockTimeout: timeout))
                        transaction = began
                        try await response.write(.with { $0.began = began.id })
                        continue
                    }
                    guard let txn = transaction else { throw StrataError.invalidArgument("the first Transact message must be begin") }
                    let keyspace = try keyspace(named: message.keyspace)
                    switch op {
                    case .begin: break
                    case .get(let key):
                        try checkKey(key)
                        let value = try await txn.get(key, in: keyspace)
                        try await response.write(.with { $0.value = .found(value) })
                    case .getForUpdate(let key):
                        try checkKey(key)
                        let value = try await txn.getForUpdate(key, in: keyspace)
                        try await response.write(.with { $0.value = .found(value) })
                    case .put(let pair):
                        try await txn.put(pair.key, pair.value, in: keyspace)
                        try await response.write(.with { $0.ok = true })
                    case .delete(let key):
                        try await txn.delete(key, in: keyspace)
                        try await response.write(.with { $0.ok = true })
                    case .deleteRange(let range):
                        try await txn.deleteRange(from: range.start, to: range.end, in: keyspace)
                        try await response.write(.with { $0.ok = true })
                    case .scan(let scan):
                        // The scan's own keyspace field names where it reads; its prefix narrows
                        // the bounds as in Scan.
                        let (lower, upper) = try KVService.scanBounds(scan)
                        let entries = try await txn.entries(
                            from: lower, to: upper, in: try self.keyspace(named: scan.keyspace),
                            reverse: scan.reverse, limit: scan.limit == 0 ? .max : Int(clamping: scan.limit))
                        try await response.write(.with {
                            $0.entries = .with { chunk in
                                chunk.entries = entries.map { entry in
                                    .with {
                                        $0.key = Data(entry.key)
                                        if !scan.keysOnly { $0.value = Data(entry.value) }
                                    }
                                }
                            }
                        })
                    case .commit(let commit):
                        try await txn.commit(sync: commit.sync ? true : nil)
                        if durability == .objectStore { try await database.waitUntilStored() }
                        transaction = nil
                        try await response.write(.with { $0.committed = database.latestSequence.rawValue })
                        return
                    case .rollback:
                        transaction = nil
                        try txn.rollback()
                        try await response.write(.with { $0.ok = true })
                        return
                    }
                }
            }
        } catch {
            try? transaction?.rollback()
            throw error
        }
        try? transaction?.rollback()  // the stream ended without a commit
    }
}
