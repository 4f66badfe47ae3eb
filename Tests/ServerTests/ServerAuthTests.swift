import StrataTestSupport
import Engine
import GRPCCore
import Server
import Testing
import VFS

/// Bearer-token authentication: required for every call but health, compared exactly, counted.
@Suite struct ServerAuthTests {
    @Test func callsNeedTheTokenButHealthDoesNot() async throws {
        let directory = try TemporaryDirectory(prefix: "strata-auth")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let tokenFile = try writeFile(directory, "token", testToken + "\n")
        try await withServer({ $0.authTokenFile = tokenFile; $0.metricsListen = "127.0.0.1:0" }) { server in
            // No token.
            try await withClient(server) { client in
                #expect(await statusCode { try await client.put("k", "v") } == .unauthenticated)
                #expect(await statusCode { _ = try await client.get("k") } == .unauthenticated)
                #expect(await statusCode { try await client.scan { _, _ in true } } == .unauthenticated)
                let health = try await client.healthStatus()
                #expect(health == .serving)
            }
            // A wrong token, including the right one with a byte missing or added.
            for wrong in ["wrong-token-wrong-token", String(testToken.dropLast()), testToken + "x"] {
                try await withClient(server, token: try BearerToken(wrong)) { client in
                    #expect(await statusCode { try await client.put("k", "v") } == .unauthenticated)
                }
            }
            // The right token.
            try await withClient(server, token: try BearerToken(testToken)) { client in
                try await client.put("k", "v")
                #expect(try await client.get("k") == Array("v".utf8))
            }
            // Refusals are counted, and /metrics wants the token too.
            let port = try #require(await server.server.metricsPort)
            #expect(try httpGet(port: port, path: "/metrics").status == 401)
            #expect(try httpGet(port: port, path: "/metrics", headers: ["authorization": "Bearer nope"]).status == 401)
            let scrape = try httpGet(port: port, path: "/metrics", headers: ["authorization": "Bearer " + testToken])
            #expect(scrape.status == 200)
            let samples = try PrometheusText.parse(scrape.body)
            #expect(samples.value("strata_rpc_unauthenticated_total") == 6)
            #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Put", "code": "UNAUTHENTICATED"]) == 4)
            #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Put", "code": "OK"]) == 1)
        }
    }

    @Test func tokensMustBeLongAndPrintable() throws {
        #expect(throws: StrataError.self) { try BearerToken("short") }
        #expect(throws: StrataError.self) { try BearerToken("has a space in the middle of it") }
        #expect(throws: Never.self) { try BearerToken(testToken) }
    }

    @Test func listeningBeyondLoopbackNeedsAToken() throws {
        var configuration = ServerConfiguration(db: "/nonexistent")
        configuration.listen = "0.0.0.0:7379"
        #expect(throws: StrataError.self) { try configuration.validate() }
        configuration.listen = "127.0.0.1:7379"
        configuration.metricsListen = "0.0.0.0:9464"
        #expect(throws: StrataError.self) { try configuration.validate() }
        configuration.metricsListen = "127.0.0.1:9464"
        try configuration.validate()
        configuration.listen = "[::]:7379"
        configuration.authTokenFile = "/some/token"
        try configuration.validate()
        do {
            var open = ServerConfiguration(db: "/nonexistent")
            open.listen = "0.0.0.0:7379"
            try open.validate()
        } catch let StrataError.invalidArgument(message) {
            #expect(message.contains("without authentication"))
            #expect(message.contains("--auth-token-file"))
        }
    }
}
