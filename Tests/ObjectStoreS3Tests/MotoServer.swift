#if canImport(Glibc)
import Glibc
#endif
import ObjectStore
import ObjectStoreS3
import StrataTestSupport

/// moto's S3 server (PyPI `moto[server]`, installed by `make deps`) on a free 127.0.0.1 port,
/// started for one test and stopped at its end — through `moto_atomic_server.py`, which makes
/// moto's conditional writes atomic as S3's are (moto checks and stores without a lock).
final class MotoServer {
    let port: Int
    private let process: ChildProcess

    /// The wrapper script beside this file.
    static let script: String = {
        let file = "\(#filePath)"
        return String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)]) + "/moto_atomic_server.py"
    }()

    /// The endpoint URL.
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts the server and waits until it accepts connections.
    ///
    /// - Parameter authenticating: `true` starts moto with request authentication on
    ///   (`INITIAL_NO_AUTH_ACTION_COUNT=0`), so unknown access keys are refused.
    init(authenticating: Bool = false) throws {
        var lastError: ChildError?
        // A free port can be taken between finding and binding it: try a few.
        for _ in 0..<5 {
            let port = try Self.freePort()
            var environment = pythonEnvironment()
            if authenticating { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "0" }
            let process = try ChildProcess("/bin/sh", ["-c", "exec python3 '\(Self.script)' 127.0.0.1 \(port) >/dev/null 2>&1"], environment: environment)
            if Self.waitUntilListening(port: port, process: process, seconds: 30) {
                self.port = port
                self.process = process
                return
            }
            lastError = ChildError("moto_server did not start on port \(port); run `make deps` (it installs moto[server] with pip)")
        }
        throw lastError!
    }

    deinit {
        // SIGKILL: a child started from a test thread may inherit a mask that blocks SIGTERM.
        kill(process.pid, SIGKILL)
        _ = process.finish(timeout: 10)
    }

    /// A store on a new bucket of this server, with test credentials (moto accepts any unless
    /// authenticating) and a retry policy sized for tests.
    func makeStore(bucket: String, prefix: String = "", credentials: S3Credentials = S3Credentials(accessKeyID: "testing", secretAccessKey: "testing"),
                   createBucket: Bool = true) async throws -> S3ObjectStore {
        var configuration = try S3Configuration(url: "s3://\(bucket)/\(prefix)", credentials: credentials, endpoint: endpoint)
        configuration.retry.maxAttempts = 3
        configuration.retry.baseDelayMilliseconds = 10
        configuration.requestTimeoutSeconds = 20
        let store = try S3ObjectStore(configuration)
        if createBucket { try await store.createBucket() }
        return store
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ChildError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ChildError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitUntilListening(port: Int, process: ChildProcess, seconds: Double) -> Bool {
        for _ in 0..<Int(seconds * 10) {
            var status: Int32 = 0
            if waitpid(process.pid, &status, WNOHANG) == process.pid { return false }
            if canConnect(port: port) { return true }
            usleep(100_000)
        }
        return false
    }

    static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
