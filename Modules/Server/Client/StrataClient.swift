#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Encoding
import GRPCCore
import GRPCNIOTransportHTTP2
import Strata

/// A client of `strata-server`: the database's operations over gRPC, in the library's own
/// vocabulary (byte-convertible keys and values, half-open `from:to:` ranges, `WriteBatch`).
///
/// Use it inside ``withClient(_:_:)``, which connects, runs your code and disconnects. Errors
/// are `RPCError`s carrying the status code and the server's message (see Docs/SERVER.md,
/// "Status codes"); a call fails with UNAVAILABLE while the server cannot be reached.
///
/// Thread safety: `Sendable`; any number of tasks may call it at once (calls are multiplexed
/// over one HTTP/2 connection).
public struct StrataClient: Sendable {
    /// How to reach a server.
    public struct Configuration: Sendable {
        /// The server, `HOST:PORT`.
        public var address: String
        /// The bearer token the server requires (`nil`: send none).
        public var token: BearerToken?
        /// Connect with TLS, trusting the system's roots and, when set, the PEM certificates in
        /// `tlsTrustRootsFile`.
        public var tls = false
        /// Extra PEM trust roots (for a server with a self-signed certificate).
        public var tlsTrustRootsFile: String? = nil
        /// A deadline applied to every call (`nil`: none; a scan runs as long as it takes).
        public var timeout: Duration? = nil

        /// A configuration for `address` with no token, no TLS and no deadline.
        public init(address: String, token: BearerToken? = nil) {
            self.address = address
            self.token = token
        }
    }

    /// The generated `strata.v1.KV` client, for calls this type does not wrap.
    public let kv: Strata_V1_KV.Client<HTTP2ClientTransport.Posix>
    /// The generated `grpc.health.v1.Health` client.
    public let health: Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix>
    /// Options every call is made with.
    public let callOptions: CallOptions

    /// The largest message exchanged: a maximal batch or value plus framing.
    static let maxMessageBytes = 128 << 20

    /// Connects to the server `configuration` names, runs `body` with a client, and disconnects
    /// when it returns (calls still running are allowed to finish).
    ///
    /// - Throws: `StrataError.invalidArgument` for a malformed address, or what `body` throws.
    public static func withClient<Result: Sendable>(
        _ configuration: Configuration, _ body: (StrataClient) async throws -> Result
    ) async throws -> Result {
        let address = try ListenAddress(configuration.address)
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if configuration.tls {
            let roots = configuration.tlsTrustRootsFile
            security = .tls { tls in
                if let roots { tls.trustRoots = .certificates([.file(path: roots, format: .pem)]) }
            }
        } else {
            security = .plaintext
        }
        let transport = try HTTP2ClientTransport.Posix(target: address.resolvableTarget, transportSecurity: security)
        var interceptors: [any ClientInterceptor] = []
        if let token = configuration.token { interceptors.append(BearerTokenClientInterceptor(header: token.headerValue)) }
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        options.timeout = configuration.timeout
        return try await withGRPCClient(transport: transport, interceptors: interceptors) { grpc in
            try await body(StrataClient(kv: Strata_V1_KV.Client(wrapping: grpc), health: Grpc_Health_V1_Health.Client(wrapping: grpc), callOptions: options))
        }
    }

    // MARK: - Reads

    /// The value of `key` (`nil` when it has none), in the latest data or at `snapshot`, in
    /// `keyspace` (the default one when `nil`; a named one must exist on the server).
    public func get(_ key: some BytesConvertible, at snapshot: RemoteSnapshot? = nil, keyspace: String? = nil) async throws -> [UInt8]? {
        let request = Strata_V1_GetRequest.with {
            $0.key = Data(bytes: key)
            $0.snapshotID = snapshot?.id ?? 0
            $0.keyspace = keyspace ?? ""
        }
        let response = try await kv.get(request, options: callOptions)
        return response.found ? Array(response.value) : nil
    }

    /// The values of `keys` at one consistent point, in order (of `keyspace`, as `get`).
    public func batchGet<Key: BytesConvertible>(_ keys: [Key], at snapshot: RemoteSnapshot? = nil, keyspace: String? = nil) async throws -> [[UInt8]?] {
        let request = Strata_V1_BatchGetRequest.with {
            $0.keys = keys.map { Data(bytes: $0) }
            $0.snapshotID = snapshot?.id ?? 0
            $0.keyspace = keyspace ?? ""
        }
        let response = try await kv.batchGet(request, options: callOptions)
        return response.results.map { $0.found ? Array($0.value) : nil }
    }

