#if canImport(Glibc)
import Glibc
#endif
import Engine
import GRPCCore
import Server
import StrataTestSupport
import Testing
import VFS

/// Keyspaces over gRPC: every call names one (empty: the default), a `Write` and a `Transact`
/// stream span several atomically, an unknown name is NOT_FOUND with nothing written, and the
/// CLI's `--keyspace` reaches them through `--server`.
@Suite struct ServerKeyspaceTests {
    @Test func everyCallReachesItsKeyspace() async throws {
        try await withServer { server in
            let db = server.server.database
            let logs = try await db.keyspace("logs")
            _ = try await db.keyspace("users")
            try await withClient(server) { client in
                // Point reads and writes go to the keyspace named; the same key elsewhere differs.
                try await client.put("k", "default")
                try await client.put("k", "in logs", keyspace: "logs")
                #expect(try await client.get("k") == Array("default".utf8))
                #expect(try await client.get("k", keyspace: "logs") == Array("in logs".utf8))
                #expect(try await client.get("k", keyspace: "users") == nil)
                #expect(try await logs.get("k") == Array("in logs".utf8))
                for index in 0..<5 { try await client.put("l\(index)", "v\(index)", keyspace: "logs") }
                #expect(try await client.batchGet(["l1", "k", "l9"], keyspace: "logs") == [Array("v1".utf8), Array("in logs".utf8), nil])

                // Scans, range deletes and compactions stay inside their keyspace.
                try await client.deleteRange(from: "l1", to: "l3", keyspace: "logs")
                #expect(try await keys(client, keyspace: "logs") == ["k", "l0", "l3", "l4"])
                #expect(try await keys(client) == ["k"])
                try await client.compactRange(keyspace: "logs")
                try await client.delete("l0", keyspace: "logs")
                #expect(try await keys(client, keyspace: "logs") == ["k", "l3", "l4"])

                // One Write spans keyspaces; one with an unknown keyspace writes nothing.
                var batch = RemoteWriteBatch()
                batch.put("a", "1", keyspace: "logs")
                batch.put("b", "2", keyspace: "users")
                batch.delete("k")
                try await client.write(batch)
                #expect(try await client.get("a", keyspace: "logs") == Array("1".utf8))
                #expect(try await client.get("b", keyspace: "users") == Array("2".utf8))
                #expect(try await client.get("k") == nil)
                var broken = RemoteWriteBatch()
                broken.put("z", "1", keyspace: "logs")
                broken.put("z", "2", keyspace: "nope")
                #expect(await statusCode { try await client.write(broken) } == .notFound)
                #expect(try await client.get("z", keyspace: "logs") == nil)

                // Unknown keyspaces are NOT_FOUND on every call.
                #expect(await statusCode { _ = try await client.get("k", keyspace: "nope") } == .notFound)
                #expect(await statusCode { try await client.put("k", "v", keyspace: "nope") } == .notFound)
                #expect(await statusCode { _ = try await keys(client, keyspace: "nope") } == .notFound)
                #expect(await statusCode { try await client.compactRange(keyspace: "nope") } == .notFound)

                // A local WriteBatch names keyspaces by this process's ids: refused, not misrouted.
                var local = WriteBatch()
                local.put("x", "y", in: logs)
                await #expect(throws: StrataError.self) { try await client.write(local) }

                // A transaction reads and writes several keyspaces and commits them together.
                try await client.transaction { txn in
                    try await txn.put("t", "logged", keyspace: "logs")
                    try await txn.put("t", "plain")
                    #expect(try await txn.get("t", keyspace: "logs") == Array("logged".utf8))
                    #expect(try await txn.entries(keyspace: "logs").map { String(decoding: $0.key, as: UTF8.self) } == ["a", "k", "l3", "l4", "t"])
                    #expect(try await txn.getForUpdate("b", keyspace: "users") == Array("2".utf8))
                }
                #expect(try await client.get("t", keyspace: "logs") == Array("logged".utf8))
                #expect(try await client.get("t") == Array("plain".utf8))
                // One naming an unknown keyspace ends NOT_FOUND and commits nothing.
                let code = await statusCode {
                    try await client.transaction { txn in
                        try await txn.put("u", "1", keyspace: "logs")
                        try await txn.put("u", "1", keyspace: "nope")
                    }
                }
                #expect(code == .notFound)
                #expect(try await client.get("u", keyspace: "logs") == nil)
            }
        }
    }

    /// `strata --server … --keyspace NAME`: the data commands work on the server's keyspace,
    /// and a keyspace it does not have exits 1, as on a local database.
    @Test func theCommandLineReachesKeyspacesThroughTheServer() throws {
        let directory = try TemporaryDirectory(prefix: "strata-server-keyspaces")
        defer { withExtendedLifetime(directory) {} }
        let path = directory.path + "/db"
        var options = Options()
        options.logger.logLevel = .critical
        let setup = try Database.open(at: path, options: options)
        _ = try setup.keyspace("logs")
        try setup.close()

        let server = try ServerProcessTests.ServerProcess(["--db", path])
        let remote = ["--server", server.address]
        #expect(try runTool("strata", remote + ["--keyspace", "logs", "put", "k", "v"]).status == 0)
        #expect(try runTool("strata", remote + ["--keyspace", "logs", "put", "k2", "w"]).status == 0)
        #expect(try runTool("strata", remote + ["--keyspace", "logs", "get", "k"]).output == "v\n")
        #expect(try runTool("strata", remote + ["--keyspace", "logs", "scan"]).output == "k\tv\nk2\tw\n")
        #expect(try runTool("strata", remote + ["--keyspace", "logs", "delete", "k2"]).status == 0)
        #expect(try runTool("strata", remote + ["get", "k"]).status == 1, "the default keyspace has no k")
        let unknown = try runTool("strata", remote + ["--keyspace", "nope", "get", "k"])
        #expect(unknown.status == 1 && unknown.errors.contains("no keyspace named"), "\(unknown)")
        #expect(server.stop().status == 0)

        let db = try Database.open(at: path, options: options)
        #expect(try db.keyspace("logs").scan().collect().map { String(decoding: $0.key, as: UTF8.self) } == ["k"])
        #expect(try db.get("k") == nil)
        try db.close()
    }

    /// The keys of `keyspace` (the default one when `nil`), through `Scan`.
    func keys(_ client: StrataClient, keyspace: String? = nil) async throws -> [String] {
        let found = Shared<[String]>([])
        try await client.scan(keyspace: keyspace) { key, _ in
            found.withLock { $0.append(String(decoding: key, as: UTF8.self)) }
            return true
        }
        return found.current
    }
}
