#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import StrataTestSupport
import VFS

/// The `strata` subcommands and their exit codes (0 ok, 1 not found, 2 usage, 3 corruption,
/// 4 I/O or lock), run as a user would run them.
@Suite struct CommandLineTests {
    func strata(_ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        try runTool("strata", arguments, input: input, environment: environment)
    }

    @Test func dataCommandsAndExitCodes() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = ["--db", scratch.path + "/db"]
        #expect(try strata(["put"] + db + ["k1", "v1"]).status == 0)
        #expect(try strata(["put"] + db + ["k2", "v2"]).status == 0)
        #expect(try strata(["put"] + db + ["p/a", "A"]).status == 0)
        #expect(try strata(["put"] + db + ["p/b", "B"]).status == 0)
        #expect(try strata(["get"] + db + ["k1"]) == (0, "v1\n", ""))
        let missing = try strata(["get"] + db + ["nope"])
        #expect(missing.status == 1 && missing.output.isEmpty)
        #expect(try strata(["delete"] + db + ["k1"]).status == 0)
        #expect(try strata(["get"] + db + ["k1"]).status == 1)

        #expect(try strata(["scan"] + db).output == "k2\tv2\np/a\tA\np/b\tB\n")
        #expect(try strata(["scan"] + db + ["--prefix", "p/"]).output == "p/a\tA\np/b\tB\n")
        #expect(try strata(["scan"] + db + ["--reverse", "--keys-only", "--limit", "2"]).output == "p/b\np/a\n")
        #expect(try strata(["scan"] + db + ["--from", "k3", "--to", "p/b"]).output == "p/a\tA\n")
        #expect(try strata(["delete-range"] + db + ["p/", "p0"]).status == 0)
        #expect(try strata(["scan"] + db).output == "k2\tv2\n")

        // The database defaults to $STRATA_DB.
        #expect(try strata(["get", "k2"], environment: ["STRATA_DB": scratch.path + "/db"]).output == "v2\n")

        // Hex keys and values.
        #expect(try strata(["put", "--hex"] + db + ["00ff", "0102"]).status == 0)
        #expect(try strata(["get", "--hex"] + db + ["00ff"]).output == "0102\n")

        // Usage errors: exit 2 with one line on stderr.
        for arguments in [["get"] + db, ["frobnicate"], ["get", "--compression", "brotli"] + db + ["k"], ["get", "--hex"] + db + ["zz"], ["put", "--no-such-flag"]] {
            let result = try strata(arguments)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(result.errors.hasPrefix("strata: ") && result.errors.filter { $0 == "\n" }.count == 1, "\(arguments): \(result.errors)")
        }
        // Reading a database that does not exist is an error, not a silent creation.
        let absent = try strata(["get", "--db", scratch.path + "/absent", "k"])
        #expect(absent.status == 2 && !FileSystemProbe.exists(scratch.path + "/absent/CURRENT"))

