#if canImport(Glibc)
import Glibc
#endif
import Engine
import GRPCCore
import Server
import StrataTestSupport
import Synchronization
import VFS

/// A server running in this process on a free loopback port, over a temporary database.
struct RunningServer: Sendable {
    let server: StrataServer
    let task: Task<Void, any Error>
    let port: Int
    let directory: TemporaryDirectory

    /// `127.0.0.1:PORT`.
    var address: String { "127.0.0.1:\(port)" }

    /// A client configuration for this server (with `token` when given).
    func client(token: BearerToken? = nil) -> StrataClient.Configuration {
        StrataClient.Configuration(address: address, token: token)
    }

    /// Shuts the server down and waits until it has closed its database.
    func stop() async throws {
        server.beginShutdown()
        try await task.value
    }
}

/// Starts a server (`configure` adjusts its settings), runs `body`, and stops it.
func withServer<Result: Sendable>(
    _ configure: (inout ServerConfiguration) throws -> Void = { _ in },
    _ body: (RunningServer) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory(prefix: "strata-server")
    defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
    var configuration = ServerConfiguration(db: directory.path + "/db")
    configuration.listen = "127.0.0.1:0"
    configuration.gracePeriod = 5
    try configure(&configuration)
    let server = try StrataServer(configuration: configuration)
    let task = Task { try await server.run() }
    let port = try await server.grpcPort
    let running = RunningServer(server: server, task: task, port: port, directory: directory)
    do {
        let result = try await body(running)
        try await running.stop()
        return result
    } catch {
        try? await running.stop()
        throw error
    }
}

/// Runs `body` with a client of `server`.
func withClient<Result: Sendable>(_ server: RunningServer, token: BearerToken? = nil, _ body: (StrataClient) async throws -> Result) async throws -> Result {
    try await StrataClient.withClient(server.client(token: token), body)
}

/// The status code `body` fails with (`nil` when it succeeds).
func statusCode(_ body: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// Writes `text` to a new file in `directory` and returns its path.
func writeFile(_ directory: TemporaryDirectory, _ name: String, _ text: String) throws -> String {
    let path = directory.path + "/" + name
    try PosixFileSystem().writeFile(path, Array(text.utf8), sync: false)
    return path
}

/// A token for tests.
let testToken = "s3cret-token-for-tests-0123456789"

/// A value shared between tasks and escaping closures (a `Mutex` cannot be captured by them).
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
    var current: Value { value.withLock { $0 } }
}
