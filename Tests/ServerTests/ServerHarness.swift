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

/// `GET http://127.0.0.1:port/path` with optional headers, over a plain socket: (status, body).
func httpGet(port: Int, path: String, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw StrataError.io(path: "socket", errno: errno, operation: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw StrataError.io(path: "127.0.0.1:\(port)", errno: errno, operation: "connect") }
    var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw StrataError.io(path: "socket", errno: errno, operation: "write") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    guard let headerEnd = (0..<max(response.count - 3, 0)).first(where: { Array(response[$0..<$0 + 4]) == separator }) else {
        throw StrataError.invalidArgument("malformed HTTP response: \(String(decoding: response, as: UTF8.self))")
    }
    let head = String(decoding: response[..<headerEnd], as: UTF8.self)
    let statusLine = head.split(separator: "\r\n").first ?? ""
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, String(decoding: response[(headerEnd + 4)...], as: UTF8.self))
}

/// A value shared between tasks and escaping closures (a `Mutex` cannot be captured by them).
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
    var current: Value { value.withLock { $0 } }
}
