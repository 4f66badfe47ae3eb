import Encoding
import StrataTestSupport
import Testing
import VFS

/// Replica processes against moto's S3 server, through the `strata` CLI's S3 flags
/// (`ReplicaProcessChecks`): promotion after the primary is killed — every store-acknowledged
/// write is on the promoted writer, and the old primary is fenced — and a replica killed and
/// restarted, which never goes back and catches up.
@Suite struct S3ReplicaProcessTests {
    /// Runs `check` against a fresh bucket of a fresh moto server.
    func runAgainstMoto(bucket: String, _ check: @escaping @Sendable (ReplicaProcessChecks) throws -> [String]) async throws {
        let moto = try MotoServer()
        _ = try await moto.makeStore(bucket: bucket)
        let scratch = try TemporaryDirectory(prefix: "strata-s3-" + bucket)
        var checks = ReplicaProcessChecks(store: "s3://\(bucket)/db", scratch: scratch.path)
        checks.storeArguments = ["--s3-endpoint", moto.endpoint]
        checks.environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        // The checks drive child processes and block: keep them off the cooperative pool.
        let failures = try await Threads.run { [checks] in try check(checks) }
        #expect(failures.isEmpty, "\(failures.prefix(20))")
        withExtendedLifetime((moto, scratch)) {}
    }

    @Test func aReplicaPromotedAfterThePrimaryIsKilledHasEveryStoredWrite() async throws {
        try await runAgainstMoto(bucket: "strata-promote") { try $0.promotionAfterKill() }
    }

    @Test func aKilledReplicaRestartsCatchesUpAndNeverGoesBack() async throws {
        try await runAgainstMoto(bucket: "strata-replica-kill") { try $0.restartAfterKill() }
    }
}
