/// The string commands, written once against `RESPStorage` so the same code runs straight on
/// the database, as one atomic read-modify-write, or inside MULTI/EXEC. User errors are error
/// replies; only engine failures throw.
enum RESPStringCommands {
    typealias Arguments = [[UInt8]]

    static let syntaxError = RESPReply.error("ERR syntax error")
    static let notInteger = RESPReply.error("ERR value is not an integer or out of range")
    static let notFloat = RESPReply.error("ERR value is not a valid float")
    static let overflow = RESPReply.error("ERR increment or decrement would overflow")
    static let tooBig = RESPReply.error("ERR string exceeds maximum allowed size")

    static func invalidExpire(_ command: String) -> RESPReply { .error("ERR invalid expire time in '\(command)' command") }

    /// Upper-cased ASCII of an option argument.
    static func option(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
    }

    /// An absolute expiry (Unix ms) from `EX`/`PX`/`EXAT`/`PXAT` and its argument; `nil` for a
    /// value Redis refuses (not an integer, not positive, overflowing).
    static func expiry(_ unit: String, _ argument: [UInt8], now: UInt64) -> UInt64? {
        guard let amount = RESPNumber.integer(argument), amount > 0 else { return nil }
        let value = UInt64(amount)
        switch unit {
        case "EX":
            let (ms, overflow) = value.multipliedReportingOverflow(by: 1000)
            guard !overflow, ms <= UInt64(Int.max) - now else { return nil }
            return now + ms
        case "PX":
            guard value <= UInt64(Int.max) - now else { return nil }
            return now + value
        case "EXAT":
            let (ms, overflow) = value.multipliedReportingOverflow(by: 1000)
            return overflow || ms > UInt64(Int.max) ? nil : ms
        case "PXAT":
            return value
        default:
            return nil
        }
    }

    // MARK: - GET / SET family

    static func get(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        try storage.read(args[1]).map { .bulk($0.payload) } ?? .null
    }

    /// Whether SET with these arguments must read before writing (NX, XX, GET, KEEPTTL).
    static func setReads(_ args: Arguments) -> Bool {
        args.dropFirst(3).contains { ["NX", "XX", "GET", "KEEPTTL"].contains(option($0)) }
    }

    static func set(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        let key = args[1]
        let value = args[2]
        var onlyIfAbsent = false
        var onlyIfPresent = false
        var returnOld = false
        var keepTTL = false
        var expiresAt: UInt64? = nil
        var sawExpiry = false
        var index = 3
        while index < args.count {
            let word = option(args[index])
            switch word {
            case "NX" where !onlyIfPresent: onlyIfAbsent = true
            case "XX" where !onlyIfAbsent: onlyIfPresent = true
            case "GET": returnOld = true
            case "KEEPTTL" where !sawExpiry: keepTTL = true
            case "EX", "PX", "EXAT", "PXAT":
                guard !sawExpiry, !keepTTL, index + 1 < args.count else { return syntaxError }
                guard let at = expiry(word, args[index + 1], now: storage.now) else { return invalidExpire("set") }
                expiresAt = at
                sawExpiry = true
                index += 1
            default: return syntaxError
            }
            index += 1
        }
        guard value.count <= maxValue else { return tooBig }
        var old: RESPValue? = nil
        if onlyIfAbsent || onlyIfPresent || returnOld || keepTTL { old = try storage.read(key) }
        let oldReply: RESPReply = old.map { .bulk($0.payload) } ?? .null
        if (onlyIfAbsent && old != nil) || (onlyIfPresent && old == nil) { return returnOld ? oldReply : .null }
        if keepTTL { expiresAt = old?.expiresAt }
        try storage.write(key, RESPValue(payload: value, expiresAt: expiresAt))
        return returnOld ? oldReply : .ok
    }

    static func setnx(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        guard args[2].count <= maxValue else { return tooBig }
        guard try storage.read(args[1]) == nil else { return .integer(0) }
        try storage.write(args[1], RESPValue(payload: args[2], expiresAt: nil))
        return .integer(1)
    }

