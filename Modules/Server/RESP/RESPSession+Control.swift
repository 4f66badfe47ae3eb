import Encoding
import Strata

/// Thrown inside EXEC's transaction when a watched key changed: EXEC answers with a null array.
private struct WatchedKeyChanged: Error {}

extension RESPSession {
    /// The version this front door reports to clients (the Redis command set it follows).
    static let redisVersion = "7.0.0"

    func control(_ name: String, _ args: [[UInt8]]) throws -> RESPReply {
        typealias C = RESPStringCommands
        switch name {
        case "ping":
            guard args.count <= 2 else { return .error("ERR wrong number of arguments for 'ping' command") }
            return args.count == 2 ? .bulk(args[1]) : .simple("PONG")
        case "echo":
            return .bulk(args[1])
        case "quit":
            closeRequested = true
            return .ok
        case "select":
            guard let index = RESPNumber.integer(args[1]) else { return C.notInteger }
            return index == 0 ? .ok : .error("ERR DB index is out of range")
        case "auth":
            guard args.count <= 3 else { return C.syntaxError }
            return authenticate(user: args.count == 3 ? args[1] : nil, password: args[args.count - 1])
        case "hello":
            return hello(args)
        case "time":
            let micros = WallClock.microsecondsSinceEpoch()
            return .array([.text(String(micros / 1_000_000)), .text(String(micros % 1_000_000))])
        case "client":
            return client(args)
        case "command":
            return command(args)
        case "config":
            return config(args)
        case "info":
            return .bulk(Array(info(args.dropFirst().map { C.option($0).lowercased() }).utf8))
        case "multi":
            guard queued == nil else { return .error("ERR MULTI calls can not be nested") }
            queued = []
            queueRefused = false
            return .ok
        case "discard":
            guard queued != nil else { return .error("ERR DISCARD without MULTI") }
            queued = nil
            watches = []
            return .ok
        case "watch":
            guard queued == nil else { return .error("ERR WATCH inside MULTI is not allowed") }
            let snapshot = try keyspace.database.snapshot()
            watches.append(RESPWatch(snapshot: snapshot, keys: Array(args.dropFirst()), epoch: keyspace.flushEpoch.load(ordering: .acquiring)))
            return .ok
        case "unwatch":
            watches = []
            return .ok
        case "exec":
            return try exec()
        default:
            return .error("ERR unknown command '\(name)'")
        }
    }

