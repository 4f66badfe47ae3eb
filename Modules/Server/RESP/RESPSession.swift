import Encoding
import Strata
import Synchronization

/// What the RESP server shares between connections.
final class RESPServerState: Sendable {
    let keyspace: RESPKeyspace
    let token: BearerToken?
    /// The longest value a command may store: the engine's limit less the expiry header.
    let maxValue: Int
    /// The clock tests may set (`STRATA.CLOCK`); `nil` on a normal server.
    let manualClock: RESPManualClock?
    let started = WallClock.monotonicNanoseconds()
    let nextClientID = Atomic<Int>(1)
    let connectedClients = Atomic<Int>(0)
    let commandsProcessed = Atomic<Int>(0)
    let connectionsReceived = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    /// SCAN cursors of long keys.
    let scanCursors = RESPScanCursors()
    /// The port the listener is bound to (0 until it is).
    let port = Atomic<Int>(0)

    init(keyspace: RESPKeyspace, token: BearerToken?, manualClock: RESPManualClock?) {
        self.keyspace = keyspace
        self.token = token
        self.maxValue = keyspace.database.options.maxValueSize - ExpiringValue.expiringHeaderSize
        self.manualClock = manualClock
    }
}

/// A clock tests move by hand (milliseconds since the Unix epoch).
final class RESPManualClock: Sendable {
    private let milliseconds: Atomic<UInt64>

    init(start: UInt64) { milliseconds = Atomic(start) }

    var now: UInt64 { milliseconds.load(ordering: .acquiring) }

    func set(_ value: UInt64) { milliseconds.store(value, ordering: .releasing) }
}

