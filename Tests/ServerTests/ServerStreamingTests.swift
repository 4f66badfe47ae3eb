import StrataTestSupport
import Engine
import GRPCCore
import Server
import Synchronization
import Testing

/// Scans stop at their deadline and when the client goes away; they never buffer the range.
@Suite struct ServerStreamingTests {
    /// 20,000 entries of 1 KiB: 20 MiB, about 80 chunks.
    func fill(_ client: StrataClient) async throws {
        let value = [UInt8](repeating: 0x61, count: 1024)
        for start in stride(from: 0, to: 20_000, by: 1000) {
            var batch = WriteBatch()
            for index in start..<start + 1000 { batch.put("key\(100_000 + index)", value) }
            try await client.write(batch)
        }
    }

    @Test func aScanStopsAtItsDeadline() async throws {
        try await withServer({ $0.metricsListen = "127.0.0.1:0" }) { server in
            try await withClient(server) { client in try await fill(client) }
            var configuration = server.client()
            configuration.timeout = .milliseconds(1000)
            let received = Shared(0)
            let code = await statusCode {
                try await StrataClient.withClient(configuration) { client in
                    try await client.scan { _, _ in
                        // A slow reader: 20,000 entries would take 20 s.
                        if received.withLock({ $0 += 1; return $0 }) % 100 == 0 { try await Task.sleep(for: .milliseconds(100)) }
                        return true
                    }
                }
            }
            #expect(code == .deadlineExceeded)
            #expect(received.current < 20_000)
            // The server's handler, if it started (entries arrived), ended too, without reading
            // to the end. (On a loaded machine the deadline can pass before the server starts the
            // call at all; then gRPC never runs the handler or its interceptors.)
            if received.current > 0 {
                let samples = try await waitForMetric(server, "strata_rpc_requests_total", ["method": "strata.v1.KV/Scan"])
                #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Scan", "code": "OK"]) == 0)
            }
        }
    }

    @Test func aScanStopsWhenTheClientCancels() async throws {
        try await withServer({ $0.metricsListen = "127.0.0.1:0" }) { server in
            try await withClient(server) { client in
                try await fill(client)
                let received = Shared(0)
                try await client.scan { _, _ in
                    received.withLock { $0 += 1; return $0 } < 500  // stop after 500 entries
                }
                #expect(received.current == 500)
                // The server saw the cancellation: its scan did not run to the end.
                let samples = try await waitForMetric(server, "strata_rpc_requests_total", ["method": "strata.v1.KV/Scan"])
                #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Scan", "code": "OK"]) == 0)
                #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Scan", "code": "CANCELLED"]) == 1,
                    "\(samples.samples.filter { $0.name == "strata_rpc_requests_total" }.map(\.labels))")
                // The connection and the server are fine afterwards.
                #expect(try await client.get("key100000")?.count == 1024)
            }
        }
    }

    @Test func aCancelledTaskCancelsItsScan() async throws {
        try await withServer({ $0.metricsListen = "127.0.0.1:0" }) { server in
            try await withClient(server) { client in
                try await fill(client)
                let received = Shared(0)
                let scan = Task {
                    try await client.scan { _, _ in
                        if received.withLock({ $0 += 1; return $0 }) % 100 == 0 { try await Task.sleep(for: .milliseconds(50)) }
                        return true
                    }
                }
                while received.current < 300 { try await Task.sleep(for: .milliseconds(10)) }
                scan.cancel()
                _ = await scan.result
                #expect(received.current < 20_000)
                let samples = try await waitForMetric(server, "strata_rpc_requests_total", ["method": "strata.v1.KV/Scan"])
                #expect(samples.value("strata_rpc_requests_total", ["method": "strata.v1.KV/Scan", "code": "OK"]) == 0)
            }
        }
    }

    /// Scrapes `/metrics` until `name` with `labels` has a sample (at most 30 s: on a loaded
    /// machine the server's handler may end seconds after the client gave up).
    func waitForMetric(_ server: RunningServer, _ name: String, _ labels: [String: String]) async throws -> PrometheusText {
        let port = try #require(await server.server.metricsPort)
        for _ in 0..<600 {
            let samples = try PrometheusText.parse(try httpGet(port: port, path: "/metrics").body)
            if samples.value(name, labels) > 0 { return samples }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(name) \(labels) never appeared")
        return PrometheusText()
    }
}
