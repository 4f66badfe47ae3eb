import Encoding
import Strata

/// SCAN, KEYS, DBSIZE, FLUSHDB and FLUSHALL: commands over the whole RESP keyspace.
extension RESPSession {
    /// The engine key range of the RESP keyspace.
    static var keyspaceRange: (from: [UInt8], to: [UInt8]) {
        (RESPKeyspace.prefix, KeyRange.prefixEnd(RESPKeyspace.prefix)!)
    }

    func keyspaceCommand(_ name: String, _ args: [[UInt8]], now: UInt64, transaction: Transaction? = nil) throws -> RESPReply {
        switch name {
        case "scan": return try scan(args, now: now)
        case "keys": return try keys(args, now: now)
        case "dbsize": return .integer(try liveKeyCount(now: now))
        case "flushdb", "flushall":
            if args.count > 2 || (args.count == 2 && !["ASYNC", "SYNC"].contains(RESPStringCommands.option(args[1]))) {
                return RESPStringCommands.syntaxError
            }
            let range = Self.keyspaceRange
            if let transaction {
                try transaction.deleteRange(from: range.from, to: range.to)
            } else {
                try keyspace.database.deleteRange(from: range.from, to: range.to, options: keyspace.writeOptions)
            }
            keyspace.flushEpoch.add(1, ordering: .acquiringAndReleasing)
            return .ok
        default:
            return .error("ERR unknown command '\(name)'")
        }
    }

    /// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]; cursors as `RESPScanCursors` describes.
    private func scan(_ args: [[UInt8]], now: UInt64) throws -> RESPReply {
        guard let start = server.scanCursors.key(for: args[1]) else { return .error("ERR invalid cursor") }
        var pattern: [UInt8]? = nil
        var count = 10
        var typeFilter: String? = nil
        var index = 2
        while index < args.count {
            guard index + 1 < args.count else { return RESPStringCommands.syntaxError }
            switch RESPStringCommands.option(args[index]) {
            case "MATCH": pattern = args[index + 1]
            case "COUNT":
                guard let value = RESPNumber.integer(args[index + 1]) else { return RESPStringCommands.notInteger }
                guard value >= 1 else { return RESPStringCommands.syntaxError }
                count = min(value, 100_000)
            case "TYPE": typeFilter = String(decoding: args[index + 1], as: UTF8.self).lowercased()
            default: return RESPStringCommands.syntaxError
            }
            index += 2
        }
        let range = Self.keyspaceRange
        let cursor = try keyspace.database.cursor(ReadOptions(from: RESPKeyspace.storageKey(start), to: range.to))
        try cursor.seekToFirst()
        var found: [RESPReply] = []
        var examined = 0
        while cursor.isValid && examined < count {
            examined += 1
            let key = RESPKeyspace.userKey(cursor.key)
            let live = try RESPKeyspace.live(cursor.value, now: now) != nil
            if live && typeFilter.map({ $0 == "string" }) ?? true && pattern.map({ RESPGlob.matches($0, key) }) ?? true {
                found.append(.bulk(key))
            }
            try cursor.next()
        }
        let next = cursor.isValid ? server.scanCursors.cursor(resumingAt: RESPKeyspace.userKey(cursor.key)) : "0"
        return .array([.text(next), .array(found)])
    }

    /// KEYS pattern: every live matching key (reads the whole keyspace; replies stream out only
    /// once complete, as in Redis — use SCAN for large keyspaces).
    private func keys(_ args: [[UInt8]], now: UInt64) throws -> RESPReply {
        let range = Self.keyspaceRange
        let cursor = try keyspace.database.cursor(ReadOptions(from: range.from, to: range.to))
        try cursor.seekToFirst()
        var found: [RESPReply] = []
        while cursor.isValid {
            let key = RESPKeyspace.userKey(cursor.key)
            if RESPGlob.matches(args[1], key), try RESPKeyspace.live(cursor.value, now: now) != nil { found.append(.bulk(key)) }
            try cursor.next()
        }
        return .array(found)
    }

    /// DBSIZE: exact — it counts the live keys, which takes time proportional to the keyspace.
    func liveKeyCount(now: UInt64) throws -> Int {
        let range = Self.keyspaceRange
        let cursor = try keyspace.database.cursor(ReadOptions(from: range.from, to: range.to))
        try cursor.seekToFirst()
        var total = 0
        while cursor.isValid {
            let live = try cursor.withCurrent { _, value -> Bool in
                guard let expiry = try ExpiringValue.expiry(of: value) else { return true }
                return expiry > now
            }
            if live { total += 1 }
            try cursor.next()
        }
        return total
    }
}
