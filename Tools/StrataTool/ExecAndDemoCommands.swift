#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Encoding
import Engine
import VFS

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the line protocol on stdin/stdout (one reply per command, flushed).",
        discussion: """
            put K V → OK; get K → VALUE V | NOTFOUND; del K → OK; delrange A B → OK;
            batch N + N lines of put/del/delrange/ks → OK (atomic, also across keyspaces); scan A B LIMIT → K<TAB>V lines then END
            (A or B "-" for unbounded); sync → OK when durable; flush → OK; snapshot → SNAP ID;
            get@ID K; release ID → OK; begin [serializable|snapshot|pessimistic] → TX ID; tget ID K;
            tgetforupdate ID K; tput ID K V; tdel ID K; tdelrange ID A B; tscan ID A B LIMIT;
            commit ID → OK | CONFLICT <reason>; rollback ID → OK; ks NAME → OK (later put, get, del, delrange, batch, \
            scan and get@ use keyspace NAME, created if missing; ks default: the default keyspace; --keyspace picks \
            the first one); quit.
            A malformed line or failed command gets ERR <reason>.
            A value is the rest of the line. Keys and values are escaped as scan prints them (\\\\ \\t \\n \\r \\xHH),
            or hex with --hex, both ways. Input that ends inside a batch gets ERR (nothing of it is written).
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Sync every write before its OK.") var sync = false
    @Option(name: .customLong("lock-timeout-ms"), help: "How long a pessimistic transaction waits for a lock (milliseconds).") var lockTimeoutMilliseconds = 1000

    func validate() throws {
        if lockTimeoutMilliseconds < 0 { throw ValidationError("--lock-timeout-ms must not be negative") }
    }

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        let session = ExecSession(
            database: db, text: global.text, syncWrites: sync || global.tuning.syncWrites,
            durability: try global.durabilityLevel(), lockTimeout: Double(lockTimeoutMilliseconds) / 1000)
        if let name = global.keyspace {
            _ = try global.keyspace(of: db)  // must exist, as for every command
            _ = session.handle("ks \(name)")
        }
        let input = try LineReader(path: "-")
        while true {
            let line: Substring
            do {
                guard let next = try input.next() else { break }
                line = next
            } catch {
                // Not UTF-8: answer it like any malformed line (a batch counts it as a bad line).
                for reply in session.handleUnreadable(describe(error)) { print(reply) }
                fflush(nil)
                continue
            }
            let (replies, quit) = session.handle(line)
            for reply in replies { print(reply) }
            fflush(nil)
            if quit { return }
        }
        for reply in session.finish() { print(reply) }
        fflush(nil)
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load 1,000,000 generated records, read a sample back, scan a prefix, delete a range, print the level summary.",
        discussion: "Resets its database directory first (only if it holds a Strata database or is empty).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Records to load.") var records = 1_000_000

    func run() throws {
        let fileSystem = PosixFileSystem()
        let path = global.path
        if fileSystem.exists(path) {
            let names = try fileSystem.listDirectory(path)
            guard names.isEmpty || names.contains("CURRENT") else {
                throw ToolFailure(.usage, "\(path) is not a Strata database; refusing to reset it")
            }
            TemporaryDirectory.removeTree(path)
        }
        var options = try global.options(forWriting: true)
        if global.tuning.writeBufferSize == nil { options.writeBufferSize = 16 << 20 }
        let db = try Database.open(at: path, options: options)
        defer { try? db.close() }
        func key(_ index: Int) -> [UInt8] { Array("user\(String(index).leftPadded(to: 8))".utf8) }
        func value(_ index: Int) -> [UInt8] { Array("value-\(index)-".utf8) + [UInt8](repeating: UInt8(97 + index % 26), count: 80) }

        emit("== loading \(records) records into \(path)")
        var progress = ProgressBar(total: UInt64(records), label: "loading")
        let start = WallClock.monotonicNanoseconds()
        var batch = WriteBatch()
        for index in 0..<records {
            batch.put(key(index), value(index))
            if batch.count == 1_000 {
                try db.write(batch)
                batch.removeAll()
                progress.update(UInt64(index + 1))
            }
        }
        if !batch.isEmpty { try db.write(batch) }
        try db.sync()
        progress.finish()
        let loadSeconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        emit("loaded \(records) records in \(String(format3: loadSeconds)) s (\(Int(Double(records) / loadSeconds)) records/s)")

        emit("== reading a sample back")
        var found = 0
        let sample = Swift.min(records, 10_000)
        let readStart = WallClock.monotonicNanoseconds()
        for step in 0..<sample {
            let index = (step &* 7_919) % Swift.max(records, 1)
            if try db.get(key(index)) == value(index) { found += 1 }
        }
        let readSeconds = Double(WallClock.monotonicNanoseconds() - readStart) / 1e9
        emit("\(found) of \(sample) sampled keys read back correctly (\(Int(Double(sample) / readSeconds)) gets/s)")
        guard found == sample else { throw ToolFailure(.corruption, "sample read back wrong values") }

        emit("== prefix scan of user0000012*")
        let prefixed = try db.scan(from: Array("user0000012".utf8), to: Array("user0000013".utf8)).collect()
        for entry in prefixed.prefix(3) { emit("  \(String(decoding: entry.key, as: UTF8.self)) -> \(String(decoding: entry.value.prefix(20), as: UTF8.self))…") }
        emit("  \(prefixed.count) keys")

        emit("== deleting [user00000100, user00000200)")
        try db.deleteRange(from: key(100), to: key(200))
        let remaining = try db.scan(from: key(0), to: key(300)).collect().count
        emit("  \(remaining) of the first 300 keys remain")
        try db.flush()

        emit("== level summary")
        emit(db.property(.levelSummary))
        emit("== statistics")
        emit(db.property(.statistics))
    }
}
