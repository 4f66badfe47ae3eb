#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import GRPCCore
import Server
import StrataTestSupport
import Tables
import Testing
import VFS

/// The `Query` RPC: a typed table read by a client that has no Swift schema, against the same
/// queries run through `Table` in process.
@Suite struct ServerQueryTests {
    /// 500 users in the default keyspace and 50 in keyspace "archive"; indexes byEmail (unique),
    /// byAge (composite: age, name) and byTag (multi-valued).
    static func populate(_ path: String) throws {
        let db = try Database.open(at: path, options: tableTestOptions(PosixFileSystem()))
        let fixture = UserSchema()
        let users = try Table(fixture.schema, in: db)
        for id in 0..<500 {
            try users.insert(UInt64(id), User(email: "u\(id)@x", name: "name\(id % 37)", age: 20 + id % 50, tags: id % 3 == 0 ? ["three"] : []))
        }
        let archive = try Table(fixture.schema, in: db, keyspace: try db.keyspace("archive"))
        for id in 0..<50 { try archive.insert(UInt64(id), User(email: "old\(id)@x", name: "old", age: 90, tags: [])) }
        try db.close()
    }

    static func rows(_ client: StrataClient, _ request: Strata_V1_QueryRequest) async throws -> [Strata_V1_QueryRow] {
        let rows = Shared<[Strata_V1_QueryRow]>([])
        try await client.query(request) { row in
            rows.withLock { $0.append(row) }
            return true
        }
        return rows.current
    }

    static func id(_ row: Strata_V1_QueryRow) throws -> UInt64 { try UInt64(orderedKeyBytes: Array(row.primaryKey)) }

    static func field(_ row: Strata_V1_QueryRow, _ name: String) -> Strata_V1_Value? {
        row.record.object.fields.first { $0.name == name }?.value
    }

    @Test func queriesMatchTheTypedTable() async throws {
        try await withServer({ try ServerQueryTests.populate($0.db) }) { server in
            try await withClient(server) { client in
                // The primary key, all of it: every record, decoded field by field.
                let all = try await Self.rows(client, .with { $0.table = "users" })
                #expect(try all.map(Self.id) == (0..<500).map(UInt64.init))
                #expect(Self.field(all[7], "email")?.string == "u7@x")
                #expect(Self.field(all[7], "age")?.int == 27)
                #expect(Self.field(all[3], "tags")?.list.items.map(\.string) == ["three"])

                // A composite index: age 30, names from "name1" on, reversed, a filter, a limit.
                let byAge = try await Self.rows(client, .with {
                    $0.table = "users"
                    $0.index = "byAge"
                    $0.prefix = [.with { $0.int64 = 30 }]
                    $0.start = [.with { $0.int64 = 30 }, .with { $0.string = "name1" }]
                    $0.filters = [.with { $0.field = "email"; $0.comparison = .hasSuffix; $0.value = .with { $0.string = "0@x" } }]
                    $0.reverse = true
                    $0.limit = 3
                    $0.fields = ["name", "email"]
                })
                func matches(_ id: Int) -> Bool {
                    let name = "name\(id % 37)"
                    return 20 + id % 50 == 30 && name >= "name1" && "u\(id)@x".hasSuffix("0@x")
                }
                func after(_ a: Int, _ b: Int) -> Bool {
                    let (x, y) = ("name\(a % 37)", "name\(b % 37)")
                    return x != y ? x > y : a > b
                }
                let expected = (0..<500).filter(matches).sorted(by: after).prefix(3)
                #expect(try byAge.map(Self.id) == expected.map(UInt64.init))
                #expect(byAge.first?.record.object.fields.map(\.name) == ["name", "email"])

                // The unique index and the multi-valued one.
                let byEmail = try await Self.rows(client, .with { $0.table = "users"; $0.index = "byEmail"; $0.prefix = [.with { $0.string = "u42@x" }] })
                #expect(try byEmail.map(Self.id) == [42])
                let three = try await Self.rows(client, .with { $0.table = "users"; $0.index = "byTag"; $0.prefix = [.with { $0.string = "three" }] })
                #expect(three.count == 167)

                // Pages: a token resumes exactly behind its row, in both directions.
                for reverse in [false, true] {
                    var seen: [UInt64] = []
                    var after = Data()
                    while true {
                        let page = try await Self.rows(client, .with {
                            $0.table = "users"; $0.index = "byAge"; $0.limit = 64; $0.after = after; $0.reverse = reverse
                            $0.filters = [.with { $0.field = "age"; $0.comparison = .less; $0.value = .with { $0.int = 25 } }]
                        })
                        guard let last = page.last else { break }
                        seen += try page.map(Self.id)
                        after = last.position
                    }
                    #expect(seen.count == 50 && Set(seen).count == 50, "reverse \(reverse)")
                }

                // Another keyspace.
                let archived = try await Self.rows(client, .with { $0.table = "users"; $0.keyspace = "archive" })
                #expect(archived.count == 50 && Self.field(archived[0], "name")?.string == "old")

                // Bad requests are INVALID_ARGUMENT; the connection stays usable.
                for bad: Strata_V1_QueryRequest in [
                    .with { $0.table = "users"; $0.index = "noSuchIndex" },
                    .with { $0.table = "" },
                    .with { $0.table = "users"; $0.prefix = [.with { $0.int8 = 300 }] },
                    .with { $0.table = "users"; $0.after = Data([1, 2, 3]) },
                    .with { $0.table = "users"; $0.start = [.with { $0.uint64 = 9 }]; $0.end = [.with { $0.uint64 = 2 }] },
                ] {
                    let code = await statusCode { _ = try await Self.rows(client, bad) }
                    #expect(code == .invalidArgument, "\(bad)")
                }
                // A keyspace the database does not have is NOT_FOUND.
                #expect(await statusCode { _ = try await Self.rows(client, .with { $0.table = "users"; $0.keyspace = "noSuchKeyspace" }) } == .notFound)
                // A table that does not exist has no rows.
                #expect(try await Self.rows(client, .with { $0.table = "nobody" }).isEmpty)
            }
        }
    }

    /// Python grpcio (stubs generated from the committed protos) runs queries against a
    /// `strata-server` process over a table written by Swift.
    @Test func anIndependentPythonClientQueriesATable() throws {
        let script = String(#filePath.dropLast("ServerQueryTests.swift".count)) + "python/query_check.py"
        let probe = try ChildProcess("/usr/bin/env", ["python3", "-c", "import grpc, grpc_tools"], environment: pythonEnvironment()).finish(timeout: 60)
        try #require(probe.status == 0, "Python grpcio and grpcio-tools are missing: run `make deps` (\(probe.errors))")
        let directory = try TemporaryDirectory(prefix: "strata-query")
        defer { withExtendedLifetime(directory) {} }
        try Self.populate(directory.path + "/db")
        let server = try ServerProcessTests.ServerProcess(["--db", directory.path + "/db"])
        let check = try ChildProcess("/usr/bin/env", ["python3", script, "--port", String(server.port)], environment: pythonEnvironment()).finish(timeout: 300)
        #expect(check.status == 0, "\(check.output)\(check.errors)")
        #expect(check.output.contains("ok: queries"))
        #expect(server.stop().status == 0)
    }
}
