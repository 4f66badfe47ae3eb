#if canImport(Glibc)
import Glibc
#endif
import Encoding
import StrataTestSupport
import Testing
import VFS

/// The object store's durability promise, black-box: a writer acknowledging each batch only once
/// it is in the store is killed with SIGKILL at random moments; each time its local directory is
/// deleted and the database restored from the store alone.
@Suite struct ObjectStoreKillTests {
    /// Batch `group` as exec input: two keys written atomically.
    func batchLines(_ group: Int) -> String {
        "batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n"
    }

    /// The store restored into a new directory, as key → value.
    func restoredContents(store: String, into directory: String) throws -> [String: String] {
        let restore = try runTool("strata", ["restore", "--db", directory, "--object-store", store])
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

    @Test func everyStoreAcknowledgedBatchSurvivesKillsAndLosingTheDisk() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-kill")
        defer { withExtendedLifetime(scratch) {} }
        let store = "file://" + scratch.path + "/store"
        var generator = SystemRandomNumberGenerator()
        var acknowledged = Set<Int>()
        var sent = Set<Int>()
        var nextGroup = 0
        let kills = 12
        for round in 0..<kills {
            let directory = scratch.path + "/db-\(round)"
            let writer = try ChildProcess(Products.path("strata"), [
                "exec", "--db", directory, "--object-store", store, "--durability", "store",
                "--wal-upload-interval-ms", "5", "--checkpoint-wal-bytes", "4096", "--write-buffer-size", "65536",
            ])
            // Acknowledged batches, one at a time.
            let target = Int.random(in: 3...25, using: &generator)
            for _ in 0..<target {
                let group = nextGroup
                nextGroup += 1
                sent.insert(group)
                writer.send(bytes: Array(batchLines(group).utf8))
                guard let reply = writer.readLine(timeout: 30) else {
                    Issue.record("round \(round): no reply to batch \(group): \(writer.finish(timeout: 5).errors)")
                    return
                }
                #expect(reply == "OK", "round \(round): batch \(group) answered \(reply)")
                if reply == "OK" { acknowledged.insert(group) }
            }
            // A few batches in flight when the kill comes: they may or may not survive, whole.
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                sent.insert(nextGroup)
                writer.send(bytes: Array(batchLines(nextGroup).utf8))
                nextGroup += 1
            }
            usleep(UInt32.random(in: 0...20_000, using: &generator))
            kill(writer.pid, SIGKILL)
            _ = writer.finish(timeout: 10)
            TemporaryDirectory.removeTree(directory)

            let contents = try restoredContents(store: store, into: scratch.path + "/check-\(round)")
            TemporaryDirectory.removeTree(scratch.path + "/check-\(round)")
            for group in acknowledged {
                #expect(contents["g\(group)-a"] == "v\(group)" && contents["g\(group)-b"] == "v\(group)", "round \(round): acknowledged batch \(group) is missing")
            }
            for (key, value) in contents {
                let group = Int(key.dropFirst().prefix { $0 != "-" }) ?? -1
                #expect(sent.contains(group) && value == "v\(group)", "round \(round): \(key)=\(value) was never written")
                let twin = key.hasSuffix("-a") ? "g\(group)-b" : "g\(group)-a"
                #expect(contents[twin] == value, "round \(round): batch \(group) is not whole")
            }
        }
        #expect(acknowledged.count >= kills * 3)
        // The store passes its own check after all of it.
        let verify = try runTool("strata", ["objects", "verify", "--object-store", store])
        #expect(verify.status == 0, "\(verify.output)\(verify.errors)")
    }
}
