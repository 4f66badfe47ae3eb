#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore
import Strata

extension StrataClient {
    /// Runs `body` in one interactive transaction on the server (one `Transact` stream) and
    /// commits it when `body` returns; a `body` that throws rolls it back.
    ///
    /// A conflict, lock timeout or deadlock surfaces as an `RPCError` with code `.aborted`
    /// (from the call that hit it or from the commit); run the whole transaction again.
    ///
    /// - Parameters:
    ///   - isolation: the isolation level (as in the library).
    ///   - lockTimeout: pessimistic transactions' lock wait, in seconds.
    ///   - sync: make the commit durable against power loss before returning.
    public func transaction<Result: Sendable>(
        isolation: IsolationLevel = .serializable, lockTimeout: Double = 1, sync: Bool = false,
        _ body: @escaping @Sendable (RemoteTransaction) async throws -> Result
    ) async throws -> Result {
        let (requests, continuation) = AsyncStream.makeStream(of: Strata_V1_TransactRequest.self)
        continuation.yield(.with {
            $0.begin = .with {
                switch isolation {
                case .serializable: $0.isolation = .serializable
                case .snapshot: $0.isolation = .snapshot
                case .pessimistic: $0.isolation = .pessimistic
                }
                $0.lockTimeoutMs = UInt32(clamping: Int((lockTimeout * 1000).rounded()))
            }
        })
        let request = StreamingClientRequest<Strata_V1_TransactRequest> { writer in
            for await message in requests { try await writer.write(message) }
        }
        defer { continuation.finish() }
        return try await kv.transact(request: request, options: callOptions) { response in
            let transaction = RemoteTransaction(requests: continuation, responses: response.messages.makeAsyncIterator())
            guard case .began? = try await transaction.nextResult() else {
                throw RPCError(code: .internalError, message: "the server did not answer begin")
            }
            let result: Result
            do {
                result = try await body(transaction)
            } catch {
                continuation.yield(.with { $0.rollback = true })
                continuation.finish()
                throw error
            }
            continuation.yield(.with { $0.commit = .with { $0.sync = sync } })
            guard case .committed? = try await transaction.nextResult() else {
                throw RPCError(code: .internalError, message: "the server did not answer commit")
            }
            continuation.finish()
            return result
        }
    }
}

/// The client's side of a server transaction (see `StrataClient.transaction`): reads see the
/// transaction's snapshot plus its own writes; writes are buffered on the server until commit.
///
/// Not `Sendable`: use it only inside the body it was handed to, one call at a time.
public final class RemoteTransaction {
    private let requests: AsyncStream<Strata_V1_TransactRequest>.Continuation
    private var responses: RPCAsyncSequence<Strata_V1_TransactResponse, any Error>.AsyncIterator

    init(requests: AsyncStream<Strata_V1_TransactRequest>.Continuation, responses: RPCAsyncSequence<Strata_V1_TransactResponse, any Error>.AsyncIterator) {
        self.requests = requests
        self.responses = responses
    }

    /// The answer to the oldest unanswered message; a status ending the stream is thrown.
    func nextResult() async throws -> Strata_V1_TransactResponse.OneOf_Result? {
        guard let message = try await responses.next() else {
            throw RPCError(code: .internalError, message: "the transaction stream ended early")
        }
        return message.result
    }

    private func call(_ request: Strata_V1_TransactRequest) async throws -> Strata_V1_TransactResponse.OneOf_Result? {
        requests.yield(request)
        return try await nextResult()
    }

    /// The value of `key` in the transaction's view (of `keyspace`: the default one when `nil`).
    public func get(_ key: some BytesConvertible, keyspace: String? = nil) async throws -> [UInt8]? {
        guard case .value(let value)? = try await call(.with { $0.get = Data(bytes: key); $0.keyspace = keyspace ?? "" }) else { throw unexpected("get") }
        return value.found ? Array(value.value) : nil
    }

    /// The value of `key`, read for update (pessimistic: locks it).
    public func getForUpdate(_ key: some BytesConvertible, keyspace: String? = nil) async throws -> [UInt8]? {
        guard case .value(let value)? = try await call(.with { $0.getForUpdate = Data(bytes: key); $0.keyspace = keyspace ?? "" }) else { throw unexpected("getForUpdate") }
        return value.found ? Array(value.value) : nil
    }

    /// Buffers a put.
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, keyspace: String? = nil) async throws {
        guard case .ok? = try await call(.with { $0.put = .with { $0.key = Data(bytes: key); $0.value = Data(bytes: value) }; $0.keyspace = keyspace ?? "" }) else { throw unexpected("put") }
    }

    /// Buffers a delete.
    public func delete(_ key: some BytesConvertible, keyspace: String? = nil) async throws {
        guard case .ok? = try await call(.with { $0.delete = Data(bytes: key); $0.keyspace = keyspace ?? "" }) else { throw unexpected("delete") }
    }

    /// Buffers a range delete of `[start, end)`.
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, keyspace: String? = nil) async throws {
        guard case .ok? = try await call(.with { $0.deleteRange = .with { $0.start = Data(bytes: start); $0.end = Data(bytes: end) }; $0.keyspace = keyspace ?? "" }) else {
            throw unexpected("deleteRange")
        }
    }

    /// The entries of `[start, end)` in the transaction's view, at most `limit`.
    public func entries(from start: [UInt8]? = nil, to end: [UInt8]? = nil, reverse: Bool = false, limit: Int = 0, keyspace: String? = nil) async throws -> [(key: [UInt8], value: [UInt8])] {
        let request = Strata_V1_TransactRequest.with {
            $0.scan = .with {
                $0.keyspace = keyspace ?? ""
                if let start { $0.start = Data(start) }
                if let end { $0.end = Data(end) }
                $0.reverse = reverse
                $0.limit = UInt64(max(limit, 0))
            }
        }
        guard case .entries(let chunk)? = try await call(request) else { throw unexpected("scan") }
        return chunk.entries.map { (Array($0.key), Array($0.value)) }
    }

    private func unexpected(_ operation: String) -> RPCError {
        RPCError(code: .internalError, message: "unexpected answer to \(operation)")
    }
}
