#if canImport(Glibc)
import Glibc
#endif
import Engine
import GRPCCore
import Server
import StrataTestSupport
import Synchronization
import Testing
import VFS

/// `strata-server` as a process: started, driven by other programs, stopped with a signal.
@Suite struct ServerProcessTests {
    /// A started `strata-server` and the ports it announced.
    struct ServerProcess {
        let child: ChildProcess
        let port: Int
        /// The RESP front door's port (with `resp: true`), else 0.
        let respPort: Int
        var address: String { "127.0.0.1:\(port)" }

        /// Starts the server with `arguments` on free loopback ports (also a RESP listener when
        /// `resp`) and waits until it announces them.
        init(_ arguments: [String], resp: Bool = false) throws {
            let extra = ["--listen", "127.0.0.1:0", "--log-level", "warning"] + (resp ? ["--resp-listen", "127.0.0.1:0"] : [])
            let child = try ChildProcess(Products.path("strata-server"), arguments + extra)
            self.child = child
            func announced(_ prefix: String) -> Int? {
                while let line = child.readLine(timeout: 60) {
                    if line.hasPrefix(prefix), let colon = line.lastIndex(of: ":") { return Int(line[line.index(after: colon)...]) }
                }
                return nil
            }
            guard let port = announced("strata-server: listening on"), let respPort = resp ? announced("strata-server: resp on") : 0 else {
                let finished = child.finish(timeout: 5)
                throw ChildError("strata-server did not start: \(finished.output) \(finished.errors)")
            }
            self.port = port
            self.respPort = respPort
        }

        /// Sends `signal` and waits for the exit.
        func stop(_ signal: Int32 = SIGTERM) -> (status: Int32, output: String, errors: String) {
            kill(child.pid, signal)
            return child.finish(timeout: 60)
        }
    }