/// One connection's state and the execution of its commands. Commands run on a worker thread
/// (they block on the engine), one batch at a time per connection, in arrival order.
///
/// Not `Sendable` by itself: the connection hands it to one worker at a time.
package final class RESPSession {
    let server: RESPServerState
    let id: Int
    var protocolVersion = 2
    var authenticated: Bool
    var name: [UInt8]? = nil
    /// Commands queued by MULTI (`nil` outside MULTI), and whether one was refused (EXEC aborts).
    var queued: [[[UInt8]]]? = nil
    var queueRefused = false
    /// The WATCH commands since the last EXEC, DISCARD or UNWATCH.
    var watches: [RESPWatch] = []
    /// Set by QUIT: close after the replies are written.
    var closeRequested = false

    var keyspace: RESPKeyspace { server.keyspace }

    init(server: RESPServerState) {
        self.server = server
        id = server.nextClientID.wrappingAdd(1, ordering: .relaxed).oldValue
        authenticated = server.token == nil
    }

    /// Whether `commands` only read (no write, no transaction, no flush): they may run on the
    /// read pool. Called on the event loop while no worker holds the session.
    func isReadOnly(_ commands: [[[UInt8]]]) -> Bool {
        guard queued == nil else { return false }
        return commands.allSatisfy { command in
            let name = RESPCommandTable.name(command)
            switch RESPCommandTable.commands[name]?.kind {
            case .read?: return true
            case .keyspace?: return name != "flushdb" && name != "flushall"
            case .control?: return !["multi", "exec", "watch"].contains(name)
            default: return false
            }
        }
    }

    /// Runs `commands` in order and returns one reply per command. Blind writes of consecutive
    /// commands are committed as one batch before the replies leave (a read, a read-modify-write
    /// or the end of the batch commits them first); if that commit fails, their replies become
    /// the error.
    func execute(_ commands: [[[UInt8]]]) -> [RESPReply] {
        var replies: [RESPReply] = []
        replies.reserveCapacity(commands.count)
        let direct = RESPDirectStorage(keyspace: keyspace)
        var pendingReplies: [Int] = []
        func commitPending() {
            guard !pendingReplies.isEmpty else { return }
            do {
                try direct.commit()
            } catch {
                let reply = Self.reply(for: error)
                for index in pendingReplies { replies[index] = reply }
            }
            pendingReplies.removeAll(keepingCapacity: true)
        }
        var index = 0
        while index < commands.count && !closeRequested {
            let command = commands[index]
            let name = RESPCommandTable.name(command)
            let info = RESPCommandTable.commands[name]
            // Consecutive read-modify-writes of a pipeline run as one transaction (each is still
            // atomic; together they cost one commit).
            var end = index
            while end < commands.count && end - index < 256 && modifyCommand(commands[end]) != nil { end += 1 }
            if end - index > 1 {
                commitPending()
                replies += modifyTogether(Array(commands[index..<end]))
                index = end
                continue
            }
            server.commandsProcessed.add(1, ordering: .relaxed)
            direct.tick()
            let blind = queued == nil && info?.kind == .write && !(name == "set" && RESPStringCommands.setReads(command))
                && authenticated && info?.accepts(count: command.count) == true
            if !blind { commitPending() }
            let reply = dispatch(name, info, command, direct: direct)
            if blind, case .simple = reply { pendingReplies.append(replies.count) }
            replies.append(reply)
            // Keep one batch well inside a log record.
            if pendingReplies.count >= 1024 || direct.pendingBytes >= 1 << 20 { commitPending() }
            index += 1
        }
        commitPending()
        return replies
    }

    /// The command's name and table entry when it is a read-modify-write that may join a group
    /// (outside MULTI, authenticated, well-formed); `nil` otherwise.
    private func modifyCommand(_ command: [[UInt8]]) -> (String, RESPCommandInfo)? {
        guard queued == nil, authenticated else { return nil }
        let name = RESPCommandTable.name(command)
        guard let info = RESPCommandTable.commands[name], info.accepts(count: command.count) else { return nil }
        let modifies = info.kind == .modify || (name == "set" && RESPStringCommands.setReads(command))
        return modifies ? (name, info) : nil
    }

    /// Runs read-modify-write commands as one transaction under the locks of all their keys; an
    /// engine failure answers each of them with the error.
    private func modifyTogether(_ commands: [[[UInt8]]]) -> [RESPReply] {
        server.commandsProcessed.add(commands.count, ordering: .relaxed)
        let entries = commands.compactMap { command in modifyCommand(command).map { (name: $0.0, info: $0.1, args: command) } }
        do {
            return try keyspace.atomically(entries.flatMap { $0.info.keys($0.args) }) { storage in
                try entries.map { try run($0.name, $0.args, storage) }
            }
        } catch {
            return Array(repeating: Self.reply(for: error), count: commands.count)
        }
    }

    private func dispatch(_ name: String, _ info: RESPCommandInfo?, _ args: [[UInt8]], direct: RESPDirectStorage) -> RESPReply {
        if name == "strata.clock", let clock = server.manualClock, authenticated {
            // Tests only (`--resp-manual-clock`): read, set or advance the expiry clock.
            if args.count == 1 { return .integer(Int(clock.now)) }
            guard args.count == 3, let value = RESPNumber.integer(args[2]), value >= 0 else { return RESPStringCommands.syntaxError }
            switch RESPStringCommands.option(args[1]) {
            case "SET": clock.set(UInt64(value))
            case "ADVANCE": clock.set(clock.now + UInt64(value))
            default: return RESPStringCommands.syntaxError
            }
            return .integer(Int(clock.now))
        }
        guard let info else {
            if queued != nil { queueRefused = true }
            let shown = args.dropFirst().prefix(8).map { "'\(Self.printable($0))'" }.joined(separator: " ")
            return .error("ERR unknown command '\(Self.printable(args[0]))', with args beginning with: \(shown)")
        }
        guard info.accepts(count: args.count) else {
            if queued != nil { queueRefused = true }
            return .error("ERR wrong number of arguments for '\(name)' command")
        }
        if !authenticated && !info.flags.contains("no-auth") {
            return .error("NOAUTH Authentication required.")
        }
        if queued != nil && !["exec", "discard", "multi", "watch", "quit", "reset"].contains(name) {
            queued!.append(args)
            return .simple("QUEUED")
        }
        do {
            switch info.kind {
            case .control:
                return try control(name, args)
            case .keyspace:
                return try keyspaceCommand(name, args, now: direct.now)
            case .read:
                return try run(name, args, direct)
            case .write:
                if name == "set" && RESPStringCommands.setReads(args) {
                    return try keyspace.atomically(info.keys(args)) { try run(name, args, $0) }
                }
                return try run(name, args, direct)
            case .modify:
                return try keyspace.atomically(info.keys(args)) { try run(name, args, $0) }
            }
        } catch {
            return Self.reply(for: error)
        }
    }

    /// Runs a data command against `storage`.
    func run(_ name: String, _ args: [[UInt8]], _ storage: some RESPStorage) throws -> RESPReply {
        typealias C = RESPStringCommands
        let maxValue = server.maxValue
        switch name {
        case "get": return try C.get(args, storage)
        case "set": return try C.set(args, storage, maxValue: maxValue)
        case "setnx": return try C.setnx(args, storage, maxValue: maxValue)
        case "setex": return try C.setex(args, storage, unit: "EX", maxValue: maxValue)
        case "psetex": return try C.setex(args, storage, unit: "PX", maxValue: maxValue)
        case "getset": return try C.getset(args, storage, maxValue: maxValue)
        case "getdel": return try C.getdel(args, storage)
        case "getex": return try C.getex(args, storage)
        case "mget": return try C.mget(args, storage)
        case "mset": return try C.mset(args, storage, maxValue: maxValue)
        case "msetnx": return try C.msetnx(args, storage, maxValue: maxValue)
        case "incr": return try C.incr(args, storage, by: 1)
        case "decr": return try C.incr(args, storage, by: -1)
        case "incrby": return try C.incr(args, storage, by: nil)
        case "decrby": return try C.incr(args, storage, by: nil, negate: true)
        case "incrbyfloat": return try C.incrbyfloat(args, storage)
        case "append": return try C.append(args, storage, maxValue: maxValue)
        case "strlen": return try C.strlen(args, storage)
        case "getrange", "substr": return try C.getrange(args, storage)
        case "setrange": return try C.setrange(args, storage, maxValue: maxValue)
        case "del", "unlink": return try C.del(args, storage)
        case "exists": return try C.exists(args, storage)
        case "rename": return try C.rename(args, storage, onlyIfFree: false)
        case "renamenx": return try C.rename(args, storage, onlyIfFree: true)
        case "copy": return try C.copy(args, storage)
        case "type": return try C.type(args, storage)
        case "expire": return try C.expire(args, storage, unit: "EX", command: name)
        case "pexpire": return try C.expire(args, storage, unit: "PX", command: name)
        case "expireat": return try C.expire(args, storage, unit: "EXAT", command: name)
        case "pexpireat": return try C.expire(args, storage, unit: "PXAT", command: name)
        case "ttl": return try C.ttl(args, storage, milliseconds: false)
        case "pttl": return try C.ttl(args, storage, milliseconds: true)
        case "expiretime": return try C.expiretime(args, storage, milliseconds: false)
        case "pexpiretime": return try C.expiretime(args, storage, milliseconds: true)
        case "persist": return try C.persist(args, storage)
        default: return .error("ERR '\(name)' cannot run here")
        }
    }

    /// The error reply for an engine failure.
    static func reply(for error: any Error) -> RESPReply {
        guard let error = error as? StrataError else { return .error("ERR \(error)") }
        switch error {
        case .readOnly(let reason): return .error("READONLY the database is read-only (\(reason))")
        case .closed: return .error("ERR the database is closed (server shutting down)")
        case .invalidArgument(let message): return .error("ERR \(message)")
        case .transactionConflict, .lockTimeout, .deadlock: return .error("ERR too much contention, try again (\(error))")
        default: return .error("ERR \(error)")
        }
    }

    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(128), as: UTF8.self)
    }
}
