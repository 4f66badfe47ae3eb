#if canImport(Glibc)
import Glibc
#endif
import Engine
import Foundation
import StrataTestSupport
import Tables
import Testing
import VFS

/// SIGKILL during indexed writes and during a backfill (strata-tables-stress, a child process):
/// after every restart each record is the last acknowledged write (or the one in flight), the
/// unique index names exactly the model's records, and `verify()` finds records and index
/// entries in exact agreement; the interrupted backfill completes from its recorded progress.
@Suite struct TablesCrashTests {
    /// What the child reported: acknowledged records, and the write in flight when it died.
    struct Model {
        var records: [UInt64: User] = [:]
        /// The key of the unacknowledged write and what it would have written (`nil`: a delete).
        var inFlight: (key: UInt64, value: User?)?

        /// Applies one line of the child's output.
        mutating func apply(_ line: String) throws {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            switch parts.first {
            case "try":
                let key = UInt64(parts[1])!
                inFlight = (key, parts[2] == "put" ? try JSONDecoder().decode(User.self, from: Data(parts[3].utf8)) : nil)
            case "put":
                records[UInt64(parts[1])!] = inFlight!.value
                inFlight = nil
            case "del":
                records[UInt64(parts[1])!] = nil
                inFlight = nil
            case "refused":
                inFlight = nil
            default:
                break
            }
        }

        /// Adopts what the database shows for the in-flight key (either outcome is allowed).
        mutating func settle(_ stored: User?, sourceLocation: SourceLocation = #_sourceLocation) {
            guard let (key, value) = inFlight else { return }
            #expect(stored == records[key] || stored == value, "key \(key): \(String(describing: stored))", sourceLocation: sourceLocation)
            records[key] = stored
            inFlight = nil
        }
    }

    /// Runs the child until it reported `acknowledgements` writes (or ended) — with `backfill`,
    /// also until its backfill reported progress (or finished) — then kills it.
    func runAndKill(_ directory: String, seed: UInt64, acknowledgements: Int, indexCount: Int, backfill: Bool, into model: inout Model) throws {
        let child = try ChildProcess(
            Products.path("strata-tables-stress"),
            [directory, String(seed), "100000", String(indexCount)] + (backfill ? ["--backfill"] : []))
        var acknowledged = 0
        var backfillMoved = !backfill
        while acknowledged < acknowledgements || !backfillMoved, let line = child.readLine(timeout: 30) {
            #expect(!line.hasPrefix("error") && !line.hasPrefix("backfill failed"), "\(line)")
            try model.apply(line)
            if line.hasPrefix("put") || line.hasPrefix("del") || line.hasPrefix("refused") { acknowledged += 1 }
            if line == "progress" || line == "built" || line == "done" { backfillMoved = true }
        }
        kill(child.pid, SIGKILL)
        let ending = child.finish()
        // Lines that arrived after the last one read count too: they were written before the kill.
        for line in ending.output.split(separator: "\n") { try model.apply(String(line)) }
    }

    /// Reopens, settles the in-flight write, and checks records, the unique index and verify().
    func check(_ directory: String, indexCount: Int, model: inout Model, round: Int) throws {
        let db = try Database.open(at: directory, options: tableTestOptions(PosixFileSystem()))
        defer { try? db.close() }
        let fixture = UserSchema(indexCount: indexCount)
        let users = try Table(fixture.schema, in: db, buildIndexes: false)
        if let (key, _) = model.inFlight { model.settle(try users.get(key)) }
        let stored = try users.query().collect()
        #expect(stored.map(\.key) == model.records.keys.sorted(), "round \(round): the keys")
        #expect(stored.allSatisfy { model.records[$0.key] == $0.value }, "round \(round): the values")
        if users.indexState("byEmail") == .ready {
            for (key, user) in model.records {
                #expect(try users.first(fixture.byEmail, equals: user.email)?.key == key, "round \(round): email \(user.email)")
            }
        }
        let report = try users.verify()
        #expect(report.isConsistent, "round \(round): \(report)")
    }

    @Test(.timeLimit(.minutes(3))) func killsDuringIndexedWritesAndABackfill() throws {
        let scratch = try TemporaryDirectory(prefix: "tables-crash")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path + "/db"
        var model = Model()
        var generator = SplitMix64(seed: UInt64(time(nil)))
        // Writes with two indexes, killed at random points.
        for round in 0..<4 {
            try runAndKill(directory, seed: generator.next(), acknowledgements: 100 + Int(generator.next() % 400), indexCount: 2, backfill: false, into: &model)
            try check(directory, indexCount: 2, model: &model, round: round)
        }
        // The third index declared: a backfill runs beside the writes, and is killed too.
        var sawProgress = false
        for round in 4..<8 {
            try runAndKill(directory, seed: generator.next(), acknowledgements: 10 + Int(generator.next() % 60), indexCount: 3, backfill: true, into: &model)
            try check(directory, indexCount: 3, model: &model, round: round)
            let db = try Database.open(at: directory, options: tableTestOptions(PosixFileSystem()))
            if case .building(let progress?) = try Table(UserSchema().schema, in: db, buildIndexes: false).indexState("byTag"), !progress.isEmpty { sawProgress = true }
            try db.close()
        }
        // Finish the backfill in-process; everything agrees.
        let db = try Database.open(at: directory, options: tableTestOptions(PosixFileSystem()))
        let fixture = UserSchema()
        let users = try Table(fixture.schema, in: db)
        #expect(users.indexState("byTag") == .ready)
        let report = try users.verify()
        #expect(report.isConsistent, "\(report)")
        for tag in (0..<5).map({ "t\($0)" }) {
            #expect(try users.query(fixture.byTag).equals(tag).collect().map(\.key) == model.records.filter { $0.value.tags.contains(tag) }.keys.sorted())
        }
        try db.close()
        // The child builds one record per transaction and is killed as soon as a batch committed
        // (and some writes ran): the first backfill round is interrupted mid-way.
        #expect(sawProgress, "no kill interrupted the backfill mid-way")
    }
}
