import Encoding
import StrataTestSupport
import Testing
import VFS

/// The kill loop (`StoreKillLoop`) against moto's S3 server, through the `strata` CLI's S3 flags:
/// every store-acknowledged batch survives SIGKILL and the loss of the local disk.
@Suite struct S3KillTests {
    @Test func everyStoreAcknowledgedBatchSurvivesKillsAndLosingTheDisk() async throws {
        let moto = try MotoServer()
        _ = try await moto.makeStore(bucket: "strata-kill")
        let scratch = try TemporaryDirectory(prefix: "strata-s3-kill")
        var loop = StoreKillLoop(store: "s3://strata-kill/db", scratch: scratch.path)
        loop.storeArguments = ["--s3-endpoint", moto.endpoint]
        loop.environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        loop.kills = 10
        // The loop drives child processes and blocks: keep it off the cooperative pool.
        let outcome = try await Threads.run { [loop] in try loop.run() }
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(20))")
        #expect(outcome.acknowledged >= loop.kills * 3)
        withExtendedLifetime((moto, scratch)) {}
    }
}
