import GRPCCore

/// Refuses every call without the right bearer token with UNAUTHENTICATED, except the health
/// service's (load balancers and orchestrators probe it without credentials).
struct AuthInterceptor: ServerInterceptor {
    let token: BearerToken
    let metrics: ServerMetrics

    /// The service that answers without a token.
    static let exemptService = "grpc.health.v1.Health"

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if context.descriptor.service.fullyQualifiedService == AuthInterceptor.exemptService {
            return try await next(request, context)
        }
        let headers = Array(request.metadata[stringValues: "authorization"])
        guard headers.count == 1, token.accepts(header: headers[0]) else {
            metrics.unauthenticated()
            let reason = headers.isEmpty ? "missing" : "wrong"
            return StreamingServerResponse(error: RPCError(code: .unauthenticated, message: "\(reason) bearer token (send authorization: Bearer <token>)"))
        }
        return try await next(request, context)
    }
}
