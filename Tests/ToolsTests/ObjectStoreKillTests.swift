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
