/// What the server knows about each command: Redis' arity convention (positive: exactly that
/// many arguments including the name; negative: at least), flags, and where the keys are —
/// used to check requests, to lock a command's keys, and to answer `COMMAND`.
struct RESPCommandInfo: Sendable {
    /// How a command touches data, which decides how it runs.
    enum Kind: Sendable {
        /// Reads only.
        case read
        /// Writes without reading (may join the pipeline's batch) — unless `reads(args)`.
        case write
        /// Reads then writes: runs as one atomic read-modify-write of its keys.
        case modify
        /// Reads or writes the whole keyspace (SCAN, KEYS, DBSIZE, FLUSHDB).
        case keyspace
        /// Connection and server commands: no data.
        case control
    }

    let name: String
    let arity: Int
    let flags: [String]
    let firstKey: Int
    let lastKey: Int
    let step: Int
    let kind: Kind

    /// The key arguments of `args`.
    func keys(_ args: [[UInt8]]) -> [[UInt8]] {
        guard firstKey > 0, args.count > firstKey else { return [] }
        let last = lastKey < 0 ? args.count + lastKey : min(lastKey, args.count - 1)
        guard last >= firstKey else { return [] }
        return stride(from: firstKey, through: last, by: step).map { args[$0] }
    }

    /// Whether `count` arguments (the name included) satisfy the arity.
    func accepts(count: Int) -> Bool { arity >= 0 ? count == arity : count >= -arity }

    /// `COMMAND INFO`'s entry.
    var reply: RESPReply {
        .array([.text(name), .integer(arity), .array(flags.map { .simple($0) }), .integer(firstKey), .integer(lastKey), .integer(step)])
    }
}

enum RESPCommandTable {
    /// The lower-case name of a command's first argument (ASCII folding, as Redis does).
    static func name(_ command: [[UInt8]]) -> String {
        String(decoding: command[0].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    private static func info(_ name: String, _ arity: Int, _ flags: [String], _ first: Int = 0, _ last: Int = 0, _ step: Int = 0, _ kind: RESPCommandInfo.Kind) -> RESPCommandInfo {
        RESPCommandInfo(name: name, arity: arity, flags: flags, firstKey: first, lastKey: last, step: step, kind: kind)
    }

    /// Every supported command, by lower-case name.
    static let commands: [String: RESPCommandInfo] = {
        let all: [RESPCommandInfo] = [
            // Strings
            info("get", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("set", -3, ["write", "denyoom"], 1, 1, 1, .write),
            info("setnx", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("setex", 4, ["write", "denyoom"], 1, 1, 1, .write),
            info("psetex", 4, ["write", "denyoom"], 1, 1, 1, .write),
            info("getset", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("getdel", 2, ["write", "fast"], 1, 1, 1, .modify),
            info("getex", -2, ["write", "fast"], 1, 1, 1, .modify),
            info("mget", -2, ["readonly", "fast"], 1, -1, 1, .read),
            info("mset", -3, ["write", "denyoom"], 1, -1, 2, .write),
            info("msetnx", -3, ["write", "denyoom"], 1, -1, 2, .modify),
            info("incr", 2, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("decr", 2, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("incrby", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("decrby", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("incrbyfloat", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("append", 3, ["write", "denyoom", "fast"], 1, 1, 1, .modify),
            info("strlen", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("getrange", 4, ["readonly"], 1, 1, 1, .read),
            info("substr", 4, ["readonly"], 1, 1, 1, .read),
            info("setrange", 4, ["write", "denyoom"], 1, 1, 1, .modify),
            // Keys
            info("del", -2, ["write"], 1, -1, 1, .modify),
            info("unlink", -2, ["write", "fast"], 1, -1, 1, .modify),
            info("exists", -2, ["readonly", "fast"], 1, -1, 1, .read),
            info("rename", 3, ["write"], 1, 2, 1, .modify),
            info("renamenx", 3, ["write", "fast"], 1, 2, 1, .modify),
            info("copy", -3, ["write", "denyoom"], 1, 2, 1, .modify),
            info("type", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("expire", -3, ["write", "fast"], 1, 1, 1, .modify),
            info("pexpire", -3, ["write", "fast"], 1, 1, 1, .modify),
            info("expireat", -3, ["write", "fast"], 1, 1, 1, .modify),
            info("pexpireat", -3, ["write", "fast"], 1, 1, 1, .modify),
            info("ttl", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("pttl", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("expiretime", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("pexpiretime", 2, ["readonly", "fast"], 1, 1, 1, .read),
            info("persist", 2, ["write", "fast"], 1, 1, 1, .modify),
            info("scan", -2, ["readonly"], 0, 0, 0, .keyspace),
            info("keys", 2, ["readonly"], 0, 0, 0, .keyspace),
            info("dbsize", 1, ["readonly", "fast"], 0, 0, 0, .keyspace),
            info("flushdb", -1, ["write"], 0, 0, 0, .keyspace),
            info("flushall", -1, ["write"], 0, 0, 0, .keyspace),
            // Transactions
            info("multi", 1, ["fast", "no-script"], 0, 0, 0, .control),
            info("exec", 1, ["no-script"], 0, 0, 0, .control),
            info("discard", 1, ["fast", "no-script"], 0, 0, 0, .control),
            info("watch", -2, ["fast", "no-script"], 1, -1, 1, .control),
            info("unwatch", 1, ["fast", "no-script"], 0, 0, 0, .control),
            // Connection and server
            info("ping", -1, ["fast"], 0, 0, 0, .control),
            info("echo", 2, ["fast"], 0, 0, 0, .control),
            info("hello", -1, ["fast", "no-auth"], 0, 0, 0, .control),
            info("auth", -2, ["fast", "no-auth"], 0, 0, 0, .control),
            info("select", 2, ["fast"], 0, 0, 0, .control),
            info("quit", -1, ["fast", "no-auth"], 0, 0, 0, .control),
            info("client", -2, ["admin"], 0, 0, 0, .control),
            info("command", -1, ["loading", "stale"], 0, 0, 0, .control),
            info("config", -2, ["admin"], 0, 0, 0, .control),
            info("info", -1, ["loading", "stale"], 0, 0, 0, .control),
            info("time", 1, ["fast"], 0, 0, 0, .control),
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }()
}
