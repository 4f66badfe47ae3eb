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
        case "dbsize": return .integer(try count(now: now))
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

    /// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]. The cursor is "0" to start (and when the
    /// scan is complete); otherwise it encodes the next key to read: "1" followed by each byte
    /// as three decimal digits — a decimal integer, as clients expect, that may exceed 64 bits.
    /// Stateless: a cursor stays valid forever, and every key present for the whole scan is
    /// returned exactly once.
    private func scan(_ args: [[UInt8]], now: UInt64) throws -> RESPReply {
        guard let start = Self.decodeCursor(args[1]) else { return .error("ERR invalid cursor") }
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
        let next = cursor.isValid ? Self.encodeCursor(RESPKeyspace.userKey(cursor.key)) : "0"
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
    private func count(now: UInt64) throws -> Int {
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

    package static func encodeCursor(_ key: [UInt8]) -> String {
        var text = "1"
        text.reserveCapacity(1 + key.count * 3)
        for byte in key {
            text.append(Character(UnicodeScalar(48 + byte / 100)))
            text.append(Character(UnicodeScalar(48 + byte / 10 % 10)))
            text.append(Character(UnicodeScalar(48 + byte % 10)))
        }
        return text
    }

    /// The key a cursor starts at (empty for "0"), or `nil` for a malformed cursor.
    package static func decodeCursor(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes == [UInt8(ascii: "0")] { return [] }
        guard bytes.first == UInt8(ascii: "1"), (bytes.count - 1) % 3 == 0, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var key: [UInt8] = []
        key.reserveCapacity((bytes.count - 1) / 3)
        var index = 1
        while index < bytes.count {
            let value = Int(bytes[index] - 48) * 100 + Int(bytes[index + 1] - 48) * 10 + Int(bytes[index + 2] - 48)
            guard value <= 255 else { return nil }
            key.append(UInt8(value))
            index += 3
        }
        return key
    }
}
