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
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try db.put(global.text.decode(key), global.text.decode(value))
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the value of KEY (exit status 1 when there is none).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key.") var key: String

    func run() throws {
        let db = try global.open(forWriting: false)
        defer { try? db.close() }
        guard let value = try db.get(global.text.decode(key)) else { throw ToolFailure(.notFound) }
        emit(global.text.encode(value))
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete KEY.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key.") var key: String

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try db.delete(global.text.decode(key))
    }
}

struct DeleteRange: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete-range", abstract: "Delete every key in [START, END).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The first key deleted.") var start: String
    @Argument(help: "The first key after the range.") var end: String

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try db.deleteRange(from: global.text.decode(start), to: global.text.decode(end))
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print KEY<TAB>VALUE lines in key order.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Start at this key (inclusive).") var from: String?
    @Option(help: "Stop before this key.") var to: String?
    @Option(help: "Only keys starting with this prefix.") var prefix: String?
    @Option(help: "Print at most this many entries.") var limit: Int?
    @Flag(help: "Newest key first.") var reverse = false
    @Flag(name: .customLong("keys-only"), help: "Print keys only.") var keysOnly = false

    func run() throws {
        let db = try global.open(forWriting: false)
        defer { try? db.close() }
        var lower = try from.map { try global.text.decode($0) }
        var upper = try to.map { try global.text.decode($0) }
        if let prefix {
            let bytes = try global.text.decode(prefix)
            if lower == nil || BytewiseOrder.less(lower!, bytes) { lower = bytes }
            if let end = PrefixRange.successor(of: bytes), upper == nil || BytewiseOrder.less(end, upper!) { upper = end }
        }
        var printed = 0
        var iterator = db.scan(from: lower, to: upper, reverse: reverse).makeIterator()
        while printed < (limit ?? Int.max), let (key, value) = try iterator.next() {
            emit(keysOnly ? global.text.encode(key) : global.text.encode(key) + "\t" + global.text.encode(value))
            printed += 1
        }
    }
}

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load KEY<TAB>VALUE lines from FILE (or - for stdin) in batches.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to read, or - for standard input.") var file: String
    @Option(name: .customLong("batch-size"), help: "Records per atomic batch.") var batchSize = 1_000

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        let reader = try LineReader(path: file)
        let total = file == "-" ? 0 : (try? PosixFileSystem().fileSize(file)) ?? 0
        var progress = ProgressBar(total: total, label: "loading")
        let start = WallClock.monotonicNanoseconds()
        var batch = WriteBatch()
        var records = 0
        var bytes = 0
        var lineNumber = 0
        while let line = reader.next() {
            lineNumber += 1
            if line.isEmpty { continue }
            guard let tab = line.firstIndex(of: "\t") else { throw ToolFailure(.usage, "\(file):\(lineNumber): expected KEY<TAB>VALUE") }
            let key = try global.text.decode(line[..<tab])
            let value = try global.text.decode(line[line.index(after: tab)...])
            batch.put(key, value)
            records += 1
            bytes += key.count + value.count
            if batch.count >= batchSize {
                try db.write(batch)
                batch.removeAll()
                if total > 0 { progress.update(reader.position) }
            }
        }
        if !batch.isEmpty { try db.write(batch) }
        progress.finish()
        let seconds = Double(WallClock.monotonicNanoseconds() - start) / 1e9
        emit("loaded \(records) records (\(bytes) bytes) in \(String(format3: seconds)) s (\(Int(Double(records) / max(seconds, 1e-9))) records/s)")
    }
}

/// Byte-string order helpers for the tool.
enum BytewiseOrder {
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
}

/// The key range of a prefix.
enum PrefixRange {
    /// The smallest key greater than every key starting with `prefix` (nil: unbounded).
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }
}

extension String {
    /// `value` with three decimals.
    init(format3 value: Double) {
        let scaled = (value * 1000).rounded() / 1000
        self = String(scaled)
    }
}