        let help = try strata(["--help"])
        #expect(help.status == 0)
        for line in ["0  ok", "1  not found (get)", "2  usage error", "3  corruption", "4  I/O error, or the database is locked"] {
            #expect(help.output.contains(line), "\(line)")
        }
    }

    /// Reading commands open the database read-only: they work while another process holds it
    /// open for writing. A writing command then fails with exit 4 naming the lock.
    @Test func readsWorkBesideAWriterProcessAndWritesAreExitCode4() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let holder = try ChildProcess(Products.path("strata"), ["exec", "--db", db])
        #expect(holder.ask("put k v") == "OK")
        #expect(try strata(["get", "--db", db, "k"]).output == "v\n")
        #expect(try strata(["scan", "--db", db]).output == "k\tv\n")
        #expect(try strata(["stats", "--db", db]).status == 0)
        #expect(try strata(["verify", "--db", db]).status == 0)
        let blocked = try strata(["put", "--db", db, "k", "other"])
        #expect(blocked.status == 4)
        #expect(blocked.errors.contains("lock"))
        holder.send("quit")
        #expect(holder.finish().status == 0)
        #expect(try strata(["get", "--db", db, "k"]).output == "v\n")
    }

    /// A writer process keeps rewriting five keys in one batch; `strata scan` processes beside it
    /// (read-only opens) always see one batch's five values, and the writer never gets an error.
    @Test func readOnlyCommandsSeeAConsistentStateWhileAWriterProcessWrites() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let writer = try ChildProcess(Products.path("strata"), ["exec", "--db", db, "--write-buffer-size", "8192", "--target-file-size", "8192"])
        var round = 0
        var errors: [String] = []
        func writeRound() {
            round += 1
            writer.send("batch 5")
            for key in 0..<5 { writer.send("put key\(key) \(round)-" + String(repeating: "x", count: 100)) }
            if let reply = writer.readLine(), reply != "OK" { errors.append(reply) }
        }
        for _ in 0..<20 { writeRound() }
        var scans = 0
        for _ in 0..<15 {
            for _ in 0..<30 { writeRound() }  // flushes and compactions keep happening
            let scan = try strata(["scan", "--db", db])
            #expect(scan.status == 0, "\(scan.errors)")
            let values = scan.output.split(separator: "\n").map { $0.split(separator: "\t")[1].split(separator: "-")[0] }
            #expect(values.count == 5 && Set(values).count == 1, "a read-only scan saw \(values)")
            scans += 1
        }
        writer.send("quit")
        #expect(writer.finish().status == 0)
        #expect(errors.isEmpty, "the writer was disturbed: \(errors)")
        #expect(scans == 15 && round == 470)
    }

    @Test func loadStatsCompactAndVerify() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = ["--db", scratch.path + "/db", "--write-buffer-size", "65536", "--target-file-size", "32768"]
        var lines = ""
        for index in 0..<5_000 { lines += "key\(String(index).leftPadded(to: 6))\tvalue \(index)\n" }
        let input = scratch.path + "/input.tsv"
        try PosixFileSystem().writeFile(input, Array(lines.utf8), sync: false)
        let load = try strata(["load"] + db + [input])
        #expect(load.status == 0 && load.output.hasPrefix("loaded 5000 records"), "\(load)")
        // From standard input too.
        let piped = try strata(["load"] + db + ["-"], input: "extra\tfrom stdin\n")
        #expect(piped.status == 0 && piped.output.hasPrefix("loaded 1 records"))
        #expect(try strata(["get"] + db + ["extra"]).output == "from stdin\n")
        let bad = try strata(["load"] + db + ["-"], input: "no tab here\n")
        #expect(bad.status == 2 && bad.errors.contains("-:1: expected KEY<TAB>VALUE"))

        let stats = try strata(["stats"] + db)
        #expect(stats.status == 0 && stats.output.contains("L0") && stats.output.contains("Write amplification"))
        let compact = try strata(["compact"] + db)
        #expect(compact.status == 0 && compact.output.contains("L6"))
        #expect(try strata(["get"] + db + ["key004999"]).output == "value 4999\n")

        let verify = try strata(["verify"] + db)
        #expect(verify.status == 0 && verify.output.contains("checked: manifest") && verify.output.hasSuffix("ok\n"), "\(verify)")

        // Damage one table: verify names it (and the offset) and exits 3.
        let names = try PosixFileSystem().listDirectory(scratch.path + "/db").filter { $0.hasSuffix(".sst") }.sorted()
        let table = scratch.path + "/db/" + names[0]
        var bytes = try PosixFileSystem().readFile(table)
        bytes[100] ^= 0x55
        try PosixFileSystem().writeFile(table, bytes, sync: false)
        let damaged = try strata(["verify"] + db)
        #expect(damaged.status == 3, "\(damaged)")
        #expect(damaged.output.contains("DAMAGED: \(table) at offset"), "\(damaged.output)")
        // Every table is counted, the damaged one included.
        #expect(damaged.output.contains("), \(names.count) tables ("), "\(damaged.output)")
    }

    @Test func dumpCommandsDescribeEachFile() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let path = scratch.path + "/db"
        let db = ["--db", path]
        #expect(try strata(["put"] + db + ["apple", "red"]).status == 0)
        #expect(try strata(["delete-range"] + db + ["b", "c"]).status == 0)
        // Opening flushes what the log held, so the second put's log survives, then flush it
        // through exec to get a table.
        let session = try ChildProcess(Products.path("strata"), ["exec"] + db)
        #expect(session.ask("put cherry dark") == "OK")
        #expect(session.ask("del apple") == "OK")
        session.send("quit")
        _ = session.finish()

        let files = try PosixFileSystem().listDirectory(path).sorted()
        let tables = files.filter { $0.hasSuffix(".sst") }
        let logs = files.filter { $0.hasPrefix("wal-") }
        #expect(!tables.isEmpty && !logs.isEmpty)

        var sawApple = false
        for table in tables {
            let dump = try strata(["dump-sst", path + "/" + table])
            #expect(dump.status == 0 && dump.output.contains("entries:"), "\(dump)")
            if dump.output.contains("apple@") { sawApple = true }
        }
        #expect(sawApple)

        var sawCherry = false
        for log in logs {
            let dump = try strata(["dump-wal", path + "/" + log])
            #expect(dump.status == 0 && dump.output.contains("segment "), "\(dump)")
            if dump.output.contains("PUT cherry -> dark") && dump.output.contains("DEL apple") { sawCherry = true }
        }
        #expect(sawCherry)

        let manifest = try strata(["dump-manifest"] + db)
        #expect(manifest.status == 0 && manifest.output.contains("manifest ") && manifest.output.contains("+ L0 #"), "\(manifest)")

        let notATable = try strata(["dump-sst", path + "/CURRENT"])
        #expect(notATable.status == 3, "\(notATable)")
    }
}

