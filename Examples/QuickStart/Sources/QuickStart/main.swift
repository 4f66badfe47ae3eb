import Strata

let path = CommandLine.arguments.dropFirst().first ?? "quickstart-data"
let db = try Database.open(at: path)

// Keys and values are any contiguous bytes: String, [UInt8], Data, slices, buffers.
try db.put("user:1", "Ada")
try db.put("user:2", [0x47, 0x72, 0x61, 0x63, 0x65])

var batch = WriteBatch()                          // atomic: all of it or none, also across a crash
batch.put("user:3", "Linus")
batch.delete("user:2")
try db.write(batch, options: WriteOptions(sync: true))   // durable against power loss when it returns

let name = try db.get("user:1", as: String.self)   // "Ada"; get(_:) returns [UInt8]?
precondition(name == "Ada")

// Ranges are half-open, [from, to); prefixes are ranges too.
let entries = try db.scan(prefix: "user:").collect()
precondition(entries.map { String(decoding: $0.key, as: UTF8.self) } == ["user:1", "user:3"])
try db.deleteRange(from: "session:", to: "session;")

// Snapshots read one moment, however long they are held.
let before = try db.snapshot()
try db.put("user:1", "Ada Lovelace")
let then = try db.get("user:1", as: String.self, at: before)   // still "Ada"
precondition(then == "Ada")

// Transactions: read, decide, write — committed atomically, retried on a conflict.
try db.put("acct:a", "100")
try db.put("acct:b", "0")
try db.transaction { txn in                                 // serializable by default
    let a = Int(try txn.get("acct:a", as: String.self) ?? "0")!
    let b = Int(try txn.get("acct:b", as: String.self) ?? "0")!
    try txn.put("acct:a", String(a - 10))
    try txn.put("acct:b", String(b + 10))
}
let balance = try db.get("acct:b", as: String.self)          // "10"
precondition(balance == "10")

// Keyspaces: separate key spaces with their own tables and table options over one log — a
// batch or a transaction spans them atomically.
let sessions = try db.keyspace("sessions", options: KeyspaceOptions(compression: .zstd(level: 3)))
var login = WriteBatch()
login.put("s:42", "user:1", in: sessions)
login.put("login:user:1", "2026-11-29")                      // the default keyspace
try db.write(login)
let owner = try sessions.get("s:42", as: String.self)         // "user:1"; db.get("s:42") is nil
precondition(owner == "user:1")

// In async code the async overloads run on Strata's own threads, never blocking the
// cooperative pool on disk reads, fsync or write stalls; scans are back-pressured AsyncSequences.
func countUsers(in db: Database) async throws -> Int {
    try await db.put("visits", "1", options: WriteOptions(sync: true))
    var users = 0
    for try await (_, _) in db.scan(prefix: "user:") { users += 1 }
    return users
}
let users = try await countUsers(in: db)
precondition(users == 2)

try db.close()
print("quickstart: ok")
