import Testing
import Encoding
import StrataTestSupport
import VFS

/// `strata exec` driven through a pipe, one command at a time: each reply must arrive (flushed)
/// before the next command is sent.
@Suite struct ExecProtocolTests {
    /// Tiny buffers, so the session's writes flush and compact while it runs.
    let tuning = ["--write-buffer-size", "65536", "--target-file-size", "32768", "--level0-compaction-trigger", "2"]

    @Test func everyCommandGetsItsReply() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let session = try ChildProcess(Products.path("strata"), ["exec", "--db", db] + tuning)

        #expect(session.ask("put alpha one") == "OK")
        #expect(session.ask("put beta two words") == "OK")  // a value is the rest of the line
        #expect(session.ask("get alpha") == "VALUE one")
        #expect(session.ask("get beta") == "VALUE two words")
        #expect(session.ask("get gamma") == "NOTFOUND")
        #expect(session.ask("del alpha") == "OK")
        #expect(session.ask("get alpha") == "NOTFOUND")

        // Enough writes to flush and compact several times under the tiny buffers.
        for index in 0..<3_000 {
            session.send("put key\(String(index).leftPadded(to: 5)) value-\(index)-" + String(repeating: "x", count: 40))
        }
        for index in 0..<3_000 {
            guard session.readLine() == "OK" else {
                Issue.record("put \(index) got no OK")
                return
            }
        }
        #expect(session.ask("get key01234") == "VALUE value-1234-" + String(repeating: "x", count: 40))

        #expect(session.ask("delrange key00100 key02900") == "OK")
        #expect(session.ask("get key00100") == "NOTFOUND")
        #expect(session.ask("get key02900") == "VALUE value-2900-" + String(repeating: "x", count: 40))

        // scan A B LIMIT with "-" for an unbounded side.
        session.send("scan key00098 key02902 10")
        var lines: [String] = []
        while let line = session.readLine(), line != "END" { lines.append(line) }
        #expect(lines.map { String($0.prefix { $0 != "\t" }) } == ["key00098", "key00099", "key02900", "key02901"])
        #expect(lines.first?.contains("\tvalue-98-") == true)
        session.send("scan - key00002 5")
        #expect(session.readLine() == "beta\ttwo words")
        #expect(session.readLine()?.hasPrefix("key00000\t") == true)
        #expect(session.readLine()?.hasPrefix("key00001\t") == true)
        #expect(session.readLine() == "END")
        session.send("scan key02998 - 100")
        #expect(session.readLine()?.hasPrefix("key02998\t") == true)
        #expect(session.readLine()?.hasPrefix("key02999\t") == true)
        #expect(session.readLine() == "END")
        session.send("scan - - 0")
        #expect(session.readLine() == "END")

        // batch N: atomic.
        session.send("batch 3")  // no reply until the batch is complete
        session.send("put b1 x")
        session.send("del beta")
        session.send("delrange c0 c9")
        #expect(session.readLine() == "OK")
        #expect(session.ask("get b1") == "VALUE x")
        #expect(session.ask("get beta") == "NOTFOUND")
        // A malformed line rejects the whole batch: nothing of it is applied.
        session.send("batch 2")
        session.send("put b2 y")
        session.send("frobnicate")
        #expect(session.readLine()?.hasPrefix("ERR batch rejected") == true)
        #expect(session.ask("get b2") == "NOTFOUND")
        #expect(session.ask("batch 0") == "OK")

        // Snapshots.
        #expect(session.ask("put snap old") == "OK")
        #expect(session.ask("snapshot") == "SNAP 1")
        #expect(session.ask("put snap new") == "OK")
        #expect(session.ask("get@1 snap") == "VALUE old")
        #expect(session.ask("get snap") == "VALUE new")
        #expect(session.ask("release 1") == "OK")
        #expect(session.ask("get@1 snap")?.hasPrefix("ERR") == true)
        #expect(session.ask("release 1")?.hasPrefix("ERR") == true)

        #expect(session.ask("sync") == "OK")
        #expect(session.ask("flush") == "OK")

        // Malformed lines get ERR and the session continues.
        for bad in ["", "frobnicate x", "put", "put onlykey", "get", "get a b", "del", "delrange a", "batch", "batch -1",
                    "batch x", "scan a b", "scan a b -1", "scan a b x", "sync now", "snapshot 3", "release", "release x",
                    "get@ k", "get@x k", "quit now"] {
            let reply = session.ask(bad)
            #expect(reply?.hasPrefix("ERR ") == true, "\"\(bad)\" -> \(reply ?? "nothing")")
        }
        // Engine errors are ERR too.
        #expect(session.ask("delrange b a")?.hasPrefix("ERR ") == true)
        #expect(session.ask("get alpha") == "NOTFOUND")  // still alive

        session.send("quit")
        let end = session.finish()
        #expect(end.status == 0)
        #expect(end.output.isEmpty)

