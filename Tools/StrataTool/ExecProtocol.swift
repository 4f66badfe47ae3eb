import Engine

/// One command of the `strata exec` line protocol.
///
/// ```
/// put K V        → OK                 get K          → VALUE V | NOTFOUND
/// del K          → OK                 delrange A B   → OK
/// batch N        → (N lines of put/del/delrange follow) OK, applied atomically; a `ks NAME`
///                  line among them switches keyspace (it must exist), so one batch spans several
/// scan A B LIMIT → K<TAB>V lines, then END   (A or B written "-": unbounded)
/// sync           → OK once everything before it is durable
/// flush          → OK                 snapshot       → SNAP ID
/// get@ID K       → VALUE V | NOTFOUND release ID     → OK
/// begin [serializable|snapshot|pessimistic] → TX ID
/// tget ID K      → VALUE V | NOTFOUND tgetforupdate ID K → VALUE V | NOTFOUND
/// tput ID K V    → OK                 tdel ID K      → OK
/// tdelrange ID A B → OK               tscan ID A B LIMIT → K<TAB>V lines, then END
/// commit ID      → OK | CONFLICT <reason>              rollback ID    → OK
/// ks NAME        → OK (later put/get/del/delrange/batch/scan/get@ use keyspace NAME, created
///                  if missing; `ks default` goes back to the default keyspace)
/// quit
/// ```
///
/// Several transactions may be open at once and interleaved line by line. A transaction
/// conflict (at commit, or when a pessimistic lock finds its key changed) answers
/// `CONFLICT <reason>`; a lock wait past `--lock-timeout-ms` answers `ERR lock timeout …`; the
/// transaction stays open after an `ERR` and ends with `OK` or `CONFLICT` from `commit`.
///
/// Fields are separated by one space; a value is the rest of the line (it may hold spaces). Keys
/// and values are escaped text as `scan` prints it (`\\ \t \n \r \xHH`), or hex with `--hex`,
/// in both directions. A malformed line gets `ERR <reason>`.
public enum ExecCommand: Equatable, Sendable {
    case put(key: [UInt8], value: [UInt8])
    case get(key: [UInt8])
    case getAt(snapshot: Int, key: [UInt8])
    case delete(key: [UInt8])
    case deleteRange(start: [UInt8], end: [UInt8])
    case batch(count: Int)
    case scan(from: [UInt8]?, to: [UInt8]?, limit: Int)
    case sync
    case flush
    case snapshot
    case release(snapshot: Int)
    case begin(IsolationLevel)
    case transactionGet(transaction: Int, key: [UInt8], forUpdate: Bool)
    case transactionPut(transaction: Int, key: [UInt8], value: [UInt8])
    case transactionDelete(transaction: Int, key: [UInt8])
    case transactionDeleteRange(transaction: Int, start: [UInt8], end: [UInt8])
    case transactionScan(transaction: Int, from: [UInt8]?, to: [UInt8]?, limit: Int)
    case commit(transaction: Int)
    case rollback(transaction: Int)
    case selectKeyspace(name: String)
    case quit
}

/// Parses protocol lines. Pure: no database involved, so it can be fuzzed.
public struct ExecParser: Sendable {
    /// The largest `batch N` accepted.
    public static let maxBatchLines = 100_000
    /// The key/value encoding.
    public let text: ByteText

    /// Creates a parser.
    public init(text: ByteText) {
        self.text = text
    }

