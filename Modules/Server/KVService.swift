#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Encoding
import GRPCCore
import Strata

// See Protos/strata/v1/strata.proto for the contract and Docs/SERVER.md for the status codes.

/// `strata.v1.KV`: the database over gRPC. Every call runs on the database's `async` API, so the
/// server's tasks never block a cooperative-pool thread on disk I/O, fsync or a write stall.
///
/// Thread safety: `Sendable`; one instance serves every connection.
struct KVService: Strata_V1_KV.SimpleServiceProtocol {
    let database: Database
    let snapshots: SnapshotLeases
    let configuration: ServerConfiguration
    /// Every write's durability (`ServerConfiguration.durability`, checked at start).
    var durability: Durability { (try? configuration.writeDurability()) ?? .local }

    /// Entries per scan message (a chunk is also cut at `scanChunkBytes`).
    static let scanChunkEntries = 256
    /// Bytes of keys and values per scan message.
    static let scanChunkBytes = 256 << 10

    /// The longest a read waits for its `min_sequence` (a replica catching up).
    static let minSequenceWaitSeconds = 10.0

    /// Waits until the database has applied `sequence` (0: no wait); DEADLINE_EXCEEDED after
    /// `minSequenceWaitSeconds`.
    private func waitForSequence(_ sequence: UInt64) async throws {
        guard sequence > 0, database.latestSequence.rawValue < sequence else { return }
        try await database.waitForSequence(sequence, timeout: KVService.minSequenceWaitSeconds)
    }

