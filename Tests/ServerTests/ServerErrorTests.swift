#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import GRPCCore
import Server
import Testing

/// Each kind of bad input gets its status code and a message, and changes nothing.
@Suite struct ServerErrorTests {
    @Test func emptyKeysAreInvalidArguments() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                #expect(await statusCode { try await client.put([UInt8](), "v") } == .invalidArgument)
                #expect(await statusCode { try await client.delete([UInt8]()) } == .invalidArgument)
                #expect(await statusCode { _ = try await client.get([UInt8]()) } == .invalidArgument)
                #expect(await statusCode { _ = try await client.batchGet([[UInt8](), Array("k".utf8)]) } == .invalidArgument)
                let puts = try await client.statistics().values["puts"]
                #expect(puts == 0)
            }
        }
    }

    @Test func oversizedKeysAndValuesAreInvalidArguments() async throws {
        try await withServer({ $0.maxKeySize = 16; $0.maxValueSize = 100 }) { server in
            try await withClient(server) { client in
                #expect(await statusCode { try await client.put([UInt8](repeating: 1, count: 17), "v") } == .invalidArgument)
                #expect(await statusCode { _ = try await client.get([UInt8](repeating: 1, count: 17)) } == .invalidArgument)
                #expect(await statusCode { try await client.put("k", [UInt8](repeating: 1, count: 101)) } == .invalidArgument)
                try await client.put([UInt8](repeating: 1, count: 16), [UInt8](repeating: 1, count: 100))
                var batch = WriteBatch()
                batch.put("ok", "v")
                batch.put("big", [UInt8](repeating: 2, count: 101))
                do {
                    try await client.write(batch)
                    Issue.record("an oversized value in a batch was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                    #expect(error.message.contains("value"))
                }
                #expect(try await client.get("ok") == nil)  // the whole batch was refused
            }
        }
    }

    @Test func messagesOverTheLimitAreResourceExhausted() async throws {
        try await withServer({ $0.maxMessageBytes = 4096 }) { server in
            try await withClient(server) { client in
                do {
                    try await client.put("k", [UInt8](repeating: 7, count: 10_000))
                    Issue.record("a message over the limit was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .resourceExhausted, "\(error)")
                }
                try await client.put("k", [UInt8](repeating: 7, count: 1000))  // the connection still works
                #expect(try await client.get("k")?.count == 1000)
            }
        }
    }

    @Test func rangesThatDoNotAscendAreInvalidArguments() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                #expect(await statusCode { try await client.deleteRange(from: "b", to: "a") } == .invalidArgument)
                #expect(await statusCode { try await client.deleteRange(from: "b", to: "b") } == .invalidArgument)
                #expect(await statusCode { try await client.scan(from: Array("b".utf8), to: Array("a".utf8)) { _, _ in true } } == .invalidArgument)
                var batch = WriteBatch()
                batch.put("a", "1")
                batch.deleteRange(from: "z", to: "y")
                #expect(await statusCode { try await client.write(batch) } == .invalidArgument)
                let value = try await client.get("a")
                #expect(value == nil)
            }
        }
    }

    @Test func unknownSnapshotsAreInvalidArguments() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let bogus = RemoteSnapshot(id: 987_654, sequence: 0, ttlSeconds: 0)
                #expect(await statusCode { _ = try await client.get("k", at: bogus) } == .invalidArgument)
                #expect(await statusCode { _ = try await client.batchGet(["k"], at: bogus) } == .invalidArgument)
                #expect(await statusCode { try await client.scan(at: bogus) { _, _ in true } } == .invalidArgument)
                #expect(await statusCode { try await client.releaseSnapshot(bogus) } == .invalidArgument)
            }
        }
    }

    @Test func malformedBatchesAreInvalidArguments() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let request = Strata_V1_WriteRequest.with {
                    $0.mutations = [.with { $0.put = .with { $0.key = Data("a".utf8); $0.value = Data("1".utf8) } }, Strata_V1_Mutation()]
                }
                do {
                    _ = try await client.kv.write(request)
                    Issue.record("a mutation without an operation was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                    #expect(error.message.contains("mutation 1"))
                }
                #expect(try await client.get("a") == nil)
            }
        }
    }

    @Test func transactStreamsOutOfOrderAreInvalidArguments() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let request = StreamingClientRequest<Strata_V1_TransactRequest> { writer in
                    try await writer.write(.with { $0.put = .with { $0.key = Data("k".utf8) } })
                }
                let code = await statusCode {
                    try await client.kv.transact(request: request) { response in
                        for try await _ in response.messages {}
                    }
                }
                #expect(code == .invalidArgument)
                let value = try await client.get("k")
                #expect(value == nil)
            }
        }
    }
}
