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

/// The primary dies mid-load; a replica is promoted (`ReplicaProcessChecks.promotionAfterKill`,
/// with a local store; `S3ReplicaProcessTests` runs it against moto).
@Suite struct ReplicaPromotionKillTests {
    @Test func aReplicaPromotedAfterThePrimaryIsKilledHasEveryStoredWrite() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-promote-kill")
        let failures = try ReplicaProcessChecks(store: "file://" + scratch.path + "/store", scratch: scratch.path).promotionAfterKill()
        #expect(failures.isEmpty, "\(failures.prefix(20))")
        withExtendedLifetime(scratch) {}
    }
}

/// A replica process killed with SIGKILL and restarted (`ReplicaProcessChecks.restartAfterKill`,
/// with a local store; `S3ReplicaProcessTests` runs it against moto): it catches up, and what it
/// shows never goes back, across the restarts either.
@Suite struct ReplicaKillTests {
    @Test func aKilledReplicaRestartsCatchesUpAndNeverGoesBack() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-replica-kill")
        let failures = try ReplicaProcessChecks(store: "file://" + scratch.path + "/store", scratch: scratch.path).restartAfterKill()
        #expect(failures.isEmpty, "\(failures.prefix(20))")
        withExtendedLifetime(scratch) {}
    }
}