    func get(request: Strata_V1_GetRequest, context: ServerContext) async throws -> Strata_V1_GetResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            try checkKey(request.key)
            try await waitForSequence(request.minSequence)
            let keyspace = try keyspace(named: request.keyspace)
            let snapshot = try snapshots.snapshot(request.snapshotID)
            if let snapshot { return .found(try await keyspace.get(request.key, at: snapshot)) }
            return .found(try await keyspace.get(request.key))
        }
    }

    func batchGet(request: Strata_V1_BatchGetRequest, context: ServerContext) async throws -> Strata_V1_BatchGetResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            for key in request.keys { try checkKey(key) }
            try await waitForSequence(request.minSequence)
            let values = try await keyspace(named: request.keyspace).batchGet(request.keys, at: try snapshots.snapshot(request.snapshotID))
            return .with { $0.results = values.map(Strata_V1_GetResponse.found) }
        }
    }

    func put(request: Strata_V1_PutRequest, context: ServerContext) async throws -> Strata_V1_WriteResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            var batch = WriteBatch()
            batch.put(request.key, request.value, in: try keyspace(named: request.keyspace))
            try await database.write(batch, options: writeOptions(request.sync))
            return written()
        }
    }

    func delete(request: Strata_V1_DeleteRequest, context: ServerContext) async throws -> Strata_V1_WriteResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            var batch = WriteBatch()
            batch.delete(request.key, in: try keyspace(named: request.keyspace))
            try await database.write(batch, options: writeOptions(request.sync))
            return written()
        }
    }

    func deleteRange(request: Strata_V1_DeleteRangeRequest, context: ServerContext) async throws -> Strata_V1_WriteResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            var batch = WriteBatch()
            batch.deleteRange(from: request.start, to: request.end, in: try keyspace(named: request.keyspace))
            try await database.write(batch, options: writeOptions(request.sync))
            return written()
        }
    }

    func write(request: Strata_V1_WriteRequest, context: ServerContext) async throws -> Strata_V1_WriteResponse {
        try await mappingErrors {
            try configuration.checkSize(request)
            var batch = WriteBatch()
            for (index, mutation) in request.mutations.enumerated() {
                let keyspace = try keyspace(named: mutation.keyspace)
                switch mutation.kind {
                case .put(let pair)?: batch.put(pair.key, pair.value, in: keyspace)
                case .delete(let key)?: batch.delete(key, in: keyspace)
                case .deleteRange(let range)?: batch.deleteRange(from: range.start, to: range.end, in: keyspace)
                case nil: throw StrataError.invalidArgument("malformed batch: mutation \(index) has no operation")
                }
            }
            try await database.write(batch, options: writeOptions(request.sync))
            return written()
        }
    }

    func scan(request: Strata_V1_ScanRequest, response: RPCWriter<Strata_V1_ScanResponse>, context: ServerContext) async throws {
        try await mappingErrors {
            try configuration.checkSize(request)
            try await waitForSequence(request.minSequence)
            var scan = try makeScan(request)
            scan.chunkEntries = KVService.scanChunkEntries
            var remaining = request.limit == 0 ? UInt64.max : request.limit
            var chunk = Strata_V1_ScanResponse()
            var chunkBytes = 0
            // The async iterator reads a chunk on the database's threads only when asked, and
            // `write` waits while the client is not reading: the range is never buffered here.
            for try await (key, value) in scan {
                // gRPC signals a passed deadline or a client gone away through the context, not
                // by cancelling this task (and a cancelled RPC's writes may simply be dropped).
                if context.cancellation.isCancelled { throw RPCError(code: .cancelled, message: "the scan's RPC was cancelled (deadline or client)") }
                try Task.checkCancellation()
                chunk.entries.append(.with {
                    $0.key = Data(key)
                    if !request.keysOnly { $0.value = Data(value) }
                })
                chunkBytes += key.count + (request.keysOnly ? 0 : value.count)
                remaining -= 1
                if chunk.entries.count >= KVService.scanChunkEntries || chunkBytes >= KVService.scanChunkBytes {
                    try await response.write(chunk)
                    chunk = Strata_V1_ScanResponse()
                    chunkBytes = 0
                }
                if remaining == 0 { break }
            }
            if !chunk.entries.isEmpty { try await response.write(chunk) }
        }
    }

    /// The scan a request describes: its keyspace, bounds (start, end and prefix combined),
    /// snapshot and direction.
    func makeScan(_ request: Strata_V1_ScanRequest) throws -> ScanSequence {
        let (lower, upper) = try KVService.scanBounds(request)
        return try keyspace(named: request.keyspace).scan(from: lower, to: upper, at: try snapshots.snapshot(request.snapshotID), reverse: request.reverse)
    }

    /// A scan request's bounds: start, end and prefix combined (`nil`: unbounded).
    static func scanBounds(_ request: Strata_V1_ScanRequest) throws -> (lower: [UInt8]?, upper: [UInt8]?) {
        var lower: [UInt8]? = request.start.isEmpty ? nil : Array(request.start)
        var upper: [UInt8]? = request.end.isEmpty ? nil : Array(request.end)
        if let lower, let upper, BytewiseComparator.compare(lower, upper) > 0 {
            throw StrataError.invalidArgument("scan start sorts after its end")
        }
        if !request.prefix.isEmpty { (lower, upper) = KeyRange.narrowed(from: lower, to: upper, toPrefix: Array(request.prefix)) }
        return (lower, upper)
    }

    func createSnapshot(request: Strata_V1_CreateSnapshotRequest, context: ServerContext) async throws -> Strata_V1_CreateSnapshotResponse {
        try await mappingErrors {
            let snapshot = try database.snapshot()
            let seconds = request.ttlSeconds == 0 ? configuration.snapshotTTL : min(Double(request.ttlSeconds), configuration.maxSnapshotTTL)
            let id = snapshots.add(snapshot, seconds: seconds)
            return .with {
                $0.snapshotID = id
                $0.sequence = snapshot.sequence.rawValue
                $0.ttlSeconds = UInt32(seconds.rounded(.up))
            }
        }
    }

    func releaseSnapshot(request: Strata_V1_ReleaseSnapshotRequest, context: ServerContext) async throws -> Strata_V1_ReleaseSnapshotResponse {
        try await mappingErrors {
            try snapshots.release(request.snapshotID)
            return Strata_V1_ReleaseSnapshotResponse()
        }
    }

    func flush(request: Strata_V1_FlushRequest, context: ServerContext) async throws -> Strata_V1_FlushResponse {
        try await mappingErrors {
            try await database.flush()
            return Strata_V1_FlushResponse()
        }
    }

    func compactRange(request: Strata_V1_CompactRangeRequest, context: ServerContext) async throws -> Strata_V1_CompactRangeResponse {
        try await mappingErrors {
            try await keyspace(named: request.keyspace).compactRange(
                from: request.start.isEmpty ? nil : Array(request.start), to: request.end.isEmpty ? nil : Array(request.end))
            return Strata_V1_CompactRangeResponse()
        }
    }

    func getStats(request: Strata_V1_GetStatsRequest, context: ServerContext) async throws -> Strata_V1_GetStatsResponse {
        try await mappingErrors {
            let statistics = database.statistics
            return .with {
                $0.values = StatisticsValues.values(of: statistics)
                $0.levels = statistics.levels.enumerated().map { level, figures in
                    .with {
                        $0.level = UInt32(level)
                        $0.files = UInt64(figures.files)
                        $0.bytes = figures.bytes
                        $0.score = figures.score
                    }
                }
                $0.summary = database.property(.levelSummary)
                $0.statistics = database.property(.statistics)
                $0.recovery = database.property(.recovery)
            }
        }
    }

    // MARK: - Helpers

    /// The keyspace a request names (the default one for an empty name): it must exist — the
    /// server never creates one — else NOT_FOUND. The lookup does no I/O.
    func keyspace(named name: String) throws -> Keyspace {
        guard let keyspace = database.existingKeyspace(named: name.isEmpty ? Database.defaultKeyspaceName : name) else {
            throw RPCError(code: .notFound, message: "no keyspace named \"\(name)\" (create it with the Swift API or `strata create-keyspace`)")
        }
        return keyspace
    }

    /// Refuses a key the database could never hold (writes are checked by the engine itself).
    func checkKey(_ key: Data) throws {
        guard !key.isEmpty else { throw StrataError.invalidArgument("keys must not be empty") }
        guard key.count <= database.options.maxKeySize else {
            throw StrataError.invalidArgument("key of \(key.count) bytes exceeds maxKeySize (\(database.options.maxKeySize))")
        }
    }

    func writeOptions(_ sync: Bool) -> WriteOptions {
        WriteOptions(sync: sync ? true : nil, durability: durability)
    }

    func written() -> Strata_V1_WriteResponse {
        .with { $0.sequence = database.latestSequence.rawValue }
    }
}

extension Strata_V1_GetResponse {
    /// A lookup's answer.
    static func found(_ value: [UInt8]?) -> Strata_V1_GetResponse {
        .with {
            $0.found = value != nil
            if let value { $0.value = Data(value) }
        }
    }
}