enum FileSystemProbe {
    static func exists(_ path: String) -> Bool { PosixFileSystem().exists(path) }
}

/// `--keyspace`, the keyspace commands and `ks` in `exec`.
@Suite struct KeyspaceCommandLineTests {
    func strata(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, errors: String) {
        try runTool("strata", arguments, input: input)
    }

    @Test func keyspacesFromTheCommandLine() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }
        let db = ["--db", scratch.path + "/db"]
        #expect(try strata(["put"] + db + ["k", "default"]).status == 0)
        // A keyspace must exist before --keyspace names it (exit 1, like a missing key).
        let missing = try strata(["put", "--keyspace", "users"] + db + ["k", "v"])
        #expect(missing.status == 1 && missing.errors.contains("no keyspace named \"users\""), "\(missing)")
        #expect(try strata(["create-keyspace"] + db + ["users", "--compression", "zstd", "--bloom-bits", "0"]) == (0, "created keyspace users\n", ""))
        #expect(try strata(["create-keyspace"] + db + ["users"]).output == "keyspace users exists\n")
        #expect(try strata(["create-keyspace"] + db + ["logs"]).status == 0)
        #expect(try strata(["keyspaces"] + db).output == "logs\nusers\n")

        #expect(try strata(["put", "--keyspace", "users"] + db + ["k", "ada"]).status == 0)
        #expect(try strata(["get", "--keyspace", "users"] + db + ["k"]).output == "ada\n")
        #expect(try strata(["get"] + db + ["k"]).output == "default\n")
        #expect(try strata(["get", "--keyspace", "logs"] + db + ["k"]).status == 1)
        let loaded = try strata(["load", "--keyspace", "logs"] + db + ["-"], input: "a\t1\nb\t2\nc\t3\n")
        #expect(loaded.status == 0, "\(loaded)")
        #expect(try strata(["scan", "--keyspace", "logs"] + db + ["--from", "b"]).output == "b\t2\nc\t3\n")
        #expect(try strata(["delete-range", "--keyspace", "logs"] + db + ["a", "c"]).status == 0)
        #expect(try strata(["delete", "--keyspace", "users"] + db + ["k"]).status == 0)
        #expect(try strata(["scan", "--keyspace", "logs"] + db).output == "c\t3\n")
        #expect(try strata(["get", "--keyspace", "users"] + db + ["k"]).status == 1)
        let compacted = try strata(["compact", "--keyspace", "logs"] + db)
        #expect(compacted.status == 0 && compacted.output.contains("Keyspace logs: 1 files"), "\(compacted)")
        #expect(try strata(["scan", "--keyspace", "default"] + db).output == "k\tdefault\n")

        // exec: `ks NAME` switches (creating), writes and reads follow it; --keyspace starts there.
        let session = try strata(["exec"] + db, input: "ks events\nput e1 x\nbatch 2\nput e2 y\ndel e1\nscan - - 10\nks default\nget k\nget e2\n")
        #expect(session.output == "OK\nOK\nOK\ne2\ty\nEND\nOK\nVALUE default\nNOTFOUND\n", "\(session)")
        #expect(try strata(["exec", "--keyspace", "events"] + db, input: "get e2\n").output == "VALUE y\n")
        // Inside a batch `ks` switches keyspace for the batch's next lines, but creates none.
        let spanning = try strata(["exec"] + db, input: "batch 4\nput b1 d\nks events\nput b1 e\nput b2 e\nbatch 2\nks nope\nput x y\nget b1\n")
        #expect(spanning.output == "OK\nERR batch rejected: no keyspace named \"nope\"\nVALUE e\n", "\(spanning)")
        #expect(try strata(["get"] + db + ["b1"]).output == "d\n")
        #expect(try strata(["keyspaces"] + db).output == "events\nlogs\nusers\n")

        #expect(try strata(["drop-keyspace"] + db + ["logs"]) == (0, "dropped keyspace logs\n", ""))
        #expect(try strata(["drop-keyspace"] + db + ["logs"]).status == 1)
        #expect(try strata(["keyspaces"] + db).output == "events\nusers\n")
        #expect(try strata(["verify"] + db).status == 0)
        // With --server, --keyspace is sent to the server: ServerKeyspaceTests.
    }
}

