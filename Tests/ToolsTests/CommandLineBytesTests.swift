#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import StrataTestSupport
import VFS

/// `strata` with bytes that are not plain text, bad input, and its help and version.
@Suite struct CommandLineBytesTests {
    func strata(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, errors: String) {
        try runTool("strata", arguments, input: input)
    }

    func strata(raw arguments: [[UInt8]], input: [UInt8] = []) -> (status: Int32, output: String, errors: String) {
        guard let child = try? ChildProcess(Products.path("strata"), rawArguments: arguments) else { return (-1, "", "cannot start") }
        if !input.isEmpty { child.send(bytes: input) }
        return child.finish()
    }

    @Test func argumentsThatAreNotUTF8AreRefusedAndHexCarriesAnyBytes() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = Array(scratch.path.utf8) + Array("/db".utf8)
        let refused = strata(raw: [Array("put".utf8), Array("--db".utf8), db, [0x6B, 0xFF], Array("v".utf8)])
        #expect(refused.status == 2)
        #expect(refused.errors.contains("not valid UTF-8") && refused.errors.contains("--hex") && refused.errors.contains("0x6bff"), "\(refused.errors)")
        // Nothing was stored (the database was not even created).
        #expect(!PosixFileSystem().exists(scratch.path + "/db/CURRENT"))

