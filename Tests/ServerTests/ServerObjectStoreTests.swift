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
}
