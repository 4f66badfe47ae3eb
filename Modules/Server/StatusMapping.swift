import Engine
import GRPCCore

// See Docs/SERVER.md ("Status codes").

extension RPCError {
    /// The status a Strata error is reported with, carrying the engine's message.
    init(_ error: StrataError) {
        let code: RPCError.Code
        switch error {
        case .invalidArgument: code = .invalidArgument
        case .transactionConflict, .lockTimeout, .deadlock: code = .aborted
        case .readOnly, .fenced: code = .failedPrecondition
        case .closed, .locked: code = .unavailable
        case .corruption, .incompatible: code = .dataLoss
        case .io: code = .internalError
        case .timedOut: code = .deadlineExceeded
        case .constraintViolation: code = .alreadyExists
        case .objectStore(let failure):
            switch failure.kind {
            case .throttled: code = .resourceExhausted
            case .unavailable: code = .unavailable
            case .denied: code = .permissionDenied
            case .notFound: code = .notFound
            case .preconditionFailed: code = .failedPrecondition
            case .rejected, .invalidResponse: code = .internalError
            }
        }
        self.init(code: code, message: error.description)
    }

    /// `error` as the status a client sees: Strata errors mapped, cancellation as CANCELLED,
    /// RPC errors as they are, anything else INTERNAL.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as StrataError: return RPCError(error)
        case is CancellationError: return RPCError(code: .cancelled, message: "the call was cancelled")
        default: return RPCError(code: .internalError, message: "\(error)")
        }
    }
}

/// Runs `body`, reporting any error as the matching gRPC status.
func mappingErrors<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch {
        throw RPCError.from(error)
    }
}