        let path = scratch.path + "/db"
        #expect(try strata(["put", "--db", path, "--hex", "0x6bff", "00ff10"]).status == 0)
        #expect(try strata(["get", "--db", path, "--hex", "6BFF"]).output == "00ff10\n")
        #expect(try strata(["get", "--db", path, "--hex", "0X6bff"]).output == "00ff10\n")
        // As text the value is not UTF-8: refused with a hint, never replaced.
        let text = try strata(["scan", "--db", path, "--keys-only"])
        #expect(text.output == "k\\xff\n")
        let binary = try strata(["get", "--db", path, "--hex", "6bff"])
        #expect(binary.status == 0)
        let put = try strata(["put", "--db", path, "plain", "text"])
        #expect(put.status == 0)
        let asText = strata(raw: [Array("get".utf8), Array("--db".utf8), Array(path.utf8), Array("k".utf8)])
        #expect(asText.status == 1)  // "k" is not "k\xff"
    }

    @Test func scanEscapesAndLoadReadsBackExactlyTheSameBytes() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let source = scratch.path + "/source"
        let copy = scratch.path + "/copy"
        let pairs: [([UInt8], [UInt8])] = [
            (Array("tab\there".utf8), Array("line\nbreak".utf8)),
            (Array("back\\slash".utf8), Array("carriage\rreturn".utf8)),
            ([0x00, 0xFF, 0x10], [0xC3, 0x28, 0x80]),  // not UTF-8
            (Array("héllo".utf8), Array("wörld ✓".utf8)),  // UTF-8 stays as it is
            (Array("x".utf8), []),
        ]
        for (key, value) in pairs {
            let hexKey = pairs.isEmpty ? "" : hex(key)
            #expect(try strata(["put", "--db", source, "--hex", hexKey, hex(value).isEmpty ? "0x" : hex(value)]).status == 0)
        }
        let scanned = try strata(["scan", "--db", source])
        #expect(scanned.status == 0)
        #expect(scanned.output.contains("tab\\there\tline\\nbreak\n"))
        #expect(scanned.output.contains("back\\\\slash\tcarriage\\rreturn\n"))
        #expect(scanned.output.contains("\\x00\\xff\\x10\t\\xc3(\\x80\n"))
        #expect(scanned.output.contains("héllo\twörld ✓\n"))
        #expect(scanned.output.filter { $0 == "\n" }.count == pairs.count)
        let loaded = try strata(["load", "--db", copy, "-"], input: scanned.output)
        #expect(loaded.status == 0 && loaded.output.hasPrefix("loaded 5 records"), "\(loaded)")
        #expect(try strata(["scan", "--db", copy, "--hex"]).output == strata(["scan", "--db", source, "--hex"]).output)
        #expect(try strata(["scan", "--db", copy]).output == scanned.output)
        // A value that is not UTF-8 is not printed as text by get.
        let refused = try strata(["get", "--db", source, "--hex", "00ff10"])
        #expect(refused.status == 0 && refused.output == "c32880\n")
        let asText = strata(raw: [Array("get".utf8), Array("--db".utf8), Array(source.utf8), Array("x".utf8)])
        #expect(asText.status == 0 && asText.output == "\n")
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    @Test func loadNamesTheFirstBadLineAndWhatItCommitted() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let input = "a\t1\nb\t2\nc\t3\nd\t4\ne\t5\nno tab\nf\t6\n"
        let bad = try strata(["load", "--db", db, "--batch-size", "2", "-"], input: input)
        #expect(bad.status == 2)
        #expect(bad.errors.contains("-:6: expected KEY<TAB>VALUE; 4 records committed before this line"), "\(bad.errors)")
        // Exactly the committed batches are there: a–d, not e (its batch held the bad line).
        #expect(try strata(["scan", "--db", db, "--keys-only"]).output == "a\nb\nc\nd\n")
        let empty = try strata(["load", "--db", db, "-"], input: "k\tv\n\tvalue\n")
        #expect(empty.status == 2 && empty.errors.contains("-:2: empty key; 0 records committed"), "\(empty.errors)")
        let escape = try strata(["load", "--db", db, "-"], input: "k\\q\tv\n")
        #expect(escape.status == 2 && escape.errors.contains("-:1:") && escape.errors.contains("unknown escape"), "\(escape.errors)")
        let notUTF8 = strata(raw: [Array("load".utf8), Array("--db".utf8), Array(db.utf8), Array("-".utf8)], input: Array("ok\t1\n".utf8) + [0x6B, 0xFF, 0x09, 0x76, 0x0A])
        #expect(notUTF8.status == 2 && notUTF8.errors.contains(":2: line 2 is not valid UTF-8"), "\(notUTF8.errors)")
        #expect(try strata(["load", "--db", db, "--batch-size", "0", "-"], input: "k\tv\n").errors.contains("--batch-size must be at least 1"))
    }

    @Test func execAnswersABatchCutShortAndUnreadableLines() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        let cut = try strata(["exec", "--db", db], input: "put a 1\nbatch 3\nput b 2\n")
        #expect(cut.output == "OK\nERR batch cut short: expected 3 lines, got 1; nothing of it was written\n", "\(cut)")
        #expect(try strata(["get", "--db", db, "b"]).status == 1)
        let unreadable = strata(raw: [Array("exec".utf8), Array("--db".utf8), Array(db.utf8)], input: Array("put x\\ty 1\n".utf8) + [0x67, 0x65, 0x74, 0x20, 0xFF, 0x0A] + Array("get x\\ty\n".utf8))
        let lines = unreadable.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[0] == "OK" && lines[1].hasPrefix("ERR line 2 is not valid UTF-8") && lines[2] == "VALUE 1", "\(unreadable)")
    }

    @Test func optionsSayWhatIsWrongAndHelpShowsWhatMatters() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = scratch.path + "/db"
        #expect(try strata(["put", "--db", db, "k", "v"]).status == 0)
        let limit = try strata(["scan", "--db", db, "--limit", "-1"])
        #expect(limit.status == 2 && limit.errors.contains("--limit must be 0 or more, not -1"), "\(limit.errors)")
        #expect(try strata(["scan", "--db", db, "--limit", "0"]).output == "")
        let version = try strata(["--version"])
        #expect(version.status == 0 && version.output == "0.2.0\n")
        let help = try strata(["scan", "--help"])
        #expect(help.status == 0 && help.output.contains("--limit") && !help.output.contains("--write-buffer-size"))
        #expect(help.output.contains("Last key first"))
        let hidden = try strata(["scan", "--help-hidden"])
        #expect(hidden.output.contains("--write-buffer-size"))
    }

    @Test func checkpointAndRepairFromTheCommandLine() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let db = ["--db", scratch.path + "/db", "--write-buffer-size", "65536"]
        var lines = ""
        for index in 0..<3_000 { lines += "key\(String(index).leftPadded(to: 6))\tvalue \(index)\n" }
        #expect(try strata(["load"] + db + ["-"], input: lines).status == 0)
        let checkpoint = try strata(["checkpoint"] + db + [scratch.path + "/copy"])
        #expect(checkpoint.status == 0 && checkpoint.output.hasPrefix("checkpoint "), "\(checkpoint)")
        #expect(try strata(["get", "--db", scratch.path + "/copy", "key002999"]).output == "value 2999\n")
        #expect(try strata(["checkpoint"] + db + [scratch.path + "/copy"]).status == 2)  // not empty

        for name in try PosixFileSystem().listDirectory(scratch.path + "/db") where name.hasPrefix("MANIFEST") || name == "CURRENT" {
            try PosixFileSystem().removeFile(scratch.path + "/db/" + name)
        }
        let repair = try strata(["repair"] + db)
        #expect(repair.status == 0 && repair.output.contains("repaired: last sequence 3000"), "\(repair)")
        #expect(try strata(["scan"] + db + ["--keys-only"]).output.filter { $0 == "\n" }.count == 3_000)
        #expect(try strata(["verify"] + db).status == 0)
    }
}
