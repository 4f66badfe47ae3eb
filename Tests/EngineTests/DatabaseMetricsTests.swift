import MetricsTestKit
import Testing
import Encoding
import Strata
import VFS

@Suite struct DatabaseMetricsTests {
    @Test func statisticsReachSwiftMetricsAsCountersGaugesAndTimers() throws {
        let metrics = TestMetrics()
        var options = testOptions(MemoryFileSystem())
        options.metricsFactory = metrics
        options.metricsInterval = nil  // reports only when asked, so the test is deterministic
        let db = try Database.open(at: "/db", options: options)
        defer { try? db.close() }
        let dimensions = [("database", "/db")]
        for index in 0..<10 { try db.put("k\(index)", "v") }
        _ = try db.get("k1")
        db.reportMetrics()
        #expect(try metrics.expectCounter("strata_puts_total", dimensions).totalValue == 10)
        #expect(try metrics.expectCounter("strata_gets_total", dimensions).totalValue == 1)
        for index in 0..<5 { try db.put("more\(index)", "v") }
        try db.flush()
        db.reportMetrics()
        // Counters grow by what happened since the last report.
        #expect(try metrics.expectCounter("strata_puts_total", dimensions).totalValue == 15)
        #expect(try metrics.expectCounter("strata_flushes_total", dimensions).totalValue >= 1)
        #expect(try metrics.expectGauge("strata_level_files", dimensions + [("level", "0")]).lastValue ?? 0 >= 1)
        #expect(try metrics.expectGauge("strata_read_only", dimensions).lastValue == 0)
        #expect(try metrics.expectTimer("strata_flush_duration", dimensions).values.count >= 1)
    }

    @Test func withoutABackendNothingIsReported() throws {
        // The default factory is swift-metrics' no-op handler in this process: reports are skipped.
        var options = testOptions(MemoryFileSystem())
        options.metricsInterval = 0.01
        let db = try Database.open(at: "/db", options: options)
        try db.put("a", "b")
        db.reportMetrics()
        try db.close()
    }
}