    /// Parses one line.
    ///
    /// - Throws: `ToolFailure(.usage)` with the reason for a malformed line.
    public func parse(_ line: Substring) throws -> ExecCommand {
        let (word, rest) = split(line)
        switch word {
        case "put":
            let (key, value) = split(rest)
            guard !key.isEmpty else { throw ToolFailure(.usage, "usage: put K V") }
            guard rest.contains(" ") else { throw ToolFailure(.usage, "usage: put K V (missing value)") }
            return .put(key: try text.decodeField(key), value: try text.decodeField(value))
        case "get":
            return .get(key: try single(rest, "get K"))
        case "del":
            return .delete(key: try single(rest, "del K"))
        case "delrange":
            let (start, end) = split(rest)
            guard !start.isEmpty, !end.isEmpty, !end.contains(" ") else { throw ToolFailure(.usage, "usage: delrange A B") }
            return .deleteRange(start: try text.decodeField(start), end: try text.decodeField(end))
        case "batch":
            guard let count = Int(rest), count >= 0, count <= ExecParser.maxBatchLines else {
                throw ToolFailure(.usage, "usage: batch N (0...\(ExecParser.maxBatchLines))")
            }
            return .batch(count: count)
        case "scan":
            let fields = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, let limit = Int(fields[2]), limit >= 0 else { throw ToolFailure(.usage, "usage: scan A B LIMIT") }
            return .scan(
                from: fields[0] == "-" ? nil : try text.decodeField(fields[0]),
                to: fields[1] == "-" ? nil : try text.decodeField(fields[1]), limit: limit)
        case "sync":
            try none(rest, "sync")
            return .sync
        case "flush":
            try none(rest, "flush")
            return .flush
        case "snapshot":
            try none(rest, "snapshot")
            return .snapshot
        case "release":
            guard let id = Int(rest), id >= 0 else { throw ToolFailure(.usage, "usage: release ID") }
            return .release(snapshot: id)
        case "quit":
            try none(rest, "quit")
            return .quit
        case "ks":
            guard !rest.isEmpty, rest.utf8.count <= 255 else { throw ToolFailure(.usage, "usage: ks NAME") }
            return .selectKeyspace(name: String(rest))
        case "begin":
            if rest.isEmpty { return .begin(.serializable) }
            guard let level = IsolationLevel(rawValue: String(rest)) else {
                throw ToolFailure(.usage, "usage: begin [serializable|snapshot|pessimistic]")
            }
            return .begin(level)
        case "tget", "tgetforupdate":
            let (id, key) = try transactionAndRest(rest, "\(word) ID K")
            return .transactionGet(transaction: id, key: try single(key, "\(word) ID K"), forUpdate: word == "tgetforupdate")
        case "tput":
            let (id, tail) = try transactionAndRest(rest, "tput ID K V")
            let (key, value) = split(tail)
            guard !key.isEmpty, tail.contains(" ") else { throw ToolFailure(.usage, "usage: tput ID K V") }
            return .transactionPut(transaction: id, key: try text.decodeField(key), value: try text.decodeField(value))
        case "tdel":
            let (id, key) = try transactionAndRest(rest, "tdel ID K")
            return .transactionDelete(transaction: id, key: try single(key, "tdel ID K"))
        case "tdelrange":
            let (id, tail) = try transactionAndRest(rest, "tdelrange ID A B")
            let (start, end) = split(tail)
            guard !start.isEmpty, !end.isEmpty, !end.contains(" ") else { throw ToolFailure(.usage, "usage: tdelrange ID A B") }
            return .transactionDeleteRange(transaction: id, start: try text.decodeField(start), end: try text.decodeField(end))
        case "tscan":
            let (id, tail) = try transactionAndRest(rest, "tscan ID A B LIMIT")
            let fields = tail.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, let limit = Int(fields[2]), limit >= 0 else { throw ToolFailure(.usage, "usage: tscan ID A B LIMIT") }
            return .transactionScan(
                transaction: id, from: fields[0] == "-" ? nil : try text.decodeField(fields[0]),
                to: fields[1] == "-" ? nil : try text.decodeField(fields[1]), limit: limit)
        case "commit":
            guard let id = Int(rest), id >= 0 else { throw ToolFailure(.usage, "usage: commit ID") }
            return .commit(transaction: id)
        case "rollback":
            guard let id = Int(rest), id >= 0 else { throw ToolFailure(.usage, "usage: rollback ID") }
            return .rollback(transaction: id)
        default:
            if word.hasPrefix("get@"), let id = Int(word.dropFirst(4)), id >= 0 {
                return .getAt(snapshot: id, key: try single(rest, "get@ID K"))
            }
            throw ToolFailure(.usage, word.isEmpty ? "empty command" : "unknown command \"\(word.prefix(40))\"")
        }
    }

    /// Parses a line inside a batch: `put K V`, `del K`, `delrange A B` or `ks NAME`.
    public func parseBatchLine(_ line: Substring) throws -> ExecCommand {
        let command = try parse(line)
        switch command {
        case .put, .delete, .deleteRange, .selectKeyspace: return command
        default: throw ToolFailure(.usage, "only put, del, delrange and ks may appear in a batch")
        }
    }

