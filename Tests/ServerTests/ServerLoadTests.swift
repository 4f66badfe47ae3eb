import StrataTestSupport
import Engine
import GRPCCore
import Server
import Synchronization
import Testing

/// Many clients at once, and `/metrics` scraped while they run.
@Suite struct ServerLoadTests {
    @Test func sixtyFourClientsMixingReadsAndWrites() async throws {
        try await withServer({ $0.metricsListen = "127.0.0.1:0" }) { server in
            let clients = 64
            let operations = 150
            let scrapes = Shared(0)
            let port = try #require(await server.server.metricsPort)
            // A scraper runs beside the load; every scrape must parse.
            let scraper = Task {
                while !Task.isCancelled {
                    let scrape = try httpGet(port: port, path: "/metrics")
                    #expect(scrape.status == 200)
                    _ = try PrometheusText.parse(scrape.body)
                    scrapes.withLock { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        // Each client has its own connection and its own keys, and reads a
                        // neighbour's keys (which may or may not exist yet).
                        try await StrataClient.withClient(server.client()) { connection in
                            for index in 0..<operations {
                                let key = "c\(client)-\(index)"
                                switch index % 5 {
                                case 0, 1, 2: try await connection.put(key, "v\(index)")
                                case 3: #expect(try await connection.get("c\(client)-\(index - 1)") == Array("v\(index - 1)".utf8))
                                default:
                                    let neighbour = try await connection.get("c\((client + 1) % clients)-0")
                                    #expect(neighbour == nil || neighbour == Array("v0".utf8))
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            scraper.cancel()
            _ = await scraper.result
            // Every acknowledged write is there.
            try await withClient(server) { client in
                for clientIndex in [0, 17, 63] {
                    let keys = (0..<operations).filter { $0 % 5 < 3 }.map { "c\(clientIndex)-\($0)" }
                    let values = try await client.batchGet(keys)
                    #expect(values.allSatisfy { $0 != nil })
                }
            }
            // The request counters match what was sent.
            let samples = try PrometheusText.parse(try httpGet(port: port, path: "/metrics").body)
            let puts = clients * (0..<operations).filter { $0 % 5 < 3 }.count
            let gets = clients * (0..<operations).filter { $0 % 5 >= 3 }.count
            #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Put", "code": "OK"]) == Double(puts))
            #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Get", "code": "OK"]) == Double(gets))
            #expect(samples.value("strata_rpc_duration_seconds_count", ["method": "strata.v1.KV/Put"]) == Double(puts))
            #expect(samples.types["strata_rpc_duration_seconds"] == "histogram")
            // The engine's statistics are there too.
            #expect(samples.value("strata_puts_total") == Double(puts))
            #expect(samples.types["strata_level_files"] == "gauge")
            #expect(scrapes.current > 0)
        }
    }

    @Test func connectionsBeyondTheLimitAreRefused() async throws {
        try await withServer({ $0.maxConnections = 2; $0.metricsListen = "127.0.0.1:0" }) { server in
            try await withClient(server) { first in
                try await first.put("a", "1")
                try await withClient(server) { second in
                    try await second.put("b", "2")
                    var configuration = server.client()
                    configuration.timeout = .seconds(2)
                    let code = await statusCode {
                        _ = try await StrataClient.withClient(configuration) { third in try await third.put("c", "3") }
                    }
                    #expect(code == .unavailable || code == .deadlineExceeded)
                    let port = try #require(await server.server.metricsPort)
                    let samples = try PrometheusText.parse(try httpGet(port: port, path: "/metrics").body)
                    #expect(samples.value("strata_server_connections_refused_total") >= 1)
                    #expect(samples.value("strata_server_connections") == 2)
                }
                #expect(try await first.get("c") == nil)
            }
        }
    }
}