    /// SETEX (seconds) and PSETEX (milliseconds).
    static func setex(_ args: Arguments, _ storage: some RESPStorage, unit: String, maxValue: Int) throws -> RESPReply {
        guard RESPNumber.integer(args[2]) != nil else { return notInteger }
        guard let at = expiry(unit, args[2], now: storage.now) else { return invalidExpire(unit == "EX" ? "setex" : "psetex") }
        guard args[3].count <= maxValue else { return tooBig }
        try storage.write(args[1], RESPValue(payload: args[3], expiresAt: at))
        return .ok
    }

    static func getset(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        guard args[2].count <= maxValue else { return tooBig }
        let old = try storage.read(args[1])
        try storage.write(args[1], RESPValue(payload: args[2], expiresAt: nil))
        return old.map { .bulk($0.payload) } ?? .null
    }

    static func getdel(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        guard let old = try storage.read(args[1]) else { return .null }
        try storage.remove(args[1])
        return .bulk(old.payload)
    }

    static func getex(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        var newExpiry: UInt64?? = nil  // .some(nil): PERSIST
        var index = 2
        while index < args.count {
            let word = option(args[index])
            switch word {
            case "PERSIST" where newExpiry == nil: newExpiry = .some(nil)
            case "EX", "PX", "EXAT", "PXAT":
                guard newExpiry == nil, index + 1 < args.count else { return syntaxError }
                guard let at = expiry(word, args[index + 1], now: storage.now) else { return invalidExpire("getex") }
                newExpiry = .some(at)
                index += 1
            default: return syntaxError
            }
            index += 1
        }
        guard var value = try storage.read(args[1]) else { return .null }
        if let newExpiry {
            value.expiresAt = newExpiry
            try storage.write(args[1], value)
        }
        return .bulk(value.payload)
    }

    static func mget(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        .array(try args.dropFirst().map { try storage.read($0).map { .bulk($0.payload) } ?? .null })
    }

    static func mset(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        guard args.count % 2 == 1 else { return .error("ERR wrong number of arguments for 'mset' command") }
        guard stride(from: 2, to: args.count, by: 2).allSatisfy({ args[$0].count <= maxValue }) else { return tooBig }
        for index in stride(from: 1, to: args.count, by: 2) {
            try storage.write(args[index], RESPValue(payload: args[index + 1], expiresAt: nil))
        }
        return .ok
    }

    static func msetnx(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        guard args.count % 2 == 1 else { return .error("ERR wrong number of arguments for 'msetnx' command") }
        guard stride(from: 2, to: args.count, by: 2).allSatisfy({ args[$0].count <= maxValue }) else { return tooBig }
        for index in stride(from: 1, to: args.count, by: 2) where try storage.read(args[index]) != nil { return .integer(0) }
        for index in stride(from: 1, to: args.count, by: 2) {
            try storage.write(args[index], RESPValue(payload: args[index + 1], expiresAt: nil))
        }
        return .integer(1)
    }

    // MARK: - Keys

    /// DEL and UNLINK.
    static func del(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        var removed = 0
        for key in Set(args.dropFirst()) where try storage.read(key) != nil {
            try storage.remove(key)
            removed += 1
        }
        return .integer(removed)
    }

    /// RENAME and RENAMENX: the value and its expiry move to the new key, atomically (the
    /// command locks both keys); renaming a key to itself changes nothing.
    static func rename(_ args: Arguments, _ storage: some RESPStorage, onlyIfFree: Bool) throws -> RESPReply {
        guard let value = try storage.read(args[1]) else { return .error("ERR no such key") }
        if onlyIfFree {
            guard args[1] != args[2], try storage.read(args[2]) == nil else { return .integer(0) }
        } else if args[1] == args[2] {
            return .ok
        }
        try storage.write(args[2], value)
        try storage.remove(args[1])
        return onlyIfFree ? .integer(1) : .ok
    }