    /// Calls `body` with each entry of `[start, end)` (unbounded where `nil`), narrowed to
    /// `prefix` when given, in key order or reversed, at most `limit` of them. Entries arrive in
    /// chunks as `body` consumes them; return `false` from `body` to stop early. Reads
    /// `keyspace` (as `get`).
    public func scan(
        from start: [UInt8]? = nil, to end: [UInt8]? = nil, prefix: [UInt8]? = nil, reverse: Bool = false, limit: Int? = nil,
        keysOnly: Bool = false, at snapshot: RemoteSnapshot? = nil, keyspace: String? = nil,
        _ body: @escaping @Sendable (_ key: [UInt8], _ value: [UInt8]) async throws -> Bool
    ) async throws {
        let request = Strata_V1_ScanRequest.with {
            $0.keyspace = keyspace ?? ""
            if let start { $0.start = Data(start) }
            if let end { $0.end = Data(end) }
            if let prefix { $0.prefix = Data(prefix) }
            $0.reverse = reverse
            $0.limit = UInt64(max(limit ?? 0, 0))
            $0.keysOnly = keysOnly
            $0.snapshotID = snapshot?.id ?? 0
        }
        if limit == 0 { return }
        try await kv.scan(request, options: callOptions) { response in
            // Returning before the stream ends cancels the call on the server.
            for try await chunk in response.messages {
                for entry in chunk.entries {
                    guard try await body(Array(entry.key), Array(entry.value)) else { return }
                }
            }
        }
    }

    /// The rows of a typed table's query (`Query` RPC): `body` gets each row until it returns
    /// `false` or the rows end.
    public func query(
        _ request: Strata_V1_QueryRequest, _ body: @escaping @Sendable (_ row: Strata_V1_QueryRow) async throws -> Bool
    ) async throws {
        try await kv.query(request, options: callOptions) { response in
            // Returning before the stream ends cancels the call on the server.
            for try await chunk in response.messages {
                for row in chunk.rows {
                    guard try await body(row) else { return }
                }
            }
        }
    }

    // MARK: - Writes

    /// Stores `value` under `key` in `keyspace` (as `get`); with `sync`, returns only once it
    /// is durable.
    ///
    /// - Returns: a sequence number at or after the write's.
    @discardableResult
    public func put(_ key: some BytesConvertible, _ value: some BytesConvertible, sync: Bool = false, keyspace: String? = nil) async throws -> UInt64 {
        let request = Strata_V1_PutRequest.with {
            $0.keyspace = keyspace ?? ""
            $0.key = Data(bytes: key)
            $0.value = Data(bytes: value)
            $0.sync = sync
        }
        return try await kv.put(request, options: callOptions).sequence
    }

    /// Deletes `key` of `keyspace` (as `get`).
    @discardableResult
    public func delete(_ key: some BytesConvertible, sync: Bool = false, keyspace: String? = nil) async throws -> UInt64 {
        let request = Strata_V1_DeleteRequest.with {
            $0.keyspace = keyspace ?? ""
            $0.key = Data(bytes: key)
            $0.sync = sync
        }
        return try await kv.delete(request, options: callOptions).sequence
    }