        // Everything acknowledged is there after reopening.
        let check = try runTool("strata", ["get", "--db", db, "key02901"])
        #expect(check.status == 0 && check.output == "value-2901-" + String(repeating: "x", count: 40) + "\n")
    }

    @Test func hexKeysAndValuesAndSyncedWrites() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let session = try ChildProcess(Products.path("strata"), ["exec", "--db", db, "--hex", "--sync"])
        #expect(session.ask("put 00ff10 deadbeef") == "OK")
        #expect(session.ask("get 00ff10") == "VALUE deadbeef")
        #expect(session.ask("put 00FF11 ") == "OK")  // empty value, upper-case hex
        #expect(session.ask("get 00ff11") == "VALUE ")
        session.send("scan 00 - 10")
        #expect(session.readLine() == "00ff10\tdeadbeef")
        #expect(session.readLine() == "00ff11\t")
        #expect(session.readLine() == "END")
        #expect(session.ask("get 0g")?.hasPrefix("ERR ") == true)
        #expect(session.ask("get 123")?.hasPrefix("ERR ") == true)  // odd number of digits
        let end = session.finish()  // end of input ends the session like quit
        #expect(end.status == 0)
    }

    @Test func transactionsInterleaveInOneSession() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let session = try ChildProcess(Products.path("strata"), ["exec", "--db", scratch.path + "/db", "--lock-timeout-ms", "100"] + tuning)
        #expect(session.ask("put doctor:a on") == "OK")
        #expect(session.ask("put doctor:b on") == "OK")
        // Write skew: both commit under snapshot isolation …
        #expect(session.ask("begin snapshot") == "TX 1")
        #expect(session.ask("begin snapshot") == "TX 2")
        #expect(session.ask("tget 1 doctor:b") == "VALUE on")
        #expect(session.ask("tget 2 doctor:a") == "VALUE on")
        #expect(session.ask("tput 1 doctor:a off") == "OK")
        #expect(session.ask("tput 2 doctor:b off") == "OK")
        #expect(session.ask("commit 1") == "OK")
        #expect(session.ask("commit 2") == "OK")
        // … and only one under serializable.
        #expect(session.ask("put doctor:a on") == "OK")
        #expect(session.ask("put doctor:b on") == "OK")
        #expect(session.ask("begin") == "TX 3")
        #expect(session.ask("begin serializable") == "TX 4")
        #expect(session.ask("tget 3 doctor:b") == "VALUE on")
        #expect(session.ask("tget 4 doctor:a") == "VALUE on")
        #expect(session.ask("tput 3 doctor:a off") == "OK")
        #expect(session.ask("tput 4 doctor:b off") == "OK")
        #expect(session.ask("commit 3") == "OK")
        #expect(session.ask("commit 4")?.hasPrefix("CONFLICT key doctor:a changed") == true)
        // Reads see the transaction's own writes, merged with the database, over its snapshot.
        #expect(session.ask("begin") == "TX 5")
        #expect(session.ask("tput 5 doctor:c on") == "OK")
        #expect(session.ask("tdel 5 doctor:b") == "OK")
        #expect(session.ask("put outside later") == "OK")
        session.send("tscan 5 - - 10")
        #expect(session.readLine() == "doctor:a\toff")
        #expect(session.readLine() == "doctor:c\ton")
        #expect(session.readLine() == "END")
        #expect(session.ask("tdelrange 5 doctor:a doctor:b") == "OK")
        #expect(session.ask("tget 5 doctor:a") == "NOTFOUND")
        #expect(session.ask("rollback 5") == "OK")
        #expect(session.ask("get doctor:a") == "VALUE off")
        // A lock held by another transaction of the session times out; the waiter stays usable.
        #expect(session.ask("begin pessimistic") == "TX 6")
        #expect(session.ask("begin pessimistic") == "TX 7")
        #expect(session.ask("tgetforupdate 6 doctor:a") == "VALUE off")
        #expect(session.ask("tput 7 doctor:a on")?.hasPrefix("ERR lock timeout") == true)
        #expect(session.ask("tput 7 doctor:z on") == "OK")
        #expect(session.ask("commit 6") == "OK")
        #expect(session.ask("commit 7") == "OK")
        // Unknown and finished transactions, bad modes and malformed lines: ERR, and on we go.
        for line in ["tget 5 doctor:a", "commit 99", "begin repeatable-read", "tput 1", "tscan 1 a", "rollback x", "tdelrange 7 b a"] {
            #expect(session.ask(line)?.hasPrefix("ERR") == true, "\(line)")
        }
        #expect(session.ask("get doctor:z") == "VALUE on")
        session.send("quit")
        #expect(session.finish().status == 0)
    }

    @Test func transactionsTakeHexKeysAndValues() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let session = try ChildProcess(Products.path("strata"), ["exec", "--db", scratch.path + "/db", "--hex"])
        #expect(session.ask("begin") == "TX 1")
        #expect(session.ask("tput 1 00ff 0a0b") == "OK")
        #expect(session.ask("tget 1 00ff") == "VALUE 0a0b")
        #expect(session.ask("commit 1") == "OK")
        #expect(session.ask("get 00ff") == "VALUE 0a0b")
        session.send("quit")
        #expect(session.finish().status == 0)
    }
}
