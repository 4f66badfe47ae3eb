#if canImport(Glibc)
import Glibc
#endif
import VFS

/// The object store's durability promise, black-box, shared by the kill tests against each kind
/// of store: a `strata exec --durability store` writer acknowledging each batch only once it is
/// in the store is killed with SIGKILL at random moments; each time its local directory is
/// deleted and the database restored from the store alone, into a new directory.
///
/// After every kill: every acknowledged batch is there, nothing that was never written appears,
/// and every batch is whole. At the end `strata objects verify` passes.
public struct StoreKillLoop: Sendable {
    /// The store's URL (`file://…` or `s3://…`).
    public var store: String
    /// Arguments every `strata` run gets besides `--object-store` (an endpoint, faults…).
    public var storeArguments: [String] = []
    /// Arguments only the writer gets (for example `--object-store-faults`).
    public var writerArguments: [String] = []
    /// Environment of every `strata` run (credentials).
    public var environment: [String: String] = [:]
    /// How many times the writer is killed.
    public var kills = 10
    /// Where the database directories go.
    public var scratch: String

    /// A loop over `store`, with directories under `scratch`.
    public init(store: String, scratch: String) {
        self.store = store
        self.scratch = scratch
    }

    /// What the loop saw: failures (empty when the promise held) and counts.
    public struct Outcome: Sendable {
        /// Each broken promise, in words.
        public var failures: [String] = []
        /// Batches acknowledged before a kill.
        public var acknowledged = 0
        /// Batches sent without waiting for the answer (in flight at a kill).
        public var inFlight = 0
    }

    /// Batch `group` as exec input: two keys written atomically.
    func batchLines(_ group: Int) -> String {
        "batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n"
    }

    /// Runs `strata` with the store's arguments after `arguments`.
    func strata(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try runTool("strata", arguments + ["--object-store", store] + storeArguments, environment: environment)
    }

    /// The store restored into `directory`, as key → value.
    func restoredContents(into directory: String) throws -> [String: String] {
        let restore = try strata(["restore", "--db", directory])
        guard restore.status == 0 else { throw ChildError("restore failed: \(restore.errors)") }
        let scan = try runTool("strata", ["scan", "--db", directory])
        guard scan.status == 0 else { throw ChildError("scan failed: \(scan.errors)") }
        var contents: [String: String] = [:]
        for line in scan.output.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { contents[String(parts[0])] = String(parts[1]) }
        }
        return contents
    }

    /// Runs the loop.
    public func run() throws -> Outcome {
        var outcome = Outcome()
        var generator = SystemRandomNumberGenerator()
        var acknowledged = Set<Int>()
        var sent = Set<Int>()
        var nextGroup = 0
        for round in 0..<kills {
            let directory = scratch + "/db-\(round)"
            let writer = try ChildProcess(Products.path("strata"), [
                "exec", "--db", directory, "--object-store", store, "--durability", "store",
                "--wal-upload-interval-ms", "5", "--checkpoint-wal-bytes", "4096", "--write-buffer-size", "65536",
            ] + storeArguments + writerArguments, environment: environment)
            // Acknowledged batches, one at a time.
            for _ in 0..<Int.random(in: 3...25, using: &generator) {
                let group = nextGroup
                nextGroup += 1
                sent.insert(group)
                writer.send(bytes: Array(batchLines(group).utf8))
                guard let reply = writer.readLine(timeout: 60) else {
                    outcome.failures.append("round \(round): no reply to batch \(group): \(writer.finish(timeout: 5).errors)")
                    return outcome
                }
                if reply == "OK" {
                    acknowledged.insert(group)
                } else {
                    outcome.failures.append("round \(round): batch \(group) answered \(reply)")
                }
            }
            // A few batches in flight when the kill comes: they may or may not survive, whole.
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                sent.insert(nextGroup)
                writer.send(bytes: Array(batchLines(nextGroup).utf8))
                nextGroup += 1
                outcome.inFlight += 1
            }
            usleep(UInt32.random(in: 0...20_000, using: &generator))
            kill(writer.pid, SIGKILL)
            _ = writer.finish(timeout: 10)
            TemporaryDirectory.removeTree(directory)

            let check = scratch + "/check-\(round)"
            let contents = try restoredContents(into: check)
            TemporaryDirectory.removeTree(check)
            for group in acknowledged.sorted() where contents["g\(group)-a"] != "v\(group)" || contents["g\(group)-b"] != "v\(group)" {
                outcome.failures.append("round \(round): acknowledged batch \(group) is missing")
            }
            for (key, value) in contents.sorted(by: { $0.key < $1.key }) {
                let group = Int(key.dropFirst().prefix { $0 != "-" }) ?? -1
                if !sent.contains(group) || value != "v\(group)" {
                    outcome.failures.append("round \(round): \(key)=\(value) was never written")
                }
                let twin = key.hasSuffix("-a") ? "g\(group)-b" : "g\(group)-a"
                if contents[twin] != value { outcome.failures.append("round \(round): batch \(group) is not whole") }
            }
        }
        outcome.acknowledged = acknowledged.count
        // The store passes its own check after all of it.
        let verify = try strata(["objects", "verify"])
        if verify.status != 0 { outcome.failures.append("objects verify: \(verify.output)\(verify.errors)") }
        return outcome
    }
}
