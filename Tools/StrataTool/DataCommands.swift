#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Encoding
import Engine

struct Put: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store VALUE under KEY.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value.") var value: String

    func run() throws {
        let (key, value) = (try global.text.decode(key), try global.text.decode(value))
        if let remote = try global.remoteConfiguration() {
            try global.withRemote(remote) { [keyspace = global.keyspace] in try await $0.put(key, value, keyspace: keyspace) }
            return
        }
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try global.keyspace(of: db).put(key, value, options: try global.writeOptions())
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the value of KEY (exit status 1 when there is none).",
        discussion: "Opens the database read-only, so it works while another process writes to it.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key.") var key: String

    func run() throws {
        let key = try global.text.decode(key)
        let found: [UInt8]?
        if let remote = try global.remoteConfiguration() {
            found = try global.withRemote(remote) { [keyspace = global.keyspace] in try await $0.get(key, keyspace: keyspace) }
        } else {
            let db = try global.open(forWriting: false)
            defer { try? db.close() }
            found = try global.keyspace(of: db).get(key)
        }
        guard let value = found else { throw ToolFailure(.notFound) }
        emit(try global.text.encodeValue(value))
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete KEY.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key.") var key: String

    func run() throws {
        let key = try global.text.decode(key)
        if let remote = try global.remoteConfiguration() {
            try global.withRemote(remote) { [keyspace = global.keyspace] in try await $0.delete(key, keyspace: keyspace) }
            return
        }
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try global.keyspace(of: db).delete(key, options: try global.writeOptions())
    }
}

struct DeleteRange: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete-range", abstract: "Delete every key in [FROM, TO).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The first key deleted.") var from: String
    @Argument(help: "The first key after the range (not deleted).") var to: String

    func run() throws {
        let (start, end) = (try global.text.decode(from), try global.text.decode(to))
        if let remote = try global.remoteConfiguration() {
            try global.withRemote(remote) { [keyspace = global.keyspace] in try await $0.deleteRange(from: start, to: end, keyspace: keyspace) }
            return
        }
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try global.keyspace(of: db).deleteRange(from: start, to: end, options: try global.writeOptions())
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print KEY<TAB>VALUE lines in key order.",
        discussion: """
            Text output escapes what would break the line format or is not UTF-8: \\\\ \\t \\n \\r and \\xHH; \
            `load` reads these lines back into exactly the same bytes. With --hex, keys and values are hex. \
            Opens the database read-only, so it works while another process writes to it.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Start at this key (inclusive).") var from: String?
    @Option(help: "Stop before this key (exclusive).") var to: String?
    @Option(help: "Only keys starting with this prefix.") var prefix: String?
    @Option(parsing: .unconditional, help: "Print at most this many entries (0 or more).") var limit: Int?
    @Flag(help: "Last key first (descending key order).") var reverse = false
    @Flag(name: .customLong("keys-only"), help: "Print keys only.") var keysOnly = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more, not \(limit)") }
    }

    func run() throws {
        var lower = try from.map { try global.text.decode($0) }
        var upper = try to.map { try global.text.decode($0) }
        let prefixBytes = try prefix.map { try global.text.decode($0) }
        if let remote = try global.remoteConfiguration() {
            // The server combines the bounds with the prefix, as below.
            let (text, keysOnly, lower, upper, keyspace) = (global.text, self.keysOnly, lower, upper, global.keyspace)
            try global.withRemote(remote) { client in
                try await client.scan(from: lower, to: upper, prefix: prefixBytes, reverse: reverse, limit: limit, keysOnly: keysOnly, keyspace: keyspace) { key, value in
                    emit(keysOnly ? text.encodeField(key) : text.encodeField(key) + "\t" + text.encodeField(value))
                    return true
                }
            }
            return
        }
        let db = try global.open(forWriting: false)
        defer { try? db.close() }
        if let lower, let upper, BytewiseComparator.compare(lower, upper) > 0 {
            throw ToolFailure(.usage, "--from sorts after --to")
        }
        if let bytes = prefixBytes { (lower, upper) = KeyRange.narrowed(from: lower, to: upper, toPrefix: bytes) }
        var printed = 0
        var iterator = try global.keyspace(of: db).scan(from: lower, to: upper, reverse: reverse).makeIterator()
        while printed < (limit ?? Int.max), let (key, value) = try iterator.next() {
            emit(keysOnly ? global.text.encodeField(key) : global.text.encodeField(key) + "\t" + global.text.encodeField(value))
            printed += 1
        }
    }
}

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load KEY<TAB>VALUE lines from FILE (or - for stdin) in atomic batches.",
        discussion: """
            Lines are what `scan` prints (escaped text, or hex with --hex). At the first bad line the load \
            stops, names the line, and says how many records it had committed before it (earlier batches \
            stay written; the batch holding the bad line is not).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to read, or - for standard input.") var file: String
    @Option(name: .customLong("batch-size"), help: "Records per atomic batch (1 or more).") var batchSize = 1_000

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
    }

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        let keyspace = try global.keyspace(of: db)
        let reader = try LineReader(path: file)
        let writeOptions = try global.writeOptions()
        let total = file == "-" ? 0 : (try? PosixFileSystem().fileSize(file)) ?? 0
        var progress = ProgressBar(total: total, label: "loading")
        let start = WallClock.monotonicNanoseconds()
        var batch = WriteBatch()
        var committed = 0
        var bytes = 0
        var pendingBytes = 0
        do {
            while let line = try reader.next() {
                if line.isEmpty { continue }
                guard let tab = line.firstIndex(of: "\t") else { throw ToolFailure(.usage, "expected KEY<TAB>VALUE") }
                let key = try global.text.decodeField(line[..<tab])
                let value = try global.text.decodeField(line[line.index(after: tab)...])
                guard !key.isEmpty else { throw ToolFailure(.usage, "empty key") }
                batch.put(key, value, in: keyspace)
                pendingBytes += key.count + value.count
                if batch.count >= batchSize {
                    try db.write(batch, options: writeOptions)
                    committed += batch.count
                    bytes += pendingBytes
                    pendingBytes = 0
                    batch.removeAll()
                    if total > 0 { progress.update(reader.position) }
                }
            }
            if !batch.isEmpty {
                try db.write(batch, options: writeOptions)
                committed += batch.count
                bytes += pendingBytes
            }
        } catch {
            progress.finish()
            let exit = (error as? ToolFailure)?.exit ?? (error as? StrataError).map(ToolExit.code(for:)) ?? .usage
            throw ToolFailure(exit, "\(file):\(reader.lineNumber): \(describe(error)); \(committed) records committed before this line")
        }
        progress.finish()
        let seconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        emit("loaded \(committed) records (\(bytes) bytes) in \(String(format3: seconds)) s (\(Int(Double(committed) / max(seconds, 1e-9))) records/s)")
    }
}

extension String {
    /// `value` with three decimals.
    init(format3 value: Double) {
        let scaled = (value * 1000).rounded() / 1000
        self = String(scaled)
    }
}
