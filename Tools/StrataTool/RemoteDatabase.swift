#if canImport(Dispatch)
import Dispatch
#endif
import Engine
import GRPCCore
import Server
import Synchronization

// `strata --server HOST:PORT …`: the data commands run against strata-server through the Swift
// client, printing the same output and exiting with the same codes as on a local database.

extension GlobalOptions {
    /// How to reach the server named by `--server` (`nil`: work on a local database).
    func remoteConfiguration() throws -> StrataClient.Configuration? {
        guard let server else {
            if tokenFile != nil || tls || tlsCA != nil { throw ToolFailure(.usage, "--token-file, --tls and --tls-ca need --server") }
            return nil
        }
        var configuration = StrataClient.Configuration(address: server)
        configuration.token = try tokenFile.map { try BearerToken.load(file: $0) }
        configuration.tls = tls || tlsCA != nil
        configuration.tlsTrustRootsFile = tlsCA
        return configuration
    }

    /// Runs `body` with a client of the `--server` server, waiting for it on this (non-pool)
    /// thread; a gRPC status becomes the exit code the local command would have used.
    @discardableResult
    func withRemote<Result: Sendable>(
        _ configuration: StrataClient.Configuration, _ body: @escaping @Sendable (StrataClient) async throws -> Result
    ) throws -> Result {
        let outcome = Mutex<Swift.Result<Result, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result = await Swift.Result(catching: { try await StrataClient.withClient(configuration, body) })
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error as RPCError): throw ToolFailure(ToolExit.code(for: error), "\(server ?? ""): \(error.message) (\(error.code))")
        case .failure(let error): throw error
        }
    }
}

extension ToolExit {
    /// The exit code for a status from the server: what the local command exits with for the
    /// engine error behind it.
    static func code(for error: RPCError) -> ToolExit {
        switch error.code {
        case .invalidArgument, .outOfRange, .resourceExhausted: return .usage
        case .notFound: return .notFound  // a keyspace the server does not have, as locally
        case .dataLoss: return .corruption
        default: return .io
        }
    }
}

extension Swift.Result where Failure == any Error {
    /// Captures what an async throwing closure returns or throws.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