    /// COPY source destination [DB 0] [REPLACE]: 1 when copied (with the expiry), 0 when the
    /// source is absent or the destination taken without REPLACE. Only database 0 exists.
    static func copy(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        var replace = false
        var index = 3
        while index < args.count {
            switch option(args[index]) {
            case "REPLACE": replace = true
            case "DB":
                guard index + 1 < args.count, let database = RESPNumber.integer(args[index + 1]) else { return syntaxError }
                guard database == 0 else { return .error("ERR DB index is out of range") }
                index += 1
            default: return syntaxError
            }
            index += 1
        }
        guard let value = try storage.read(args[1]) else { return .integer(0) }
        if args[1] == args[2] { return .error("ERR source and destination objects are the same") }
        if !replace, try storage.read(args[2]) != nil { return .integer(0) }
        try storage.write(args[2], value)
        return .integer(1)
    }

    static func exists(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        var count = 0
        for key in args.dropFirst() where try storage.read(key) != nil { count += 1 }
        return .integer(count)
    }

    static func type(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        .simple(try storage.read(args[1]) == nil ? "none" : "string")
    }

    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT.
    static func expire(_ args: Arguments, _ storage: some RESPStorage, unit: String, command: String) throws -> RESPReply {
        guard let amount = RESPNumber.integer(args[2]) else { return notInteger }
        var condition: String? = nil
        for word in args.dropFirst(3).map(option) {
            guard ["NX", "XX", "GT", "LT"].contains(word) else { return .error("ERR Unsupported option \(word)") }
            if let condition, condition != word {
                return .error("ERR NX and XX, GT or LT options at the same time are not compatible")
            }
            condition = word
        }
        // The absolute time, in milliseconds (may be in the past: then the key is deleted).
        let now = Int(storage.now)
        let at: Int
        switch unit {
        case "EX", "EXAT":
            let (ms, overflow) = amount.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return invalidExpire(command) }
            let (sum, overflow2) = unit == "EX" ? ms.addingReportingOverflow(now) : (ms, false)
            guard !overflow2 else { return invalidExpire(command) }
            at = sum
        default:
            let (sum, overflow) = unit == "PX" ? amount.addingReportingOverflow(now) : (amount, false)
            guard !overflow else { return invalidExpire(command) }
            at = sum
        }
        guard var value = try storage.read(args[1]) else { return .integer(0) }
        let current = value.expiresAt.map { Int($0) }  // nil: no expiry (infinite)
        switch condition {
        case "NX" where current != nil: return .integer(0)
        case "XX" where current == nil: return .integer(0)
        case "GT" where current == nil || at <= current!: return .integer(0)
        case "LT" where current != nil && at >= current!: return .integer(0)
        default: break
        }
        if at <= now {
            try storage.remove(args[1])
        } else {
            value.expiresAt = UInt64(at)
            try storage.write(args[1], value)
        }
        return .integer(1)
    }

    /// TTL (seconds) and PTTL (milliseconds): -2 without the key, -1 without an expiry.
    static func ttl(_ args: Arguments, _ storage: some RESPStorage, milliseconds: Bool) throws -> RESPReply {
        guard let value = try storage.read(args[1]) else { return .integer(-2) }
        guard let at = value.expiresAt else { return .integer(-1) }
        let remaining = Int(at - storage.now)
        return .integer(milliseconds ? remaining : (remaining + 500) / 1000)
    }

    /// EXPIRETIME (seconds) and PEXPIRETIME (milliseconds): the absolute expiry.
    static func expiretime(_ args: Arguments, _ storage: some RESPStorage, milliseconds: Bool) throws -> RESPReply {
        guard let value = try storage.read(args[1]) else { return .integer(-2) }
        guard let at = value.expiresAt else { return .integer(-1) }
        return .integer(milliseconds ? Int(at) : Int(at / 1000))
    }

    static func persist(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        guard var value = try storage.read(args[1]), value.expiresAt != nil else { return .integer(0) }
        value.expiresAt = nil
        try storage.write(args[1], value)
        return .integer(1)
    }

    // MARK: - Numbers

    /// INCR, DECR, INCRBY, DECRBY: `by` is the increment, or `nil` to read it from `args[2]`
    /// (negated when `negate`).
    static func incr(_ args: Arguments, _ storage: some RESPStorage, by fixed: Int?, negate: Bool = false) throws -> RESPReply {
        var increment: Int
        if let fixed {
            increment = fixed
        } else {
            guard let parsed = RESPNumber.integer(args[2]) else { return notInteger }
            if negate {
                guard parsed != .min else { return .error("ERR decrement would overflow") }
                increment = -parsed
            } else {
                increment = parsed
            }
        }
        let old = try storage.read(args[1])
        var current = 0
        if let old {
            guard let parsed = RESPNumber.integer(old.payload) else { return notInteger }
            current = parsed
        }
        let (sum, overflowed) = current.addingReportingOverflow(increment)
        guard !overflowed else { return overflow }
        // The expiry stays (Redis keeps the TTL on INCR).
        try storage.write(args[1], RESPValue(payload: Array(String(sum).utf8), expiresAt: old?.expiresAt))
        return .integer(sum)
    }

    static func incrbyfloat(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        guard let increment = RESPNumber.double(args[2]) else { return notFloat }
        let old = try storage.read(args[1])
        var current = 0.0
        if let old {
            guard let parsed = RESPNumber.double(old.payload) else { return notFloat }
            current = parsed
        }
        let sum = current + increment
        guard sum.isFinite else { return .error("ERR increment would produce NaN or Infinity") }
        let text = Array(RESPNumber.format(sum).utf8)
        try storage.write(args[1], RESPValue(payload: text, expiresAt: old?.expiresAt))
        return .bulk(text)
    }

    // MARK: - Byte ranges

    static func append(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        var value = try storage.read(args[1]) ?? RESPValue(payload: [], expiresAt: nil)
        guard value.payload.count + args[2].count <= maxValue else { return tooBig }
        value.payload += args[2]
        try storage.write(args[1], value)
        return .integer(value.payload.count)
    }

    static func strlen(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        .integer(try storage.read(args[1])?.payload.count ?? 0)
    }

    /// GETRANGE (and SUBSTR): inclusive offsets, negative from the end.
    static func getrange(_ args: Arguments, _ storage: some RESPStorage) throws -> RESPReply {
        guard var start = RESPNumber.integer(args[2]), var end = RESPNumber.integer(args[3]) else { return notInteger }
        let payload = try storage.read(args[1])?.payload ?? []
        let count = payload.count
        if start < 0 && end < 0 && start > end { return .bulk([]) }
        if start < 0 { start = max(0, count + start) }
        if end < 0 { end = max(0, count + end) }
        end = min(end, count - 1)
        guard count > 0, start <= end else { return .bulk([]) }
        return .bulk(Array(payload[start...end]))
    }

    static func setrange(_ args: Arguments, _ storage: some RESPStorage, maxValue: Int) throws -> RESPReply {
        guard let offset = RESPNumber.integer(args[2]) else { return notInteger }
        guard offset >= 0 else { return .error("ERR offset is out of range") }
        let patch = args[3]
        var value = try storage.read(args[1])
        if patch.isEmpty { return .integer(value?.payload.count ?? 0) }
        guard offset <= maxValue - patch.count else { return tooBig }
        var current = value ?? RESPValue(payload: [], expiresAt: nil)
        if current.payload.count < offset + patch.count {
            current.payload += [UInt8](repeating: 0, count: offset + patch.count - current.payload.count)
        }
        current.payload.replaceSubrange(offset..<(offset + patch.count), with: patch)
        value = current
        try storage.write(args[1], current)
        return .integer(current.payload.count)
    }
}