    @Test func sigtermUnderLoadKeepsEveryAcknowledgedWriteAndExitsZero() async throws {
        let directory = try TemporaryDirectory(prefix: "strata-sigterm")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let db = directory.path + "/db"
        let server = try ServerProcess(["--db", db, "--write-buffer-size", "262144"])
        let address = server.address
        let acknowledged = Shared<[String]>([])
        let stopped = Shared(false)
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        // Each writer runs until the server goes away; only answered writes count.
                        try? await StrataClient.withClient(StrataClient.Configuration(address: address)) { client in
                            var index = 0
                            while !stopped.current {
                                let key = "w\(writer)-\(index)"
                                do {
                                    try await client.put(key, String(repeating: "v", count: 100) + key, sync: index % 10 == 0)
                                } catch {
                                    return
                                }
                                acknowledged.withLock { $0.append(key) }
                                index += 1
                            }
                        }
                    }
                }
            }
        }
        // Let the load build up, then SIGTERM in the middle of it.
        while acknowledged.withLock({ $0.count }) < 2000 { try await Task.sleep(for: .milliseconds(20)) }
        let result = server.stop()
        stopped.withLock { $0 = true }
        await writers.value
        #expect(result.status == 0, "exit \(result.status): \(result.errors)")
        let keys = acknowledged.withLock { $0 }
        #expect(keys.count >= 2000)
        // Reopen: every acknowledged write is there.
        let database = try await Database.open(at: db)
        defer { try? database.close() }
        var missing = 0
        for key in keys where try await database.get(key) != Array((String(repeating: "v", count: 100) + key).utf8) { missing += 1 }
        #expect(missing == 0, "\(missing) of \(keys.count) acknowledged writes are missing")
    }

    @Test func sigintAlsoShutsDownCleanly() throws {
        let directory = try TemporaryDirectory(prefix: "strata-sigint")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let server = try ServerProcess(["--db", directory.path + "/db"])
        let result = server.stop(SIGINT)
        #expect(result.status == 0, "\(result.errors)")
        // The lock was released: the database opens.
        let database = try Database.open(at: directory.path + "/db")
        try database.close()
    }

    @Test func badSettingsExitWithAReason() throws {
        let directory = try TemporaryDirectory(prefix: "strata-settings")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let open = try runTool("strata-server", ["--db", directory.path + "/db", "--listen", "0.0.0.0:0"])
        #expect(open.status == 2)
        #expect(open.errors.contains("without authentication"))
        let config = try writeFile(directory, "server.json", #"{"db": "\#(directory.path)/db", "listen": "127.0.0.1:0", "compression": "brotli"}"#)
        let badConfig = try runTool("strata-server", ["--config", config])
        #expect(badConfig.status == 2)
        #expect(badConfig.errors.contains("brotli"))
        let notJSON = try writeFile(directory, "broken.json", "{db: ")
        let broken = try runTool("strata-server", ["--config", notJSON])
        #expect(broken.status == 2)
        #expect(broken.errors.contains("broken.json"))
        // A second server on a locked database.
        let first = try ServerProcess(["--db", directory.path + "/db"])
        let second = try runTool("strata-server", ["--db", directory.path + "/db", "--listen", "127.0.0.1:0"])
        #expect(second.status == 4)
        #expect(second.errors.contains("lock"))
        #expect(first.stop().status == 0)
    }

    @Test func aConfigurationFileSetsTheServerUp() throws {
        let directory = try TemporaryDirectory(prefix: "strata-config")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let tokenFile = try writeFile(directory, "token", testToken)
        let config = try writeFile(directory, "server.json", """
            {"db": "\(directory.path)/db", "authTokenFile": "\(tokenFile)", "metricsListen": "127.0.0.1:0", "maxConnections": 8}
            """)
        let server = try ServerProcess(["--config", config])
        let metricsLine = server.child.readLine(timeout: 30) ?? ""
        #expect(metricsLine.hasPrefix("strata-server: metrics on 127.0.0.1:"))
        // The token from the file is required.
        let refused = try runTool("strata", ["--server", server.address, "put", "k", "v"])
        #expect(refused.status == 4)
        #expect(refused.errors.contains("unauthenticated"))
        let accepted = try runTool("strata", ["--server", server.address, "--token-file", tokenFile, "put", "k", "v"])
        #expect(accepted.status == 0, "\(accepted.errors)")
        #expect(server.stop().status == 0)
    }

    @Test func theCLIAsAClientPrintsWhatItPrintsLocally() throws {
        let directory = try TemporaryDirectory(prefix: "strata-cli-remote")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let local = directory.path + "/local"
        let server = try ServerProcess(["--db", directory.path + "/remote"])
        defer { _ = server.stop() }
        let scripts: [[String]] = [
            ["put", "apple", "red"], ["put", "banana", "yellow"], ["put", "cherry", "dark\tred"], ["put", "--hex", "0x00ff", "0x0102"],
            ["put", "date", "brown"], ["delete", "banana"], ["delete-range", "cherry", "date"],
            ["get", "apple"], ["get", "banana"], ["get", "--hex", "0x00ff"], ["scan"], ["scan", "--reverse", "--limit", "2"],
            ["scan", "--prefix", "a"], ["scan", "--from", "b", "--keys-only"], ["scan", "--hex"],
            ["scan", "--from", "b", "--prefix", "a"], ["scan", "--from", "d", "--to", "a"],
            ["delete-range", "z", "a"], ["get", ""],
        ]
        for script in scripts {
            let remote = try runTool("strata", ["--server", server.address] + script)
            let localRun = try runTool("strata", ["--db", local] + script)
            #expect(remote.status == localRun.status, "\(script): exit \(remote.status) remotely, \(localRun.status) locally: \(remote.errors)")
            #expect(remote.output == localRun.output, "\(script)")
        }
        let stats = try runTool("strata", ["--server", server.address, "stats"])
        #expect(stats.status == 0)
        #expect(stats.output.contains("Level"))
        // Commands that need the files refuse --server with a usage error.
        let compact = try runTool("strata", ["--server", server.address, "compact"])
        #expect(compact.status == 2)
        // An unreachable server is an I/O failure (exit 4).
        let unreachable = try runTool("strata", ["--server", "127.0.0.1:1", "get", "apple"])
        #expect(unreachable.status == 4)
    }

    @Test func anIndependentPythonClientAgreesWithAModel() throws {
        let script = String(#filePath.dropLast("ServerProcessTests.swift".count)) + "python/kv_model_check.py"
        let probe = try runPython(["-c", "import grpc, grpc_tools"])
        try #require(probe.status == 0, "Python grpcio and grpcio-tools are missing: run `make deps` (\(probe.errors))")
        let directory = try TemporaryDirectory(prefix: "strata-python")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let tokenFile = try writeFile(directory, "token", testToken)
        let server = try ServerProcess(["--db", directory.path + "/db", "--auth-token-file", tokenFile])
        let check = try runPython([script, "--port", String(server.port), "--ops", "5000", "--seed", "7", "--token", testToken])
        #expect(check.status == 0, "\(check.output)\(check.errors)")
        print(check.output, check.errors)
        #expect(check.output.contains("ok: 5000 operations"))
        #expect(server.stop().status == 0)
    }

    /// Runs `python3` (found on PATH) with `arguments` to completion.
    func runPython(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try ChildProcess("/usr/bin/env", ["python3"] + arguments, environment: pythonEnvironment()).finish(timeout: 300)
    }
}
