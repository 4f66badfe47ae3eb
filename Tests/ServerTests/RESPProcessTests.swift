#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Engine
import Server
import StrataTestSupport
import Testing
import VFS

/// The RESP front door driven by clients nobody here wrote: `redis-cli`, `redis-benchmark`
/// (Debian's redis-tools) and redis-py — with `strata-server` as a process.
@Suite(.serialized) struct RESPProcessTests {
    static let python = String(#filePath.dropLast("RESPProcessTests.swift".count)) + "python/resp_check.py"
    static let sessionDirectory = String(#filePath.dropLast("RESPProcessTests.swift".count)) + "resp/"
    /// The manual clock's start (Unix ms), which the scripted session's expected output assumes.
    static let clockStart = "1700000000000"

    /// A started `strata-server` with a RESP listener (`port` is the RESP one).
    struct RESPServer {
        let process: ServerProcessTests.ServerProcess
        var port: Int { process.respPort }

        init(_ arguments: [String]) throws { process = try ServerProcessTests.ServerProcess(arguments, resp: true) }

        func stop(_ signal: Int32 = SIGTERM) -> (status: Int32, output: String, errors: String) { process.stop(signal) }
    }

    static func requireTools() throws {
        let cli = try ChildProcess("/usr/bin/env", ["redis-cli", "--version"]).finish(timeout: 30)
        try #require(cli.status == 0, "redis-cli is missing: run `make deps` (it installs redis-tools)")
        let py = try ChildProcess("/usr/bin/env", ["python3", "-c", "import redis"], environment: pythonEnvironment()).finish(timeout: 30)
        try #require(py.status == 0, "redis-py is missing: run `make deps` (\(py.errors))")
    }

    func python(_ arguments: [String], timeout: Double = 300) throws -> (status: Int32, output: String, errors: String) {
        try ChildProcess("/usr/bin/env", ["python3", Self.python] + arguments, environment: pythonEnvironment()).finish(timeout: timeout)
    }

    /// A shell command (for redirections), to completion.
    func shell(_ command: String, timeout: Double = 120) throws -> (status: Int32, output: String, errors: String) {
        try ChildProcess("/bin/sh", ["-c", command]).finish(timeout: timeout)
    }

    @Test func aScriptedRedisCliSessionGetsTheExpectedReplies() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-cli")
        defer { withExtendedLifetime(directory) {} }
        let server = try RESPServer(["--db", directory.path + "/db", "--resp-manual-clock", Self.clockStart])
        let session = try shell("redis-cli -p \(server.port) < '\(Self.sessionDirectory)session.redis'")
        #expect(session.status == 0, "\(session.errors)")
        let expected = try PosixFileSystem().readFile(Self.sessionDirectory + "session.expected")
        let got = Array(session.output.utf8)
        if got != expected {
            // Show the first line that differs.
            let gotLines = session.output.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let index = (0..<min(gotLines.count, expectedLines.count)).first { gotLines[$0] != expectedLines[$0] } ?? min(gotLines.count, expectedLines.count)
            Issue.record("redis-cli output differs at line \(index + 1): got \(index < gotLines.count ? String(gotLines[index]).debugDescription : "<end>"), expected \(index < expectedLines.count ? String(expectedLines[index]).debugDescription : "<end>")")
        }
        #expect(server.stop().status == 0)
    }

    @Test func redisCliScanWalksEveryKeyWhateverItsLength() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-scan")
        defer { withExtendedLifetime(directory) {} }
        let server = try RESPServer(["--db", directory.path + "/db"])
        let script = (0..<50).map { "SET \($0 % 2 == 0 ? "k\($0)" : "a-key-longer-than-six-bytes:\($0)") v\n" }.joined()
        try PosixFileSystem().writeFile(directory.path + "/script", Array(script.utf8), sync: false)
        _ = try shell("redis-cli -p \(server.port) < '\(directory.path)/script'")
        // redis-cli parses cursors as 64-bit integers; it sees every key, in SCAN's batches of 10.
        let scan = try shell("redis-cli -p \(server.port) --scan | sort -u | wc -l")
        #expect(scan.output.filter { !$0.isWhitespace } == "50", "\(scan.output)\(scan.errors)")
        #expect(server.stop().status == 0)
    }

