import Encoding
import Engine
import ObjectStore
import ObjectStoreS3
import StrataTestSupport
import Testing
import VFS

/// A database whose durable copy lives in S3 (moto): store-durable writes, a checkpoint, a
/// takeover restore on an empty directory, and the fenced old writer.
@Suite struct S3DatabaseTests {
    @Test func aDatabaseMovesToAnotherDirectoryThroughS3() async throws {
        let moto = try MotoServer()
        let store = try await moto.makeStore(bucket: "strata-db", prefix: "db1")
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        var options = Options()
        options.objectStore = store
        options.walUploadInterval = 0.01
        options.writeBufferSize = 64 << 10
        options.checkpointWALBytes = 16 << 10
        options.metricsInterval = nil
        let first = try await Database.open(at: directory.path + "/a", options: options)
        let value = String(repeating: "v", count: 100)
        for index in 0..<400 {
            try await first.put("key\(index)", "\(index)\(value)", options: WriteOptions(durability: index % 50 == 49 ? .objectStore : .local))
        }
        let second = try await Database.open(at: directory.path + "/b", options: options)
        for index in stride(from: 0, to: 400, by: 13) {
            #expect(try await second.get("key\(index)", as: String.self) == "\(index)\(value)")
        }
        await #expect {
            try await first.put("late", "x", options: WriteOptions(durability: .objectStore))
        } throws: { error in
            if case .fenced = error as? StrataError { return true }
            return false
        }
        try? await first.close()
        try await second.close()
        let report = try StoreVerifier(store: store).verify()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.tables > 0 && report.manifests >= 2)
    }
}