    /// Deletes every key in `[start, end)` of `keyspace` (as `get`).
    @discardableResult
    public func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, sync: Bool = false, keyspace: String? = nil) async throws -> UInt64 {
        let request = Strata_V1_DeleteRangeRequest.with {
            $0.keyspace = keyspace ?? ""
            $0.start = Data(bytes: start)
            $0.end = Data(bytes: end)
            $0.sync = sync
        }
        return try await kv.deleteRange(request, options: callOptions).sequence
    }

    /// Applies `batch` atomically (to the default keyspace: a `WriteBatch` names keyspaces by
    /// a local database's ids, so one that writes a named keyspace is refused — use
    /// `RemoteWriteBatch`, which names them).
    ///
    /// - Throws: `StrataError.invalidArgument` for a batch with entries in a named keyspace.
    @discardableResult
    public func write(_ batch: WriteBatch, sync: Bool = false) async throws -> UInt64 {
        let entries = batch.entries
        guard entries.allSatisfy({ $0.keyspace == 0 }) else {
            throw StrataError.invalidArgument("this WriteBatch writes keyspaces of a local database; name them in a RemoteWriteBatch")
        }
        let request = Strata_V1_WriteRequest.with {
            $0.mutations = entries.map { entry in
                .with {
                    switch entry.kind {
                    case .put: $0.put = .with { pair in pair.key = Data(entry.key); pair.value = Data(entry.value) }
                    case .delete: $0.delete = Data(entry.key)
                    case .rangeDelete: $0.deleteRange = .with { range in range.start = Data(entry.key); range.end = Data(entry.value) }
                    }
                }
            }
            $0.sync = sync
        }
        return try await kv.write(request, options: callOptions).sequence
    }

    // MARK: - Snapshots and maintenance

    /// Takes a snapshot leased for `ttlSeconds` (0: the server's default).
    public func createSnapshot(ttlSeconds: UInt32 = 0) async throws -> RemoteSnapshot {
        let response = try await kv.createSnapshot(.with { $0.ttlSeconds = ttlSeconds }, options: callOptions)
        return RemoteSnapshot(id: response.snapshotID, sequence: response.sequence, ttlSeconds: response.ttlSeconds)
    }

    /// Releases `snapshot` before its lease ends.
    public func releaseSnapshot(_ snapshot: RemoteSnapshot) async throws {
        _ = try await kv.releaseSnapshot(.with { $0.snapshotID = snapshot.id }, options: callOptions)
    }

    /// Flushes every memtable to a table.
    public func flush() async throws {
        _ = try await kv.flush(Strata_V1_FlushRequest(), options: callOptions)
    }

    /// Applies `batch`, which may span keyspaces, atomically.
    ///
    /// - Returns: a sequence number at or after the write's.
    @discardableResult
    public func write(_ batch: RemoteWriteBatch, sync: Bool = false) async throws -> UInt64 {
        let request = Strata_V1_WriteRequest.with {
            $0.mutations = batch.mutations
            $0.sync = sync
        }
        return try await kv.write(request, options: callOptions).sequence
    }

    /// Compacts `[start, end)` (unbounded where `nil`) of `keyspace` (as `get`).
    public func compactRange(from start: [UInt8]? = nil, to end: [UInt8]? = nil, keyspace: String? = nil) async throws {
        let request = Strata_V1_CompactRangeRequest.with {
            $0.keyspace = keyspace ?? ""
            if let start { $0.start = Data(start) }
            if let end { $0.end = Data(end) }
        }
        _ = try await kv.compactRange(request, options: callOptions)
    }

    /// The server's statistics.
    public func statistics() async throws -> Strata_V1_GetStatsResponse {
        try await kv.getStats(Strata_V1_GetStatsRequest(), options: callOptions)
    }

    /// The health service's answer for `service` (empty: the server as a whole).
    public func healthStatus(of service: String = "") async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        try await health.check(.with { $0.service = service }, options: callOptions).status
    }
}

/// A snapshot leased from the server; reads naming it see the database as of its creation,
/// until it is released or its lease (`ttlSeconds`) runs out.
public struct RemoteSnapshot: Sendable, Hashable {
    /// The server's id for it.
    public var id: UInt64
    /// The sequence number it reads at.
    public var sequence: UInt64
    /// The lease granted, in seconds.
    public var ttlSeconds: UInt32

    /// A snapshot handle from its parts (as `createSnapshot` returns them).
    public init(id: UInt64, sequence: UInt64, ttlSeconds: UInt32) {
        self.id = id
        self.sequence = sequence
        self.ttlSeconds = ttlSeconds
    }
}

/// Adds `authorization: Bearer <token>` to every call.
struct BearerTokenClientInterceptor: ClientInterceptor {
    let header: String

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString(header, forKey: "authorization")
        return try await next(request, context)
    }
}

extension ListenAddress {
    /// The address as the gRPC client resolves it.
    var resolvableTarget: any ResolvableTarget {
        if host == "localhost" { return .ipv4(address: "127.0.0.1", port: port) }
        if host.contains(":") { return .ipv6(address: host, port: port) }
        if host.allSatisfy({ $0.isNumber || $0 == "." }) { return .ipv4(address: host, port: port) }
        return .dns(host: host, port: port)
    }
}

extension Data {
    /// The bytes of `value`.
    init(bytes value: some BytesConvertible) {
        self = value.withUnsafeBytes { Data($0) }
    }
}
