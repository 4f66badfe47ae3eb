import Engine
import GRPCCore

// The message-size limit. The HTTP/2 transport enforces a hard cap by resetting the stream
// (clients see UNAVAILABLE, not a status they can act on), so the transport's cap is set at twice
// `maxMessageBytes` and the service itself refuses anything whose keys and values exceed
// `maxMessageBytes` with RESOURCE_EXHAUSTED. Memory stays bounded by the transport's cap.

/// A request whose payload — the bytes of its keys and values — can be measured without
/// serialising it again.
protocol MeasuredRequest {
    /// The bytes of every key and value it carries.
    var payloadBytes: Int { get }
}

extension Strata_V1_GetRequest: MeasuredRequest {
    var payloadBytes: Int { key.count }
}

extension Strata_V1_BatchGetRequest: MeasuredRequest {
    var payloadBytes: Int { keys.reduce(0) { $0 + $1.count } }
}

extension Strata_V1_PutRequest: MeasuredRequest {
    var payloadBytes: Int { key.count + value.count }
}

extension Strata_V1_DeleteRequest: MeasuredRequest {
    var payloadBytes: Int { key.count }
}

extension Strata_V1_DeleteRangeRequest: MeasuredRequest {
    var payloadBytes: Int { start.count + end.count }
}

extension Strata_V1_Mutation: MeasuredRequest {
    var payloadBytes: Int {
        switch kind {
        case .put(let pair)?: return pair.key.count + pair.value.count
        case .delete(let key)?: return key.count
        case .deleteRange(let range)?: return range.start.count + range.end.count
        case nil: return 0
        }
    }
}

extension Strata_V1_WriteRequest: MeasuredRequest {
    var payloadBytes: Int { mutations.reduce(0) { $0 + $1.payloadBytes } }
}

extension Strata_V1_ScanRequest: MeasuredRequest {
    var payloadBytes: Int { start.count + end.count + prefix.count }
}

extension Strata_V1_QueryRequest: MeasuredRequest {
    /// The serialized size: a query's key parts and filter values are nested messages.
    var payloadBytes: Int { (try? serializedBytes() as [UInt8])?.count ?? Int.max }
}

extension Strata_V1_TransactRequest: MeasuredRequest {
    var payloadBytes: Int {
        switch op {
        case .get(let key)?, .getForUpdate(let key)?, .delete(let key)?: return key.count
        case .put(let pair)?: return pair.key.count + pair.value.count
        case .deleteRange(let range)?: return range.start.count + range.end.count
        case .scan(let scan)?: return scan.payloadBytes
        case .begin?, .commit?, .rollback?, nil: return 0
        }
    }
}

extension ServerConfiguration {
    /// The transport's hard cap on a request message (see the comment above).
    var transportMessageLimit: Int { max(2 * maxMessageBytes, maxMessageBytes + (1 << 20)) }

    /// Refuses `request` with RESOURCE_EXHAUSTED when its keys and values exceed the limit.
    func checkSize(_ request: some MeasuredRequest) throws {
        let bytes = request.payloadBytes
        guard bytes <= maxMessageBytes else {
            throw RPCError(code: .resourceExhausted, message: "the request carries \(bytes) bytes of keys and values, over the server's limit of \(maxMessageBytes) (maxMessageBytes)")
        }
    }
}
