import Encoding
import StrataTestSupport
import Testing
import VFS

/// Replica processes against moto's S3 server, through the `strata` CLI's S3 flags: promotion
/// after the primary is killed (`ReplicaPromotionCheck`: every store-acknowledged write is on
/// the promoted writer, and the old primary is fenced), and a replica killed and restarted
/// (`ReplicaRestartCheck`: it never goes back and catches up).
@Suite struct S3ReplicaProcessTests {
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

    @Test func aKilledReplicaRestartsCatchesUpAndNeverGoesBack() async throws {
        let moto = try MotoServer()
        _ = try await moto.makeStore(bucket: "strata-replica-kill")
        let scratch = try TemporaryDirectory(prefix: "strata-s3-replica-kill")
        var check = ReplicaRestartCheck(store: "s3://strata-replica-kill/db", scratch: scratch.path)
        check.storeArguments = ["--s3-endpoint", moto.endpoint]
        check.environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        let failures = try await Threads.run { [check] in try check.run() }
        #expect(failures.isEmpty, "\(failures.prefix(20))")
        withExtendedLifetime((moto, scratch)) {}
    }
}