    private func authenticate(user: [UInt8]?, password: [UInt8]) -> RESPReply {
        guard let token = server.token else {
            return .error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        }
        if let user, user != Array("default".utf8) || !token.accepts(password: password) {
            return .error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        guard token.accepts(password: password) else { return .error("WRONGPASS invalid username-password pair or user is disabled.") }
        authenticated = true
        return .ok
    }

    private func hello(_ args: [[UInt8]]) -> RESPReply {
        var version = protocolVersion
        if args.count >= 2 {
            guard let requested = RESPNumber.integer(args[1]) else { return .error("ERR Protocol version is not an integer or out of range") }
            guard requested == 2 || requested == 3 else { return .error("NOPROTO unsupported protocol version") }
            version = requested
        }
        var index = 2
        var newName: [UInt8]? = nil
        while index < args.count {
            switch RESPStringCommands.option(args[index]) {
            case "AUTH" where index + 2 < args.count:
                let reply = authenticate(user: args[index + 1], password: args[index + 2])
                if case .error = reply { return reply }
                index += 3
            case "SETNAME" where index + 1 < args.count:
                newName = args[index + 1]
                index += 2
            default:
                return .error("ERR Syntax error in HELLO option '\(Self.printable(args[index]))'")
            }
        }
        guard authenticated else { return .error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time") }
        if let newName { name = newName }
        protocolVersion = version
        return .map([
            (.text("server"), .text("redis")), (.text("version"), .text(Self.redisVersion)),
            (.text("proto"), .integer(version)), (.text("id"), .integer(id)),
            (.text("mode"), .text("standalone")), (.text("role"), .text("master")), (.text("modules"), .array([])),
        ])
    }

    private func client(_ args: [[UInt8]]) -> RESPReply {
        switch RESPStringCommands.option(args[1]) {
        case "SETNAME" where args.count == 3:
            guard !args[2].contains(where: { $0 <= 32 || $0 >= 127 }) else {
                return .error("ERR Client names cannot contain spaces, newlines or special characters.")
            }
            name = args[2].isEmpty ? nil : args[2]
            return .ok
        case "GETNAME" where args.count == 2:
            return name.map { .bulk($0) } ?? .null
        case "ID" where args.count == 2:
            return .integer(id)
        case "SETINFO" where args.count == 4:
            return .ok
        case "INFO" where args.count == 2:
            return .text("id=\(id) name=\(name.map(Self.printable) ?? "") db=0 resp=\(protocolVersion)\n")
        default:
            return .error("ERR unknown subcommand or wrong number of arguments for '\(Self.printable(args[1]))'. Try CLIENT HELP.")
        }
    }

    private func command(_ args: [[UInt8]]) -> RESPReply {
        let table = RESPCommandTable.commands
        guard args.count >= 2 else { return .array(table.keys.sorted().map { table[$0]!.reply }) }
        switch RESPStringCommands.option(args[1]) {
        case "COUNT": return .integer(table.count)
        case "LIST": return .array(table.keys.sorted().map { .text($0) })
        case "INFO":
            let names = args.count > 2 ? args.dropFirst(2).map { String(decoding: $0, as: UTF8.self).lowercased() } : table.keys.sorted()
            return .array(names.map { table[$0]?.reply ?? .null })
        case "DOCS":
            // Minimal: no documentation (clients use it only for hints).
            return .map([])
        default:
            return .error("ERR unknown subcommand '\(Self.printable(args[1]))'. Try COMMAND HELP.")
        }
    }

    private func config(_ args: [[UInt8]]) -> RESPReply {
        switch RESPStringCommands.option(args[1]) {
        case "GET" where args.count >= 3:
            let parameters: [(String, String)] = [
                ("save", ""), ("appendonly", "yes"), ("appendfsync", keyspace.fsync.rawValue),
                ("databases", "1"), ("maxmemory", "0"), ("port", String(server.port.load(ordering: .relaxed))),
                ("proto-max-bulk-len", String(server.maxValue)),
            ]
            var pairs: [(RESPReply, RESPReply)] = []
            for (key, value) in parameters where args.dropFirst(2).contains(where: { RESPGlob.matches(Array($0.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }), Array(key.utf8)) }) {
                pairs.append((.text(key), .text(value)))
            }
            return .map(pairs)
        case "SET":
            return .error("ERR CONFIG SET is not supported by strata-server (use its flags)")
        case "RESETSTAT":
            return .ok
        default:
            return .error("ERR unknown subcommand or wrong number of arguments for '\(Self.printable(args[1]))'. Try CONFIG HELP.")
        }
    }

    /// EXEC: the queued commands as one transaction, under the locks of every key they and the
    /// watched keys name; a null array when a watched key changed since its WATCH.
    private func exec() throws -> RESPReply {
        guard let commands = queued else { return .error("ERR EXEC without MULTI") }
        queued = nil
        let watched = watches
        watches = []
        if queueRefused {
            queueRefused = false
            return .error("EXECABORT Transaction discarded because of previous errors.")
        }
        if watched.contains(where: { $0.epoch != keyspace.flushEpoch.load(ordering: .acquiring) }) { return .nullArray }
        var keys: [[UInt8]] = watched.flatMap(\.keys)
        for command in commands {
            let name = RESPCommandTable.name(command)
            if let info = RESPCommandTable.commands[name] { keys += info.keys(command) }
        }
        do {
            return try keyspace.atomically(keys) { storage in
                for watch in watched {
                    do {
                        try storage.transaction.requireUnchanged(watch.keys.map(RESPKeyspace.storageKey), since: watch.snapshot)
                    } catch StrataError.transactionConflict {
                        throw WatchedKeyChanged()
                    }
                }
                var replies: [RESPReply] = []
                for command in commands {
                    let name = RESPCommandTable.name(command)
                    switch RESPCommandTable.commands[name]?.kind {
                    case .read?, .write?, .modify?: replies.append(try run(name, command, storage))
                    case .keyspace?: replies.append(try keyspaceCommand(name, command, now: storage.now, transaction: storage.transaction))
                    default: replies.append(try control(name, command))
                    }
                }
                return .array(replies)
            }
        } catch is WatchedKeyChanged {
            return .nullArray
        }
    }
}

/// One WATCH: its keys must not change after its snapshot until EXEC.
struct RESPWatch {
    let snapshot: Snapshot
    let keys: [[UInt8]]
    let epoch: UInt64
}