    /// The transaction number at the start of `rest`, and what follows it.
    private func transactionAndRest(_ rest: Substring, _ usage: String) throws -> (Int, Substring) {
        let (first, tail) = split(rest)
        guard let id = Int(first), id >= 0 else { throw ToolFailure(.usage, "usage: \(usage)") }
        return (id, tail)
    }

    private func split(_ text: Substring) -> (Substring, Substring) {
        guard let space = text.firstIndex(of: " ") else { return (text, "") }
        return (text[..<space], text[text.index(after: space)...])
    }

    private func single(_ rest: Substring, _ usage: String) throws -> [UInt8] {
        guard !rest.isEmpty, !rest.contains(" ") else { throw ToolFailure(.usage, "usage: \(usage)") }
        return try text.decodeField(rest)
    }

    private func none(_ rest: Substring, _ usage: String) throws {
        guard rest.isEmpty else { throw ToolFailure(.usage, "usage: \(usage) (no arguments)") }
    }
}

/// Runs protocol lines against a database, one reply per command.
public final class ExecSession {
    let database: Database
    let parser: ExecParser
    let syncWrites: Bool
    let durability: Durability
    let lockTimeout: Double
    private var snapshots: [Int: Snapshot] = [:]
    private var nextSnapshot = 1
    private var transactions: [Int: Transaction] = [:]
    private var nextTransaction = 1
    private var pending: (expected: Int, remaining: Int, batch: WriteBatch, error: String?)? = nil
    /// The keyspace `ks` selected (the default keyspace until then).
    private var keyspace: Keyspace?

    /// Creates a session; with `syncWrites` every write (and commit) is synced before its `OK`,
    /// with `durability` `.objectStore` stored in the object store before it; pessimistic
    /// transactions wait at most `lockTimeout` seconds for a lock.
    public init(database: Database, text: ByteText, syncWrites: Bool, durability: Durability = .local, lockTimeout: Double = 1) {
        self.database = database
        self.parser = ExecParser(text: text)
        self.syncWrites = syncWrites
        self.durability = durability
        self.lockTimeout = lockTimeout
    }

    /// What is left to say at the end of the input: an `ERR` for a batch cut short.
    public func finish() -> [String] {
        guard let batch = pending else { return [] }
        pending = nil
        let received = batch.expected - batch.remaining
        return ["ERR batch cut short: expected \(batch.expected) lines, got \(received); nothing of it was written"]
    }

    /// Answers an input line that could not be read (not UTF-8): `ERR`, or, inside a batch, a
    /// bad batch line.
    public func handleUnreadable(_ reason: String) -> [String] {
        guard var batch = pending else { return ["ERR \(reason)"] }
        if batch.error == nil { batch.error = reason }
        batch.remaining -= 1
        pending = batch.remaining > 0 ? batch : nil
        guard batch.remaining == 0 else { return [] }
        return ["ERR batch rejected: \(batch.error!)"]
    }

