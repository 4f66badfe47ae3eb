import Encoding
import ObjectStore
import ObjectStoreConformance
import ObjectStoreS3
import Testing

/// The S3 client against a real S3 server process: moto's.
@Suite struct S3MotoTests {
    @Test func passesTheConformanceSuite() async throws {
        let moto = try MotoServer()
        let store = try await moto.makeStore(bucket: "strata-conformance")
        for (index, check) in ObjectStoreConformance.checks.enumerated() {
            do {
                try await check.run(on: store, prefix: "check-\(index)/")
            } catch {
                Issue.record("\(check.name): \(error)")
            }
        }
    }

    @Test func aPrefixIsolatesStoresSharingABucket() async throws {
        let moto = try MotoServer()
        let first = try await moto.makeStore(bucket: "shared-bucket", prefix: "db1")
        let second = try await moto.makeStore(bucket: "shared-bucket", prefix: "db2/")
        _ = try await first.put("wal/1", [1], condition: .ifAbsent)
        _ = try await second.put("wal/1", [2], condition: .ifAbsent)
        #expect(try await first.get("wal/1", range: nil) == [1])
        #expect(try await second.get("wal/1", range: nil) == [2])
        #expect(try await first.list(prefix: "", startAfter: nil, limit: 10).objects.map(\.key) == ["wal/1"])
        #expect(first.description.hasPrefix("s3://shared-bucket/db1/ at http://127.0.0.1:"))
    }

    @Test func aMissingBucketIsReportedWithS3sCodeAndMessage() async throws {
        let moto = try MotoServer()
        let store = try await moto.makeStore(bucket: "no-such-bucket", createBucket: false)
        do {
            try await store.checkAccess()
            Issue.record("a missing bucket passed the access check")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .notFound)
            #expect(failure.code == "NoSuchBucket")
            #expect(failure.status == 404)
            #expect(!failure.message.isEmpty)
            #expect(failure.store.contains("s3://no-such-bucket/"))
        }
    }

    @Test func unknownCredentialsAreRefusedWithS3sCode() async throws {
        let moto = try MotoServer(authenticating: true)
        let store = try await moto.makeStore(
            bucket: "any-bucket", credentials: S3Credentials(accessKeyID: "AKIAUNKNOWN", secretAccessKey: "wrong"), createBucket: false)
        do {
            try await store.checkAccess()
            Issue.record("unknown credentials passed the access check")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .denied)
            #expect(failure.code == "InvalidAccessKeyId")
            #expect(failure.status == 403)
        }
    }

    @Test func anUnreachableEndpointFailsAsUnavailableAfterTheRetries() async throws {
        let port = try MotoServer.freePort()
        var configuration = try S3Configuration(url: "s3://bucket", credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), endpoint: "http://127.0.0.1:\(port)")
        configuration.retry.maxAttempts = 2
        configuration.retry.baseDelayMilliseconds = 1
        // async-http-client keeps trying to connect until the request's deadline.
        configuration.requestTimeoutSeconds = 1
        let store = try S3ObjectStore(configuration)
        do {
            _ = try await store.put("k", [1], condition: .none)
            Issue.record("a put to a closed port succeeded")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .unavailable && failure.isRetryable)
            #expect(failure.store.contains("127.0.0.1:\(port)"))
        }
    }

    @Test func configurationRejectsBadURLsBucketsAndEndpoints() throws {
        let credentials = S3Credentials(accessKeyID: "a", secretAccessKey: "b")
        for url in ["http://bucket", "s3://", "s3://ab", "s3://Upper", "s3://-dash", "s3://under_score"] {
            #expect(throws: StrataError.self, "\(url)") { _ = try S3Configuration(url: url, credentials: credentials) }
        }
        for endpoint in ["127.0.0.1:9000", "ftp://host", "http://", "http://user@host"] {
            #expect(throws: StrataError.self, "\(endpoint)") { _ = try S3Configuration(url: "s3://bucket", credentials: credentials, endpoint: endpoint) }
        }
        let configuration = try S3Configuration(url: "s3://my.bucket-1/some/prefix", credentials: credentials)
        #expect(configuration.prefix == "some/prefix/" && !configuration.pathStyle && configuration.url == "s3://my.bucket-1/some/prefix/")
        #expect(try S3Configuration(url: "s3://bucket", credentials: credentials, endpoint: "http://localhost:9000").pathStyle)
    }
}
