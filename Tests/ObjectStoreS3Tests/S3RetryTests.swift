#if canImport(Glibc)
import Glibc
#endif
import Encoding
import ObjectStore
import ObjectStoreS3
import StrataTestSupport
import Testing

/// Retries, against `python/flaky_s3.py`: a loopback server that fails on purpose.
@Suite struct S3RetryTests {
    /// The flaky server, started for one test.
    final class FlakyServer {
        let process: ChildProcess
        let port: Int

        init() throws {
            let script = String(#filePath.dropLast("S3RetryTests.swift".count)) + "python/flaky_s3.py"
            process = try ChildProcess("/usr/bin/env", ["python3", script], environment: pythonEnvironment())
            guard let line = process.readLine(timeout: 30), line.hasPrefix("listening "), let port = Int(line.dropFirst(10)) else {
                throw ChildError("the flaky S3 server did not start")
            }
            self.port = port
        }

        deinit {
            kill(process.pid, SIGKILL)
        }

        func store(maxAttempts: Int = 4, timeoutSeconds: Double = 10) throws -> S3ObjectStore {
            var configuration = try S3Configuration(url: "s3://bucket", credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), endpoint: "http://127.0.0.1:\(port)")
            configuration.retry.maxAttempts = maxAttempts
            configuration.retry.baseDelayMilliseconds = 5
            configuration.requestTimeoutSeconds = timeoutSeconds
            return try S3ObjectStore(configuration)
        }

        /// How many requests reached `key`.
        func count(_ key: String) throws -> Int {
            let answer = try httpGet(port: port, path: "/__count/bucket/\(key)")
            guard answer.status == 200, let value = Int(answer.body) else { throw ChildError("unexpected count answer: \(answer)") }
            return value
        }
    }

    private func failure(_ body: () async throws -> Void) async -> ObjectStoreFailure? {
        do {
            try await body()
        } catch StrataError.objectStore(let failure) {
            return failure
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test func throttlingIsRetriedUntilItPasses() async throws {
        let server = try FlakyServer()
        _ = try await server.store().put("flaky-2-a", [1, 2], condition: .none)
        #expect(try server.count("flaky-2-a") == 3)
    }

    @Test func retriesStopAtTheBudgetWithTheLastError() async throws {
        let server = try FlakyServer()
        let failure = await failure { _ = try await server.store(maxAttempts: 3).put("flaky-10-b", [1], condition: .none) }
        #expect(failure?.kind == .throttled && failure?.code == "SlowDown" && failure?.status == 503)
        #expect(try server.count("flaky-10-b") == 3)
    }

    @Test func otherClientErrorsAreNeverRetried() async throws {
        let server = try FlakyServer()
        let failure = await failure { _ = try await server.store().put("bad-c", [1], condition: .none) }
        #expect(failure?.kind == .rejected && failure?.code == "InvalidArgument" && failure?.requestID == "req-400")
        #expect(failure?.message == "this key is always refused")
        #expect(try server.count("bad-c") == 1)
    }

    @Test func droppedConnectionsAreRetried() async throws {
        let server = try FlakyServer()
        _ = try await server.store().put("drop-1-d", [4, 5], condition: .none)
        #expect(try server.count("drop-1-d") == 2)
    }

    @Test func aCreateWhoseResponseWasLostSucceedsOnRetryInsteadOfReportingAConflict() async throws {
        let server = try FlakyServer()
        let store = try server.store()
        _ = try await store.put("lost-e", [7, 7, 7], condition: .ifAbsent)
        #expect(try await store.get("lost-e", range: nil) == [7, 7, 7])
        // Someone else's bytes under the key are still a conflict.
        let failure = await failure { _ = try await store.put("lost-e", [8], condition: .ifAbsent) }
        #expect(failure?.kind == .preconditionFailed)
    }

    @Test func aSlowAnswerTimesOutAsUnavailable() async throws {
        let server = try FlakyServer()
        let failure = await failure { _ = try await server.store(maxAttempts: 2, timeoutSeconds: 0.5).head("slow-f") }
        #expect(failure?.kind == .unavailable)
        #expect(try server.count("slow-f") == 2)
    }
}
