#if canImport(Glibc)
import Glibc
#endif
import StrataTestSupport
import Testing
import VFS

/// The object store's durability promise under SIGKILL and a lost disk (`StoreKillLoop`), with a
/// local store — healthy, and failing, throttling, duplicating and delaying requests. The same
/// loop runs against moto's S3 server in `S3KillTests`.
@Suite struct ObjectStoreKillTests {
    @Test func everyStoreAcknowledgedBatchSurvivesKillsAndLosingTheDisk() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-kill")
        var loop = StoreKillLoop(store: "file://" + scratch.path + "/store", scratch: scratch.path)
        loop.kills = 12
        let outcome = try loop.run()
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(20))")
        #expect(outcome.acknowledged >= loop.kills * 3)
        withExtendedLifetime(scratch) {}
    }

    @Test func theGuaranteesHoldWhileTheStoreMisbehaves() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-kill-faults")
        var loop = StoreKillLoop(store: "file://" + scratch.path + "/store", scratch: scratch.path)
        loop.kills = 10
        // Each request: 5% fail before taking effect, 5% after, 5% throttled, 5% duplicated,
        // 5% delayed; a new seed for each run so the faults land elsewhere every time.
        loop.writerArguments = ["--object-store-faults", "0.05:\(UInt64.random(in: 1...UInt64.max >> 1))"]
        let outcome = try loop.run()
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(20)) with \(loop.writerArguments)")
        #expect(outcome.acknowledged >= loop.kills * 3)
        withExtendedLifetime(scratch) {}
    }
}

/// The primary dies mid-load; a replica is promoted: every store-acknowledged write is there,
/// and the old primary, restarted, is refused.
@Suite struct ReplicaPromotionKillTests {
    @Test func aReplicaPromotedAfterThePrimaryIsKilledHasEveryStoredWrite() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-promote-kill")
        let store = "file://" + scratch.path + "/store"
        let primaryPath = scratch.path + "/primary"
        let replicaPath = scratch.path + "/replica"
        let primary = try ChildProcess(Products.path("strata"), [
            "exec", "--db", primaryPath, "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5",
            "--checkpoint-wal-bytes", "4096", "--write-buffer-size", "65536",
        ])
        var acknowledged: [Int] = []
        for group in 0..<40 {
            primary.send(bytes: Array("batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n".utf8))
            guard primary.readLine(timeout: 60) == "OK" else { break }
            acknowledged.append(group)
            if group == 10 {
                // A replica joins while the primary is writing.
                let joined = try runTool("strata", ["exec", "--replica", "--db", replicaPath, "--object-store", store], input: "get g0-a\n")
                #expect(joined.output == "VALUE v0\n", "\(joined.output)\(joined.errors)")
            }
        }
        // More batches in flight, then the kill.
        for group in 40..<43 { primary.send(bytes: Array("batch 2\nput g\(group)-a v\(group)\nput g\(group)-b v\(group)\n".utf8)) }
        kill(primary.pid, SIGKILL)
        _ = primary.finish(timeout: 10)
        #expect(acknowledged.count == 40)

        let promote = try runTool("strata", ["promote", "--db", replicaPath, "--object-store", store])
        #expect(promote.status == 0, "\(promote.output)\(promote.errors)")
        let scan = try runTool("strata", ["exec", "--db", replicaPath, "--object-store", store], input: "scan - - 1000\n")
        var contents: [String: String] = [:]
        for line in scan.output.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { contents[String(parts[0])] = String(parts[1]) }
        }
        for group in acknowledged {
            #expect(contents["g\(group)-a"] == "v\(group)" && contents["g\(group)-b"] == "v\(group)", "acknowledged batch \(group) is missing")
        }
        for (key, value) in contents {
            let group = Int(key.dropFirst().prefix { $0 != "-" }) ?? -1
            #expect(group >= 0 && group < 43 && value == "v\(group)", "\(key)=\(value) was never written")
            #expect(contents[key.hasSuffix("-a") ? "g\(group)-b" : "g\(group)-a"] == value, "batch \(group) is not whole")
        }
        // The old primary, restarted, is refused and writes nothing.
        let restarted = try runTool("strata", ["exec", "--db", primaryPath, "--object-store", store], input: "put zombie write\n")
        #expect(restarted.status != 0 && restarted.errors.contains("diverged"), "\(restarted.output)\(restarted.errors)")
        let check = try runTool("strata", ["exec", "--db", replicaPath, "--object-store", store], input: "get zombie\n")
        #expect(check.output == "NOTFOUND\n", "\(check.output)\(check.errors)")
        let verify = try runTool("strata", ["objects", "verify", "--object-store", store])
        #expect(verify.status == 0, "\(verify.output)\(verify.errors)")
        withExtendedLifetime(scratch) {}
    }
}

/// A replica process killed with SIGKILL and restarted: it catches up, and what it shows never
/// goes back, across the restarts either.
@Suite struct ReplicaKillTests {
    @Test func aKilledReplicaRestartsCatchesUpAndNeverGoesBack() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-replica-kill")
        let store = "file://" + scratch.path + "/store"
        let primary = try ChildProcess(Products.path("strata"), [
            "exec", "--db", scratch.path + "/primary", "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5",
            "--checkpoint-wal-bytes", "8192", "--write-buffer-size", "65536",
        ])
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
        for round in 0..<5 {
            let replica = try ChildProcess(Products.path("strata"), [
                "exec", "--replica", "--db", scratch.path + "/replica", "--object-store", store, "--replica-poll-ms", "50",
            ])
            for _ in 0..<10 {
                write(3)
                replica.send("get counter")
                guard let line = replica.readLine(timeout: 30), line.hasPrefix("VALUE "), let value = Int(line.dropFirst(6)) else {
                    Issue.record("round \(round): the replica did not answer: \(replica.finish(timeout: 5).errors)")
                    return
                }
                #expect(value >= lastSeen, "round \(round): the replica went back from \(lastSeen) to \(value)")
                #expect(value <= counter)
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
        for _ in 0..<100 where !caughtUp {
            let read = try runTool("strata", ["exec", "--replica", "--db", scratch.path + "/replica", "--object-store", store], input: "get counter\n")
            caughtUp = read.output == "VALUE \(counter)\n"
            if !caughtUp { usleep(100_000) }
        }
        #expect(caughtUp, "the replica reached \(counter)")
        primary.send("quit")
        _ = primary.finish(timeout: 30)
        withExtendedLifetime(scratch) {}
    }
}
