import StrataTestSupport
import Testing
import VFS

/// The CLI's object-store commands and flags: writing through a store, `objects ls|verify`,
/// `restore`, a cached open with `--local-cache-bytes`, and the usage errors.
@Suite struct ObjectStoreCommandTests {
    @Test func writeListVerifyRestoreAndOpenWithALocalCache() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-objects")
        let store = "file://" + scratch.path + "/store"
        let value = String(repeating: "x", count: 300)
        // Enough data for several tables and checkpoints, and more than the 1 MiB cache below:
        // 60 store-durable batches of 100 puts (about 2 MB).
        let input = (0..<60).map { batch in
            "batch 100\n" + (0..<100).map { "put key\(batch * 100 + $0) \(batch * 100 + $0)-\(value)\n" }.joined()
        }.joined()
        let write = try runTool("strata", [
            "exec", "--db", scratch.path + "/writer", "--object-store", store, "--durability", "store", "--compression", "none",
            "--write-buffer-size", "65536", "--checkpoint-wal-bytes", "65536", "--wal-upload-interval-ms", "5",
        ], input: input)
        #expect(write.status == 0, "\(write.errors)")

        let listing = try runTool("strata", ["objects", "ls", "--object-store", store])
        #expect(listing.status == 0)
        let keys = listing.output.split(separator: "\n").compactMap { $0.split(separator: "\t").last.map(String.init) }
        #expect(keys.contains { $0.hasPrefix("manifest/") } && keys.contains { $0.hasPrefix("wal/") } && keys.contains { $0.hasPrefix("tables/") }, "\(keys)")
        let verify = try runTool("strata", ["objects", "verify", "--object-store", store])
        #expect(verify.status == 0 && verify.output.contains("ok"), "\(verify.output)\(verify.errors)")

        let restore = try runTool("strata", ["restore", "--db", scratch.path + "/copy", "--object-store", store])
        #expect(restore.status == 0, "\(restore.errors)")
        let get = try runTool("strata", ["get", "--db", scratch.path + "/copy", "key5999"])
        #expect(get.output == "5999-\(value)\n", "\(get.output)\(get.errors)")

        // A new writer with a 1 MiB table cache reads every key: tables come down on first use,
        // and the store's tables kept locally stay within the budget (plus the tables being
        // fetched at the moment by the reads and by compaction).
        let cached = scratch.path + "/cached"
        let reads = try runTool("strata", [
            "exec", "--db", cached, "--object-store", store, "--local-cache-bytes", "1048576",
        ], input: stride(from: 1, to: 6000, by: 3).map { "get key\($0)\n" }.joined() + "get absent\n")  // under 64 KiB of input
        #expect(reads.status == 0, "\(reads.errors)")
        let answers = reads.output.split(separator: "\n")
        #expect(answers.count == 2001 && answers[2] == "VALUE 7-\(value)" && answers[1999] == "VALUE 5998-\(value)" && answers[2000] == "NOTFOUND")
        var storeTables: [String: UInt64] = [:]
        for line in listing.output.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2, fields[1].hasPrefix("tables/"), let size = UInt64(fields[0]) { storeTables[String(fields[1].split(separator: "-").last!)] = size }
        }
        let fileSystem = PosixFileSystem()
        let cachedBytes = try fileSystem.listDirectory(cached).filter { storeTables[$0] != nil }.reduce(UInt64(0)) { $0 + (try fileSystem.fileSize(cached + "/" + $1)) }
        let storeBytes = storeTables.values.reduce(0, +)
        #expect(storeBytes > 1 << 20 && cachedBytes <= (1 << 20) + 2 * (storeTables.values.max() ?? 0), "\(cachedBytes) of \(storeBytes) bytes local")
        withExtendedLifetime(scratch) {}
    }

    @Test func aReplicaFollowsRefusesWritesAndIsPromoted() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-replica")
        let store = "file://" + scratch.path + "/store"
        let primary = scratch.path + "/primary"
        let first = try runTool("strata", ["exec", "--db", primary, "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5"],
                                input: (0..<50).map { "put k\($0) v\($0)\n" }.joined())
        #expect(first.status == 0, "\(first.errors)")

        let replica = scratch.path + "/replica"
        let reads = try runTool("strata", ["exec", "--replica", "--db", replica, "--object-store", store, "--replica-poll-ms", "50"],
                                input: "get k49\nput x y\n")
        #expect(reads.status == 0, "\(reads.errors)")
        let lines = reads.output.split(separator: "\n")
        #expect(lines == ["VALUE v49", "ERR database is read-only: replica"], "\(reads.output)")

        // The primary writes more; the replica, reopened, catches up.
        let second = try runTool("strata", ["exec", "--db", primary, "--object-store", store, "--durability", "store", "--wal-upload-interval-ms", "5"],
                                 input: "put late write\n")
        #expect(second.status == 0, "\(second.errors)")
        let caughtUp = try runTool("strata", ["exec", "--replica", "--db", replica, "--object-store", store], input: "get late\n")
        #expect(caughtUp.output == "VALUE write\n", "\(caughtUp.output)\(caughtUp.errors)")

        let promote = try runTool("strata", ["promote", "--db", replica, "--object-store", store])
        #expect(promote.status == 0 && promote.output.contains("promoted"), "\(promote.output)\(promote.errors)")
        let writes = try runTool("strata", ["exec", "--db", replica, "--object-store", store, "--durability", "store"], input: "put after promotion\nget k0\n")
        #expect(writes.output == "OK\nVALUE v0\n", "\(writes.output)\(writes.errors)")
        // The old primary's directory diverged from the store: refused, never merged.
        let old = try runTool("strata", ["exec", "--db", primary, "--object-store", store], input: "put zombie write\n")
        #expect(old.status != 0 && old.errors.contains("diverged"), "\(old.output)\(old.errors)")
        withExtendedLifetime(scratch) {}
    }

    @Test func badObjectStoreFlagsAreUsageErrors() throws {
        let scratch = try TemporaryDirectory(prefix: "strata-objects-usage")
        let noStore = try runTool("strata", ["put", "--db", scratch.path + "/db", "--local-cache-bytes", "1048576", "k", "v"])
        #expect(noStore.status == 2 && noStore.errors.contains("--local-cache-bytes needs --object-store"), "\(noStore.errors)")
        let store = "file://" + scratch.path + "/store"
        let badRate = try runTool("strata", ["put", "--db", scratch.path + "/db", "--object-store", store, "--object-store-faults", "0.9", "k", "v"])
        #expect(badRate.status == 2 && badRate.errors.contains("--object-store-faults"), "\(badRate.errors)")
        let small = try runTool("strata", ["put", "--db", scratch.path + "/db", "--object-store", store, "--local-cache-bytes", "1000", "k", "v"])
        #expect(small.status == 2 && small.errors.contains("localCacheBytes"), "\(small.errors)")
        withExtendedLifetime(scratch) {}
    }
}