    /// Handles one input line.
    ///
    /// - Returns: the reply lines (none while a batch is being collected) and whether the
    ///   session ends.
    public func handle(_ line: Substring) -> (replies: [String], quit: Bool) {
        if var batch = pending {
            do {
                let id = keyspace?.id ?? 0
                switch try parser.parseBatchLine(line) {
                case .put(let key, let value): batch.batch.put(key, value, keyspaceID: id)
                case .delete(let key): batch.batch.delete(key, keyspaceID: id)
                case .deleteRange(let start, let end): batch.batch.deleteRange(from: start, to: end, keyspaceID: id)
                case .selectKeyspace(let name):
                    // Inside a batch a keyspace is not created (that would be a write outside it).
                    guard name == Database.defaultKeyspaceName || database.keyspaceNames.contains(name) else {
                        throw ToolFailure(.usage, "no keyspace named \"\(name)\"")
                    }
                    keyspace = try database.keyspace(name)
                default: break
                }
            } catch {
                if batch.error == nil { batch.error = describe(error) }
            }
            batch.remaining -= 1
            pending = batch.remaining > 0 ? batch : nil
            guard batch.remaining == 0 else { return ([], false) }
            if let error = batch.error { return (["ERR batch rejected: \(error)"], false) }
            return ([write(batch.batch)], false)
        }
        let command: ExecCommand
        do {
            command = try parser.parse(line)
        } catch {
            return (["ERR \(describe(error))"], false)
        }
        do {
            let keyspace = try self.keyspace ?? database.keyspace(Database.defaultKeyspaceName)
            switch command {
            case .put(let key, let value):
                var batch = WriteBatch()
                batch.put(key, value, in: keyspace)
                return ([write(batch)], false)
            case .delete(let key):
                var batch = WriteBatch()
                batch.delete(key, in: keyspace)
                return ([write(batch)], false)
            case .deleteRange(let start, let end):
                var batch = WriteBatch()
                batch.deleteRange(from: start, to: end, in: keyspace)
                return ([write(batch)], false)
            case .batch(let count):
                if count == 0 { return (["OK"], false) }
                pending = (count, count, WriteBatch(), nil)
                return ([], false)
            case .get(let key):
                return ([reply(try keyspace.get(key))], false)
            case .getAt(let id, let key):
                guard let snapshot = snapshots[id] else { return (["ERR no snapshot \(id)"], false) }
                return ([reply(try keyspace.get(key, at: snapshot))], false)
            case .scan(let from, let to, let limit):
                var lines: [String] = []
                var iterator = keyspace.scan(from: from, to: to).makeIterator()
                while lines.count < limit, let (key, value) = try iterator.next() {
                    lines.append(parser.text.encodeField(key) + "\t" + parser.text.encodeField(value))
                }
                return (lines + ["END"], false)
            case .sync:
                try database.sync()
                return (["OK"], false)
            case .flush:
                try database.flush()
                return (["OK"], false)
            case .snapshot:
                let id = nextSnapshot
                nextSnapshot += 1
                snapshots[id] = try database.snapshot()
                return (["SNAP \(id)"], false)
            case .release(let id):
                guard snapshots.removeValue(forKey: id) != nil else { return (["ERR no snapshot \(id)"], false) }
                return (["OK"], false)
            case .quit:
                return ([], true)
            case .selectKeyspace(let name):
                self.keyspace = try database.keyspace(name)
                return (["OK"], false)
            case .begin(let level):
                let transaction = try database.beginTransaction(TransactionOptions(isolation: level, lockTimeout: lockTimeout, sync: syncWrites ? true : nil))
                let id = nextTransaction
                nextTransaction += 1
                transactions[id] = transaction
                return (["TX \(id)"], false)
            case .transactionGet(let id, let key, let forUpdate):
                let transaction = try open(id)
                return ([reply(forUpdate ? try transaction.getForUpdate(key) : try transaction.get(key))], false)
            case .transactionPut(let id, let key, let value):
                try open(id).put(key, value)
                return (["OK"], false)
            case .transactionDelete(let id, let key):
                try open(id).delete(key)
                return (["OK"], false)
            case .transactionDeleteRange(let id, let start, let end):
                try open(id).deleteRange(from: start, to: end)
                return (["OK"], false)
            case .transactionScan(let id, let from, let to, let limit):
                var lines: [String] = []
                var scan = try open(id).scan(from: from, to: to)
                while lines.count < limit, let (key, value) = try scan.next() {
                    lines.append(parser.text.encodeField(key) + "\t" + parser.text.encodeField(value))
                }
                return (lines + ["END"], false)
            case .commit(let id):
                let transaction = try open(id)
                transactions[id] = nil
                try transaction.commit()
                if durability == .objectStore { try database.waitUntilStored() }
                return (["OK"], false)
            case .rollback(let id):
                let transaction = try open(id)
                transactions[id] = nil
                try transaction.rollback()
                return (["OK"], false)
            }
        } catch StrataError.transactionConflict(let reason) {
            return (["CONFLICT \(reason)"], false)
        } catch {
            return (["ERR \(describe(error))"], false)
        }
    }

    /// The open transaction `id`.
    private func open(_ id: Int) throws -> Transaction {
        guard let transaction = transactions[id] else { throw ToolFailure(.usage, "no open transaction \(id)") }
        return transaction
    }

    private func write(_ batch: WriteBatch) -> String {
        do {
            try database.write(batch, options: WriteOptions(sync: syncWrites ? true : nil, durability: durability))
            return "OK"
        } catch {
            return "ERR \(describe(error))"
        }
    }

    private func reply(_ value: [UInt8]?) -> String {
        value.map { "VALUE " + parser.text.encodeField($0) } ?? "NOTFOUND"
    }
}

/// A one-line description of any error.
func describe(_ error: any Error) -> String {
    if let failure = error as? ToolFailure { return failure.message }
    if let error = error as? StrataError { return error.description }
    return "\(error)"
}
