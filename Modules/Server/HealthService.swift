import GRPCCore
import Strata
import Synchronization

/// `grpc.health.v1.Health`: SERVING while the database takes writes; NOT_SERVING once it turned
/// read-only after a background failure, or while the server shuts down. A replica is SERVING
/// while it follows its store — NOT_SERVING once it is stale, or lags more than `maxReplicaLag`
/// seconds when that is set. Answers without authentication. The overall status is asked with
/// an empty service name; `strata.v1.KV` is the one named service.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let database: Database
    let shuttingDown: ShutdownFlag
    var maxReplicaLag: Double? = nil

    static let serviceName = "strata.v1.KV"

    /// The current status of `service`, or `nil` for a service this server does not have.
    func status(of service: String) -> Grpc_Health_V1_HealthCheckResponse.ServingStatus? {
        guard service.isEmpty || service == HealthService.serviceName else { return nil }
        if shuttingDown.isSet { return .notServing }
        if let replica = database.replicaStatus {
            if replica.stale != nil { return .notServing }
            if let maxReplicaLag, replica.secondsBehind > maxReplicaLag { return .notServing }
            return .serving
        }
        return database.refusesWrites ? .notServing : .serving
    }

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \(request.service)")
        }
        return .with { $0.status = status }
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus? = nil
        while !Task.isCancelled {
            let status = status(of: request.service) ?? .serviceUnknown
            if status != last {
                try await response.write(.with { $0.status = status })
                last = status
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
    }
}

/// Set once the server begins to shut down (health answers NOT_SERVING from then on).
final class ShutdownFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Whether shutdown has begun.
    var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Marks shutdown as begun.
    func set() { flag.store(true, ordering: .releasing) }
}
