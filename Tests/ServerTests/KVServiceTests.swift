import Engine
import GRPCCore
import Server
import Synchronization
import Testing

/// Every `strata.v1.KV` call through the Swift client, against a server on loopback.
@Suite struct KVServiceTests {
    @Test func pointReadsAndWritesRoundTrip() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let first = try await client.put("alpha", "1")
                try await client.put([0, 255, 7], [1, 2, 3], sync: true)
                #expect(try await client.get("alpha") == Array("1".utf8))
                #expect(try await client.get([0, 255, 7]) == [1, 2, 3])
                #expect(try await client.get("missing") == nil)
                let second = try await client.delete("alpha")
                #expect(second > first)
                #expect(try await client.get("alpha") == nil)
                try await client.put("empty-value", [UInt8]())
                #expect(try await client.get("empty-value") == [])
            }
        }
    }

    @Test func batchGetReadsManyKeysInOrder() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                for index in 0..<10 { try await client.put("k\(index)", "v\(index)") }
                let values = try await client.batchGet(["k3", "nope", "k0", "k9"])
                #expect(values == [Array("v3".utf8), nil, Array("v0".utf8), Array("v9".utf8)])
            }
        }
    }

    @Test func writeAppliesABatchAtomically() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                for index in 0..<10 { try await client.put("k\(index)", "old") }
                var batch = WriteBatch()
                batch.put("k1", "new")
                batch.delete("k2")
                batch.deleteRange(from: "k5", to: "k8")
                batch.put("k6", "reborn")
                try await client.write(batch)
                let seen = try await collect(client).map { $0.0 + "=" + $0.1 }
                #expect(seen == ["k0=old", "k1=new", "k3=old", "k4=old", "k6=reborn", "k8=old", "k9=old"])
            }
        }
    }

    @Test func deleteRangeRemovesAHalfOpenRange() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                for key in ["a", "b", "c", "d"] { try await client.put(key, key) }
                try await client.deleteRange(from: "b", to: "d")
                #expect(try await client.batchGet(["a", "b", "c", "d"]) == [Array("a".utf8), nil, nil, Array("d".utf8)])
            }
        }
    }

    @Test func scanHonoursBoundsPrefixReverseLimitAndKeysOnly() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                var batch = WriteBatch()
                for index in 0..<2000 { batch.put("key\(1000 + index)", "value\(index)") }
                batch.put("other", "x")
                try await client.write(batch)
                let all = try await collect(client)
                #expect(all.count == 2001)  // more than one chunk
                #expect(all.first?.0 == "key1000" && all.last?.0 == "other")

                let bounded = try await collect(client, from: Array("key1010".utf8), to: Array("key1013".utf8))
                #expect(bounded.map(\.0) == ["key1010", "key1011", "key1012"])

                let prefixed = try await collect(client, prefix: Array("key29".utf8))
                #expect(prefixed.map(\.0) == (2900..<3000).map { "key\($0)" })

                // Bounds outside the prefix select nothing.
                let outside = try await collect(client, from: Array("key3".utf8), prefix: Array("key1".utf8))
                #expect(outside.isEmpty)
                let inside = try await collect(client, from: Array("key1998".utf8), to: Array("key2001".utf8), prefix: Array("key2".utf8))
                #expect(inside.map(\.0) == ["key2000"])

                let reversed = try await collect(client, prefix: Array("key".utf8), reverse: true, limit: 3)
                #expect(reversed.map(\.0) == ["key2999", "key2998", "key2997"])

                let keys = try await collect(client, from: Array("other".utf8), keysOnly: true)
                #expect(keys.count == 1 && keys[0] == ("other", ""))

                let none = try await collect(client, limit: 0)
                #expect(none.isEmpty)
            }
        }
    }

    @Test func snapshotsReadThePastUntilReleased() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                try await client.put("k", "before")
                let snapshot = try await client.createSnapshot(ttlSeconds: 30)
                #expect(snapshot.ttlSeconds == 30)
                try await client.put("k", "after")
                try await client.put("new", "x")
                #expect(try await client.get("k", at: snapshot) == Array("before".utf8))
                #expect(try await client.get("k") == Array("after".utf8))
                #expect(try await client.batchGet(["k", "new"], at: snapshot) == [Array("before".utf8), nil])
                #expect(try await collect(client, at: snapshot).map(\.0) == ["k"])
                try await client.releaseSnapshot(snapshot)
                #expect(await statusCode { _ = try await client.get("k", at: snapshot) } == .invalidArgument)
                #expect(await statusCode { try await client.releaseSnapshot(snapshot) } == .invalidArgument)
            }
        }
    }

    @Test func snapshotLeasesExpire() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                // A lease long enough that a loaded machine still reads within it (with 1 s, a CI
                // run under load reached the first read after the lease had lapsed).
                let requested = ContinuousClock.now  // the lease begins after this
                let snapshot = try await client.createSnapshot(ttlSeconds: 5)
                let created = ContinuousClock.now  // the lease began before this
                do {
                    #expect(try await client.get("k", at: snapshot) == nil)
                } catch where ContinuousClock.now - requested >= .seconds(5) {
                    // The machine stalled for the whole lease (seen under a full parallel test
                    // run, also inside the create call itself, before its reply arrived): the
                    // read may rightly have found it lapsed. Within 5 s of the request it may not.
                }
                try await Task.sleep(until: created + .milliseconds(5300))
                #expect(await statusCode { _ = try await client.get("k", at: snapshot) } == .invalidArgument)
            }
        }
    }

    @Test func flushCompactAndStatistics() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                for index in 0..<100 { try await client.put("k\(index)", "v\(index)") }
                try await client.flush()
                try await client.compactRange(from: nil, to: nil)
                let stats = try await client.statistics()
                #expect(stats.values["puts"] == 100)
                #expect(stats.values["flushes"] ?? 0 >= 1)
                #expect(stats.levels.count == 7)
                #expect(stats.levels.reduce(0) { $0 + $1.files } >= 1)
                #expect(stats.summary.contains("Level"))
                #expect(stats.statistics.contains("puts"))
                #expect(try await client.get("k42") == Array("v42".utf8))
            }
        }
    }

    @Test func transactionsCommitRollBackAndConflict() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                try await client.put("balance", "10")
                // A committed transaction: reads its own writes, scans its view.
                let seen = try await client.transaction(isolation: .serializable) { txn in
                    let balance = try await txn.get("balance")
                    try await txn.put("balance", "7")
                    try await txn.put("log", "-3")
                    let own = try await txn.get("balance")
                    let entries = try await txn.entries()
                    return [balance, own, entries.count == 2 ? [1] : [0]]
                }
                #expect(seen == [Array("10".utf8), Array("7".utf8), [1]])
                #expect(try await client.get("balance") == Array("7".utf8))

                // A body that throws rolls back.
                struct Abandon: Error {}
                await #expect(throws: Abandon.self) {
                    try await client.transaction { txn in
                        try await txn.put("balance", "0")
                        throw Abandon()
                    }
                }
                #expect(try await client.get("balance") == Array("7".utf8))

                // A write committed after the transaction read the key: ABORTED at commit.
                let code = await statusCode {
                    try await client.transaction(isolation: .serializable) { txn in
                        _ = try await txn.get("balance")
                        try await client.put("balance", "100")
                        try await txn.put("balance", "8")
                    }
                }
                #expect(code == .aborted)
                #expect(try await client.get("balance") == Array("100".utf8))

                // Pessimistic: a held lock makes another transaction time out with ABORTED.
                let release = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await client.transaction(isolation: .pessimistic) { txn in
                        _ = try await txn.getForUpdate("balance")
                        for await _ in release.stream { break }
                        try await txn.put("balance", "1")
                    }
                }
                try await Task.sleep(for: .milliseconds(200))
                let blocked = await statusCode {
                    try await client.transaction(isolation: .pessimistic, lockTimeout: 0.2) { txn in
                        try await txn.put("balance", "2")
                    }
                }
                release.continuation.yield()
                try await holder.value
                #expect(blocked == .aborted)
                #expect(try await client.get("balance") == Array("1".utf8))
            }
        }
    }

    @Test func healthIsServing() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let overall = try await client.healthStatus()
                #expect(overall == .serving)
                #expect(try await client.healthStatus(of: "strata.v1.KV") == .serving)
                #expect(await statusCode { _ = try await client.healthStatus(of: "no.such.Service") } == .notFound)
            }
        }
    }

    /// A scan's entries as text pairs.
    func collect(
        _ client: StrataClient, from: [UInt8]? = nil, to: [UInt8]? = nil, prefix: [UInt8]? = nil, reverse: Bool = false, limit: Int? = nil,
        keysOnly: Bool = false, at snapshot: RemoteSnapshot? = nil
    ) async throws -> [(String, String)] {
        let entries = EntryBox()
        try await client.scan(from: from, to: to, prefix: prefix, reverse: reverse, limit: limit, keysOnly: keysOnly, at: snapshot) { key, value in
            entries.append((String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            return true
        }
        return entries.all
    }
}

/// Entries collected by a scan callback.
final class EntryBox: Sendable {
    private let entries = Mutex<[(String, String)]>([])
    func append(_ entry: (String, String)) { entries.withLock { $0.append(entry) } }
    var all: [(String, String)] { entries.withLock { $0 } }
}