    @Test func beyondLoopbackTheTokenIsRequiredAndClientsMustAuthenticate() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-auth")
        defer { withExtendedLifetime(directory) {} }
        let db = directory.path + "/db"
        let refused = try runTool("strata-server", ["--db", db, "--listen", "127.0.0.1:0", "--resp-listen", "0.0.0.0:0"])
        #expect(refused.status == 2)
        #expect(refused.errors.contains("without authentication"))
        let badMode = try runTool("strata-server", ["--db", db, "--listen", "127.0.0.1:0", "--resp-listen", "127.0.0.1:0", "--resp-fsync", "sometimes"])
        #expect(badMode.status == 2 && badMode.errors.contains("respFsync"))
        let tokenFile = try writeFile(directory, "token", testToken + "\n")
        let server = try RESPServer(["--db", db, "--auth-token-file", tokenFile])
        let script = "PING\nGET k\nAUTH wrong-token\nAUTH default \(testToken)x\nAUTH \(testToken)\nSET k v\nGET k\n"
        try PosixFileSystem().writeFile(directory.path + "/script", Array(script.utf8), sync: false)
        let session = try shell("redis-cli -p \(server.port) < '\(directory.path)/script'")
        #expect(session.output.split(separator: "\n").map(String.init) == [
            "NOAUTH Authentication required.", "NOAUTH Authentication required.",
            "WRONGPASS invalid username-password pair or user is disabled.",
            "WRONGPASS invalid username-password pair or user is disabled.",
            "OK", "OK", "v",
        ], "\(session.output)")
        // HELLO with AUTH authenticates and switches protocol in one step.
        let hello = try shell("redis-cli -p \(server.port) HELLO 3 AUTH default \(testToken)")
        #expect(hello.output.contains("proto") && hello.output.contains("3"), "\(hello.output)")
        #expect(server.stop().status == 0)
    }

    @Test func redisPyAgreesWithADictModel() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-model")
        defer { withExtendedLifetime(directory) {} }
        // A small write buffer: flushes and compactions (with the expiry filter) run under the check.
        let server = try RESPServer(["--db", directory.path + "/db", "--resp-manual-clock", Self.clockStart, "--write-buffer-size", "65536"])
        for seed in [11, 12] {
            let check = try python(["model", "--port", String(server.port), "--ops", "5000", "--seed", String(seed)])
            #expect(check.status == 0, "seed \(seed): \(check.output)\(check.errors)")
            #expect(check.output.contains("ok: "))
        }
        #expect(server.stop().status == 0)
    }

    @Test func concurrentIncrsAreExactAndWatchedTransfersKeepTheTotal() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-incr")
        defer { withExtendedLifetime(directory) {} }
        let server = try RESPServer(["--db", directory.path + "/db"])
        let incr = try python(["incr", "--port", String(server.port), "--clients", "8", "--count", "10000"])
        #expect(incr.status == 0, "\(incr.output)\(incr.errors)")
        print(incr.output)
        let transfer = try python(["transfer", "--port", String(server.port), "--clients", "8", "--transfers", "250"])
        #expect(transfer.status == 0, "\(transfer.output)\(transfer.errors)")
        print(transfer.output)
        #expect(server.stop().status == 0)
    }

    @Test func randomAndTruncatedFramesNeverTakeTheServerDown() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-fuzz")
        defer { withExtendedLifetime(directory) {} }
        let server = try RESPServer(["--db", directory.path + "/db"])
        let fuzz = try python(["fuzz", "--port", String(server.port), "--frames", "3000", "--seed", "5"])
        #expect(fuzz.status == 0, "\(fuzz.output)\(fuzz.errors)")
        print(fuzz.output)
        // Still serving, and a clean exit.
        let ping = try shell("redis-cli -p \(server.port) PING")
        #expect(ping.output == "PONG\n")
        #expect(server.stop().status == 0)
    }

    @Test func everySetAcknowledgedUnderRespFsyncAlwaysSurvivesSigkill() throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-kill")
        defer { withExtendedLifetime(directory) {} }
        let db = directory.path + "/db"
        let acked = directory.path + "/acked"
        for round in 0..<2 {
            let server = try RESPServer(["--db", db, "--resp-fsync", "always", "--write-buffer-size", "1048576"])
            // redis-benchmark's SET load alongside a writer that records what was acknowledged.
            let load = try ChildProcess("/usr/bin/env", ["redis-benchmark", "-p", String(server.port), "-t", "set", "-n", "100000000", "-r", "1000000", "-c", "20", "-P", "4", "-q"])
            let writer = try ChildProcess("/usr/bin/env", ["python3", Self.python, "acked", "--port", String(server.port), "--file", acked], environment: pythonEnvironment())
            usleep(useconds_t(1_500_000 + round * 700_000))
            _ = server.stop(SIGKILL)
            _ = writer.finish(timeout: 60)
            kill(load.pid, SIGKILL)
            _ = load.finish(timeout: 30)
        }
        let restarted = try RESPServer(["--db", db])
        let verify = try python(["verify", "--port", String(restarted.port), "--file", acked])
        #expect(verify.status == 0, "\(verify.output)\(verify.errors)")
        print(verify.output)
        #expect(verify.output.contains("ok: ") && !verify.output.contains("ok: 0 "))
        #expect(restarted.stop().status == 0)
    }

    /// Expired values give their space back: after the clock passes their expiry, a compaction
    /// leaves no entry of them (the server installs the expiry compaction filter).
    @Test func compactionDropsExpiredRespValues() async throws {
        try Self.requireTools()
        let directory = try TemporaryDirectory(prefix: "strata-resp-expiry")
        defer { withExtendedLifetime(directory) {} }
        var configuration = ServerConfiguration(db: directory.path + "/db")
        configuration.listen = "127.0.0.1:0"
        configuration.respListen = "127.0.0.1:0"
        configuration.respManualClock = 1_700_000_000_000
        configuration.metricsListen = "127.0.0.1:0"
        let settings = configuration
        let server = try await Threads.run { try StrataServer(configuration: settings) }
        let running = Task { try await server.run() }
        let port = try #require(await server.respPort)
        var script = ""
        for index in 0..<200 { script += "SET short\(index) value PX 5000\nSET long\(index) value EX 3600\n" }
        script += "STRATA.CLOCK ADVANCE 10000\nDBSIZE\n"
        let directoryPath = directory.path
        try PosixFileSystem().writeFile(directoryPath + "/script", Array(script.utf8), sync: false)
        let session = try shell("redis-cli -p \(port) < '\(directoryPath)/script' | tail -1")
        #expect(session.output == "200\n")  // the short-lived keys are already invisible
        let database = server.database
        func storedEntries() async throws -> Int {
            try await Threads.run {
                let cursor = try database.cursor(ReadOptions(prefix: [UInt8]([0x00, 0x52])))
                try cursor.seekToFirst()
                var count = 0
                while cursor.isValid {
                    count += 1
                    try cursor.next()
                }
                return count
            }
        }
        #expect(try await storedEntries() == 400)  // still stored, hidden by their expiry
        try await database.flush()
        try await database.compactRange()
        #expect(try await storedEntries() == 200)  // compaction removed the expired ones
        // /metrics counts the RESP commands and connections.
        let metricsPort = try #require(await server.metricsPort)
        let scrape = try await Threads.run { try httpGet(port: metricsPort, path: "/metrics") }
        let commands = scrape.body.split(separator: "\n").first { $0.hasPrefix("strata_resp_commands_total ") }
        #expect(commands.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 402 } == true, "\(commands ?? "no strata_resp_commands_total")")
        #expect(scrape.body.contains("strata_resp_connections_accepted_total 1"))
        server.beginShutdown()
        try await running.value
    }
}
