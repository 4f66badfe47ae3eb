#if canImport(Glibc)
import Glibc
#endif

/// A replica process killed with SIGKILL and restarted, black-box, shared by the tests against
/// each kind of store: a `strata exec --durability store` primary keeps incrementing a counter;
/// a replica process reads it, is killed at a random moment, and restarts, five times.
///
/// Checked: what the replica shows never goes back (also across its restarts) and never runs
/// ahead of the primary, and restarted once more it reaches the primary's last write.
public struct ReplicaRestartCheck: Sendable {
    /// The store's URL (`file://…` or `s3://…`).
    public var store: String
    /// Arguments every `strata` run gets besides `--object-store` (an endpoint…).
    public var storeArguments: [String] = []
    /// Environment of every `strata` run (credentials).
    public var environment: [String: String] = [:]
    /// Where the database directories go.
    public var scratch: String

    /// A check over `store`, with directories under `scratch`.
    public init(store: String, scratch: String) {
        self.store = store
        self.scratch = scratch
    }

    /// Runs the check; returns each broken promise, in words (empty when all held).
    public func run() throws -> [String] {
        var failures: [String] = []
        let primary = try ChildProcess(Products.path("strata"), [
            "exec", "--db", scratch + "/primary", "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5",
            "--checkpoint-wal-bytes", "8192", "--write-buffer-size", "65536",
        ] + storeArguments, environment: environment)
        var counter = 0
        func write(_ count: Int) {
            for _ in 0..<count {
                counter += 1
                primary.send("put counter \(counter)")
                _ = primary.readLine(timeout: 30)
            }
        }
        write(20)
        var lastSeen = 0
        var generator = SystemRandomNumberGenerator()
        rounds: for round in 0..<5 {
            let replica = try ChildProcess(Products.path("strata"), [
                "exec", "--replica", "--db", scratch + "/replica", "--object-store", store, "--replica-poll-ms", "50",
            ] + storeArguments, environment: environment)
            for _ in 0..<10 {
                write(3)
                replica.send("get counter")
                guard let line = replica.readLine(timeout: 30), line.hasPrefix("VALUE "), let value = Int(line.dropFirst(6)) else {
                    failures.append("round \(round): the replica did not answer: \(replica.finish(timeout: 5).errors)")
                    break rounds
                }
                if value < lastSeen { failures.append("round \(round): the replica went back from \(lastSeen) to \(value)") }
                if value > counter { failures.append("round \(round): the replica shows \(value), beyond the primary's \(counter)") }
                lastSeen = max(lastSeen, value)
            }
            usleep(UInt32.random(in: 0...30_000, using: &generator))
            kill(replica.pid, SIGKILL)
            _ = replica.finish(timeout: 10)
        }
        // Restarted once more, it reaches the primary's last write.
        primary.send("get counter")
        _ = primary.readLine(timeout: 30)
        var caughtUp = false
        for _ in 0..<100 where !caughtUp && failures.isEmpty {
            let read = try runTool(
                "strata", ["exec", "--replica", "--db", scratch + "/replica", "--object-store", store] + storeArguments, input: "get counter\n",
                environment: environment)
            caughtUp = read.output == "VALUE \(counter)\n"
            if !caughtUp { usleep(100_000) }
        }
        if !caughtUp { failures.append("the replica did not reach \(counter)") }
        primary.send("quit")
        _ = primary.finish(timeout: 30)
        return failures
    }
}
