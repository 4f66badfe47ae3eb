import Encoding
import StrataTestSupport
import Testing
import VFS

/// Promotion after the primary is killed (`ReplicaPromotionCheck`) against moto's S3 server,
/// through the `strata` CLI's S3 flags: every store-acknowledged write is on the promoted
/// writer, and the old primary is fenced.
@Suite struct S3PromotionTests {
    @Test func aReplicaPromotedAfterThePrimaryIsKilledHasEveryStoredWrite() async throws {
        let moto = try MotoServer()
        _ = try await moto.makeStore(bucket: "strata-promote")
        let scratch = try TemporaryDirectory(prefix: "strata-s3-promote")
        var check = ReplicaPromotionCheck(store: "s3://strata-promote/db", scratch: scratch.path)
        check.storeArguments = ["--s3-endpoint", moto.endpoint]
        check.environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        // The check drives child processes and blocks: keep it off the cooperative pool.
        let failures = try await Threads.run { [check] in try check.run() }
        #expect(failures.isEmpty, "\(failures.prefix(20))")
        withExtendedLifetime((moto, scratch)) {}
    }
}
