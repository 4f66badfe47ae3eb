import Encoding
import Engine
import ObjectStore
import ObjectStoreS3
import StrataTestSupport
import Testing
import VFS

/// A primary under a random write load and two replicas following it through moto: whatever
/// a replica shows is a state the primary went through (checked against the primary's commit
/// log), and both converge to the primary's final state.
@Suite struct S3ReplicaTests {
    @Test func twoReplicasSeePrefixesOfThePrimarysHistoryAndConverge() async throws {
        let moto = try MotoServer()
        let store = try await moto.makeStore(bucket: "strata-replicas", prefix: "db")
        let scratch = try TemporaryDirectory()
        var writerOptions = Options()
        writerOptions.objectStore = store
        writerOptions.walUploadInterval = 0.01
        writerOptions.writeBufferSize = 64 << 10
        writerOptions.checkpointWALBytes = 32 << 10
        writerOptions.metricsInterval = nil
        writerOptions.logger.logLevel = .critical
        let primary = try await Database.open(at: scratch.path + "/primary", options: writerOptions)
        try await primary.put("seed", "0", options: WriteOptions(durability: .objectStore))
        var replicaOptions = Options()
        replicaOptions.replicaPollInterval = 0.05
        replicaOptions.metricsInterval = nil
        replicaOptions.logger.logLevel = .critical
        let replicas = [
            try await Database.openReplica(objectStore: store, at: scratch.path + "/r1", options: replicaOptions),
            try await Database.openReplica(objectStore: store, at: scratch.path + "/r2", options: replicaOptions),
        ]

        // The commit log: after write i (sequence s_i), key k holds history[i][k]. Each write is a
        // batch over a few of 16 keys, so a torn batch or a reordering shows as a state that
        // never existed.
        var generator = SystemRandomNumberGenerator()
        var state: [String: String] = ["seed": "0"]
        var history: [(sequence: UInt64, state: [String: String])] = [(primary.latestSequence.rawValue, state)]
        var observations = 0
        for round in 0..<400 {
            var batch = WriteBatch()
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let key = "k\(Int.random(in: 0..<16, using: &generator))"
                if Int.random(in: 0..<5, using: &generator) == 0 {
                    batch.delete(key)
                    state[key] = nil
                } else {
                    batch.put(key, "\(round)")
                    state[key] = "\(round)"
                }
            }
            try await primary.write(batch, options: WriteOptions(durability: round % 25 == 24 ? .objectStore : .local))
            history.append((primary.latestSequence.rawValue, state))
            guard round % 20 == 0 else { continue }
            for replica in replicas {
                let snapshot = try replica.snapshot()
                var seen: [String: String] = [:]
                for try await (key, value) in replica.scan(at: snapshot) {
                    seen[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
                }
                let applied = snapshot.sequence.rawValue
                // The state after the last write at or before the replica's sequence.
                guard let expected = history.last(where: { $0.sequence <= applied }) else {
                    Issue.record("the replica is at \(applied), before the primary's first write")
                    continue
                }
                #expect(seen == expected.state, "a replica at sequence \(applied) shows a state the primary never had")
                observations += 1
            }
        }
        try await primary.waitUntilStored()
        for replica in replicas {
            try await replica.waitForSequence(primary.latestSequence.rawValue, timeout: 30)
            var seen: [String: String] = [:]
            for try await (key, value) in replica.scan() {
                seen[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
            #expect(seen == state, "the replica converged to the primary's final state")
            #expect(replica.replicaStatus?.stale == nil)
            try await replica.close()
        }
        #expect(observations == 40)
        try await primary.close()
        withExtendedLifetime((moto, scratch)) {}
    }
}