/// SIGKILL of a `strata exec` process writing batches that span three keyspaces: after every
/// restart each keyspace holds exactly the same batches (all-or-nothing across keyspaces), and
/// at least every acknowledged one (an unsynced write survives a process crash).
@Suite struct KeyspaceKillTests {
    @Test func crossKeyspaceBatchesAreWholeAfterKills() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }
        let db = scratch.path + "/db"
        var random = SplitMix64(seed: 2026)
        var acknowledged = 0
        var next = 0
        for round in 0..<6 {
            let writer = try ChildProcess(Products.path("strata"), ["exec", "--db", db, "--write-buffer-size", "16384", "--target-file-size", "16384"])
            if round == 0 { for name in ["a", "b"] { #expect(writer.ask("ks \(name)") == "OK") } }
            let batches = 50 + Int(random.next() % 300)
            for _ in 0..<batches {
                let key = "k" + String(next).leftPadded(to: 6)
                let value = String(repeating: "v", count: Int(random.next() % 300))
                writer.send("batch 6")
                for keyspace in ["default", "a", "b"] {
                    writer.send("ks \(keyspace)")
                    writer.send("put \(key) \(value)")
                }
                next += 1
            }
            // Wait for some of the replies (one OK per batch), then kill in the middle of the rest.
            let waitFor = Int(random.next() % UInt64(batches))
            for _ in 0..<waitFor {
                guard let reply = writer.readLine(timeout: 30) else { break }
                #expect(reply == "OK", "round \(round): \(reply)")
                acknowledged += 1
            }
            kill(writer.pid, SIGKILL)
            // Replies that arrived after the last one read were written before the kill too.
            acknowledged += writer.finish().output.split(separator: "\n").filter { $0 == "OK" }.count

            var contents: [String] = []
            for keyspace in ["default", "a", "b"] {
                let scan = try runTool("strata", ["scan", "--db", db, "--keyspace", keyspace, "--keys-only"])
                #expect(scan.status == 0, "\(scan)")
                contents.append(scan.output)
            }
            #expect(contents[1] == contents[0] && contents[2] == contents[0], "round \(round): the keyspaces hold different batches")
            let stored = contents[0].split(separator: "\n").count
            #expect(stored >= acknowledged, "round \(round): \(stored) batches stored, \(acknowledged) acknowledged")
            // Continue numbering after what is stored (unacknowledged batches may be missing).
            next = stored
            acknowledged = stored
        }
        #expect(try runTool("strata", ["verify", "--db", db]).status == 0)
    }
}
