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

/// The primary dies mid-load; a replica is promoted (`ReplicaPromotionCheck`, with a local
/// store; `S3PromotionTests` runs it against moto).
@Suite struct ReplicaPromotionKillTests {
    @Test func aReplicaPromotedAfterThePrimaryIsKilledHasEveryStoredWrite() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-promote-kill")
        let failures = try ReplicaPromotionCheck(store: "file://" + scratch.path + "/store", scratch: scratch.path).run()
        #expect(failures.isEmpty, "\(failures.prefix(20))")
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
