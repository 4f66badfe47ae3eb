import Encoding
import GRPCCore

/// Counts every call by method and final status code and records its latency — from arrival
/// until the handler has written its last message, so a streamed scan is timed whole. It runs
/// first, so calls the authentication refuses are counted too.
struct MetricsInterceptor: ServerInterceptor {
    let metrics: ServerMetrics

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let start = WallClock.monotonicNanoseconds()
        let method = "\(context.descriptor.service.fullyQualifiedService)/\(context.descriptor.method)"
        let metrics = self.metrics
        let record: @Sendable (RPCError.Code?) -> Void = { code in
            metrics.finished(method: method, code: code.map(MetricsInterceptor.name) ?? "OK", nanoseconds: WallClock.monotonicNanoseconds() - start)
        }
        let response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            record(RPCError.from(error).code)
            throw error
        }
        switch response.accepted {
        case .failure(let error):
            record(error.code)
            return response
        case .success(var contents):
            // The status is known only once the producer (the handler's body) has finished.
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    let trailers = try await producer(writer)
                    record(nil)
                    return trailers
                } catch {
                    // A client that went away makes the handler's writes fail: that is a cancellation.
                    record(context.cancellation.isCancelled ? .cancelled : RPCError.from(error).code)
                    throw error
                }
            }
            return StreamingServerResponse(accepted: .success(contents))
        }
    }

    /// The canonical upper-case name of a status code (as gRPC's documentation spells it).
    static func name(_ code: RPCError.Code) -> String {
        switch code {
        case .cancelled: return "CANCELLED"
        case .unknown: return "UNKNOWN"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internalError: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        default: return "UNKNOWN"
        }
    }
}
