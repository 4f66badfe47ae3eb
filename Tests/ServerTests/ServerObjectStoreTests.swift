#if canImport(Glibc)
import Glibc
#endif
import StrataTestSupport
import Testing
import VFS

/// `strata-server --object-store … --durability store`: what a client was told is written
/// survives the server's machine (killed, its directory deleted), and a new server restores it.
@Suite struct ServerObjectStoreTests {
    @Test func storeDurableWritesThroughTheServerSurviveLosingItsDisk() throws {
        let directory = try TemporaryDirectory(prefix: "strata-server-store")
        defer { withExtendedLifetime(directory) {} }
        let store = "file://" + directory.path + "/store"
        let first = try ServerProcessTests.ServerProcess(["--db", directory.path + "/a", "--object-store", store, "--durability", "store"])
        for index in 0..<20 {
            let put = try runTool("strata", ["--server", first.address, "put", "key\(index)", "value\(index)"])
            #expect(put.status == 0, "\(put.errors)")
        }
        _ = first.stop(SIGKILL)
        TemporaryDirectory.removeTree(directory.path + "/a")

        // A new server on an empty directory restores from the store and takes over.
        let second = try ServerProcessTests.ServerProcess(["--db", directory.path + "/b", "--object-store", store, "--durability", "store"])
        let scan = try runTool("strata", ["--server", second.address, "scan"])
        #expect(scan.status == 0)
        #expect(scan.output.split(separator: "\n").count == 20, "\(scan.output)")
        let get = try runTool("strata", ["--server", second.address, "get", "key7"])
        #expect(get.output == "value7\n")
        #expect(second.stop().status == 0)
        let badSettings = try runTool("strata-server", ["--db", directory.path + "/c", "--durability", "store"])
        #expect(badSettings.status == 2, "durability store without a store is a bad setting: \(badSettings.errors)")
    }

    /// A primary server and a replica server on one store, checked by an independent client.
    @Test func aReplicaServerReadsYourWritesRefusesWritesAndReportsLag() throws {
        let script = String(#filePath.dropLast("ServerObjectStoreTests.swift".count)) + "python/replica_check.py"
        let directory = try TemporaryDirectory(prefix: "strata-server-replica")
        defer { withExtendedLifetime(directory) {} }
        let store = "file://" + directory.path + "/store"
        let primary = try ServerProcessTests.ServerProcess(["--db", directory.path + "/primary", "--object-store", store])
        let put = try runTool("strata", ["--server", primary.address, "put", "before", "replica"])
        #expect(put.status == 0, "\(put.errors)")
        let replica = try ServerProcessTests.ServerProcess([
            "--db", directory.path + "/replica", "--object-store", store, "--replica", "--replica-poll-ms", "50", "--max-replica-lag", "30",
            "--metrics-listen", "127.0.0.1:0",
        ])
        let metricsLine = replica.child.readLine(timeout: 30) ?? ""
        let metricsPort = Int(metricsLine.split(separator: ":").last ?? "") ?? 0
        #expect(metricsPort > 0, "\(metricsLine)")
        let check = try ChildProcess("/usr/bin/env", ["python3", script, "--primary", String(primary.port), "--replica", String(replica.port)],
                                     environment: pythonEnvironment()).finish(timeout: 300)
        #expect(check.status == 0, "\(check.output)\(check.errors)")
        #expect(check.output.contains("ok: 50 writes"), "\(check.output)")
        // The lag is in /metrics (reported every few seconds).
        var metrics = ""
        for _ in 0..<100 where !metrics.contains("strata_replica_seconds_behind") {
            metrics = (try? httpGet(port: metricsPort, path: "/metrics").body) ?? ""
            if !metrics.contains("strata_replica_seconds_behind") { usleep(200_000) }
        }
        #expect(metrics.contains("strata_replica_applied_sequence") && metrics.contains("strata_replica_seconds_behind"))
        let get = try runTool("strata", ["--server", replica.address, "get", "before"])
        #expect(get.output == "replica\n", "\(get.output)\(get.errors)")
        #expect(replica.stop().status == 0)
        #expect(primary.stop().status == 0)
        let bad = try runTool("strata-server", ["--db", directory.path + "/c", "--replica"])
        #expect(bad.status == 2, "a replica without a store is a bad setting: \(bad.errors)")
    }
}
