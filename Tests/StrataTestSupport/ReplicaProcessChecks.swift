#if canImport(Glibc)
import Glibc
#endif

/// Black-box checks of read replicas through the `strata` binary, shared by the tests against
/// each kind of store (a local directory, moto's S3 server).
public struct ReplicaProcessChecks: Sendable {
    /// The store's URL (`file://…` or `s3://…`).
    public var store: String
    /// Arguments every `strata` run gets besides `--object-store` (an endpoint…).
    public var storeArguments: [String] = []
    /// Environment of every `strata` run (credentials).
    public var environment: [String: String] = [:]
    /// Where the database directories go.
    public var scratch: String

    /// Checks over `store`, with directories under `scratch`.
    public init(store: String, scratch: String) {
        self.store = store
        self.scratch = scratch
    }

    private func strata(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, errors: String) {
        try runTool("strata", arguments + ["--object-store", store] + storeArguments, input: input, environment: environment)
    }

    /// Promotion after the primary dies: a `strata exec --durability store` primary writes
    /// two-key batches under load, a replica joins mid-load, the primary is killed with SIGKILL
    /// with batches in flight, and the replica is promoted (`strata promote`). Every batch the
    /// primary acknowledged must be on the promoted writer, whole, with nothing never written;
    /// the old primary, restarted, must be refused as diverged and write nothing; `strata objects
    /// verify` must pass. Returns each broken promise, in words (empty when all held).
    public func promotionAfterKill() throws -> [String] {
        var failures: [String] = []
        let primaryPath = scratch + "/primary"
        let replicaPath = scratch + "/replica"
        let primary = try ChildProcess(Products.path("strata"), [
            "exec", "--db", primaryPath, "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5",
            "--checkpoint-wal-bytes", "4096", "--write-buffer-size", "65536",
        ] + storeArguments, environment: environment)
        var acknowledged: [Int] = []
        for group in 0..<40 {
            primary.send(bytes: Array("batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n".utf8))
            guard primary.readLine(timeout: 60) == "OK" else { break }
            acknowledged.append(group)
            if group == 10 {
                // A replica joins while the primary is writing.
                let joined = try strata(["exec", "--replica", "--db", replicaPath], input: "get g0-a\n")
                if joined.output != "VALUE v0\n" { failures.append("the replica joining mid-load read \(joined.output)\(joined.errors)") }
            }
        }
        // More batches in flight, then the kill.
        for group in 40..<43 { primary.send(bytes: Array("batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n".utf8)) }
        kill(primary.pid, SIGKILL)
        _ = primary.finish(timeout: 10)
        if acknowledged.count != 40 { failures.append("the primary acknowledged \(acknowledged.count) of 40 batches before the kill") }

        let promote = try strata(["promote", "--db", replicaPath])
        if promote.status != 0 { failures.append("promote failed: \(promote.output)\(promote.errors)") }
        let scan = try strata(["exec", "--db", replicaPath], input: "scan - - 1000\n")
        var contents: [String: String] = [:]
        for line in scan.output.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { contents[String(parts[0])] = String(parts[1]) }
        }
        for group in acknowledged where contents["g\(group)-a"] != "v\(group)" || contents["g\(group)-b"] != "v\(group)" {
            failures.append("acknowledged batch \(group) is missing after the promotion")
        }
        for (key, value) in contents {
            let group = Int(key.dropFirst().prefix { $0 != "-" }) ?? -1
            if !(group >= 0 && group < 43 && value == "v\(group)") { failures.append("\(key)=\(value) was never written") }
            if contents[key.hasSuffix("-a") ? "g\(group)-b" : "g\(group)-a"] != value { failures.append("batch \(group) is not whole") }
        }
        // The old primary, restarted, is refused and writes nothing.
        let restarted = try strata(["exec", "--db", primaryPath], input: "put zombie write\n")
        if restarted.status == 0 || !restarted.errors.contains("diverged") {
            failures.append("the old primary was not refused: \(restarted.output)\(restarted.errors)")
        }
        let check = try strata(["exec", "--db", replicaPath], input: "get zombie\n")
        if check.output != "NOTFOUND\n" { failures.append("the old primary's write is visible: \(check.output)\(check.errors)") }
        let verify = try strata(["objects", "verify"])
        if verify.status != 0 { failures.append("objects verify: \(verify.output)\(verify.errors)") }
        return failures
    }

    /// A replica process killed with SIGKILL and restarted, five times, while a `strata exec
    /// --durability store` primary keeps incrementing a counter: what the replica shows must
    /// never go back (also across its restarts) nor run ahead of the primary, and restarted once
    /// more it must reach the primary's last write. Returns each broken promise, in words.
    public func restartAfterKill() throws -> [String] {
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
            let read = try strata(["exec", "--replica", "--db", scratch + "/replica"], input: "get counter\n")
            caughtUp = read.output == "VALUE \(counter)\n"
            if !caughtUp { usleep(100_000) }
        }
        if !caughtUp { failures.append("the replica did not reach \(counter)") }
        primary.send("quit")
        _ = primary.finish(timeout: 30)
        return failures
    }
}
