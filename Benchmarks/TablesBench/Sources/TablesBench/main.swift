// Strata's Tables against SQLite (through GRDB.swift) on the same records: 1M users (id, email,
// name, age, 100-byte bio), WAL journal and synchronous=NORMAL on SQLite, default options but
// uncompressed tables on Strata (both durable against a process crash, not power loss). Run by `make bench-tables`;
// the figures go to Docs/BENCHMARKS.md. Medians over --reps runs, the engines interleaved.

import Foundation
import GRDB
import Strata
import Tables

struct Arguments {
    var num = 1_000_000
    var lookups = 200_000
    var queries = 5_000
    /// Records in the codec comparison printed first.
    var codecRecords = 200_000
    var reps = 1
    /// Only the inserts (for profiling one engine's write path).
    var insertsOnly = false
    /// Only Strata (for profiling).
    var strataOnly = false
    /// Only the lookups and queries, on the Strata database a run with `--keep 1` left in
    /// `--dir` (for profiling the read path without the load before it); implies `--strata-only`.
    var readsOnly = false
    /// Leave the databases in `--dir` at the end.
    var keep = false
    /// Before the lookups and queries, wait until Strata's background compactions after the
    /// load are done (`Database.waitForCompactions()`): steady-state reads instead of reads
    /// that share the cores with the load's compaction debt.
    var settle = false
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("tables-bench").path

    init() {
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--num": num = Int(value) ?? num
            case "--lookups": lookups = Int(value) ?? lookups
            case "--queries": queries = Int(value) ?? queries
            case "--codec-records": codecRecords = Int(value) ?? codecRecords
            case "--reps": reps = Int(value) ?? reps
            case "--dir": directory = value
            case "--inserts-only": insertsOnly = value == "1"
            case "--strata-only": strataOnly = value == "1"
            case "--reads-only": readsOnly = value == "1"; strataOnly = strataOnly || readsOnly
            case "--keep": keep = value == "1"
            case "--settle": settle = value == "1"
            default:
                FileHandle.standardError.write("usage: TablesBench [--num N] [--lookups N] [--queries N] [--codec-records N] [--reps N] [--dir DIR] [--inserts-only 1] [--strata-only 1] [--reads-only 1] [--keep 1] [--settle 1]\n".data(using: .utf8)!)
                exit(2)
            }
        }
    }
}

/// The record as Strata stores it (the id is the key).
struct User: Codable, Sendable {
    var email: String
    var name: String
    var age: Int
    var bio: String
}

/// The record as GRDB stores it (the id is the rowid).
struct SQLUser: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"
    var id: Int64
    var email: String
    var name: String
    var age: Int
    var bio: String
}

/// A fixed permutation-like scramble, so emails and ages are not in id order.
func scramble(_ id: Int) -> UInt64 {
    var x = UInt64(id) &+ 0x9E37_79B9_7F4A_7C15
    x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
    x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
    return x ^ (x >> 31)
}

let bio = String(repeating: "b", count: 100)
func user(_ id: Int) -> User {
    let s = scramble(id)
    // Name and age from different bits of the hash: independent, so a filter on the name
    // keeps a tenth of any age's rows.
    return User(email: "u\(s % 10_000_000_000)-\(id)@example.com", name: "name\((s >> 32) % 1000)", age: Int(s % 100), bio: bio)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func fresh(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

// MARK: - Strata

struct StrataTables {
    let db: Strata.Database
    let users: Tables.Table<UInt64, User>
    let byEmail: TableIndex<User, String>
    let byAge: TableIndex<User, Int>

    init(path: String, indexes: Int) throws {
        // Uncompressed tables, as SQLite's pages are; otherwise the defaults.
        var options = Options()
        options.compression = .none
        db = try Strata.Database.open(at: path, options: options)
        var schema = TableSchema<UInt64, User>(name: "users")
        // Declared in every configuration (the handles are needed); only the first `indexes`
        // are on the table.
        var scratch = TableSchema<UInt64, User>(name: "scratch")
        byEmail = indexes >= 1 ? schema.index("byEmail", unique: true) { $0.email } : scratch.index("byEmail", unique: true) { $0.email }
        // byAge stores the name (the query's filter field); SQLite's byAge is on (age, name), the
        // same covering index in its terms.
        byAge = indexes >= 3 ? schema.index("byAge", storing: ["name"]) { $0.age } : scratch.index("byAge") { $0.age }
        if indexes >= 3 { schema.index("byName") { $0.name } }
        users = try Tables.Table(schema, in: db)
    }
}

// MARK: - SQLite

func openSQLite(path: String, indexes: Int) throws -> DatabasePool {
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous=NORMAL") }
    let pool = try DatabasePool(path: path + "/users.sqlite", configuration: configuration)
    try pool.write { db in
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, age INTEGER NOT NULL, bio TEXT NOT NULL)")
        if indexes >= 1 { try db.execute(sql: "CREATE UNIQUE INDEX IF NOT EXISTS byEmail ON users(email)") }
        if indexes >= 3 {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS byAge ON users(age, name)")
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS byName ON users(name)")
        }
    }
    return pool
}

// MARK: - Workloads

let arguments = Arguments()
let n = arguments.num
let batch = 1000
var results: [String: [String: [Double]]] = [:]  // workload → engine → ops/s per rep
@MainActor func record(_ workload: String, _ engine: String, _ ops: Int, _ elapsed: @autoclosure () throws -> Double) rethrows {
    if engine == "sqlite" && arguments.strataOnly { return }
    let elapsed = try elapsed()
    results[workload, default: [:]][engine, default: []].append(Double(ops) / elapsed)
    print(String(format: "  %-22@ %-7@ %12.0f ops/s  (%.2f s)", workload as NSString, engine as NSString, Double(ops) / elapsed, elapsed))
    fflush(nil)
}

// The two value codecs on the benchmark's records: bytes, encodes and decodes per second.
do {
    let sample = (0..<arguments.codecRecords).map(user)
    print("| codec (\(arguments.codecRecords) users) | bytes per record | encodes/s | decodes/s |")
    print("|---|---:|---:|---:|")
    for (name, codec) in [("BinaryRecordCodec", BinaryRecordCodec() as any RecordCodec), ("JSONRecordCodec", JSONRecordCodec())] {
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(sample.count)
        let encodeTime = try seconds { for u in sample { encoded.append(try codec.encode(u)) } }
        var ages = 0
        let decodeTime = try seconds { for bytes in encoded { ages &+= try codec.decode(User.self, from: bytes).age } }
        let bytes = Double(encoded.reduce(0) { $0 + $1.count }) / Double(sample.count)
        print(String(format: "| %@ | %.1f | %.0f | %.0f |", name as NSString, bytes, Double(sample.count) / encodeTime, Double(sample.count) / decodeTime))
        guard ages > 0 else { fatalError("no ages") }
    }
    print("")
}

var generator = SystemRandomNumberGenerator()
for rep in 1...arguments.reps {
    print("rep \(rep) of \(arguments.reps), \(n) users")
    for indexes in arguments.readsOnly ? [3] : [0, 1, 3] {
        let name = "insert, \(indexes) index\(indexes == 1 ? "" : "es")"
        let strataPath = arguments.directory + "/strata-\(indexes)"
        let sqlitePath = arguments.directory + "/sqlite-\(indexes)"
        if !arguments.readsOnly {
            fresh(strataPath)
            fresh(sqlitePath)
        }
        let strata = try StrataTables(path: strataPath, indexes: indexes)
        if !arguments.readsOnly {
            try record(name, "strata", n, try seconds {
                try strata.users.insert(contentsOf: (0..<n).lazy.map { (UInt64($0), user($0)) }, batchSize: batch)
            })
        }
        let pool = try openSQLite(path: sqlitePath, indexes: indexes)
        if !arguments.readsOnly {
            try record(name, "sqlite", n, try seconds {
                for start in stride(from: 0, to: n, by: batch) {
                    try pool.write { db in
                        for id in start..<min(start + batch, n) {
                            let u = user(id)
                            try SQLUser(id: Int64(id), email: u.email, name: u.name, age: u.age, bio: u.bio).insert(db)
                        }
                    }
                }
            })
        }
        guard indexes == 3 && !arguments.insertsOnly else {
            try strata.db.close()
            try pool.close()
            continue
        }
        if arguments.settle {
            let settling = try seconds { try strata.db.waitForCompactions() }
            print(String(format: "  (waited %.2f s for Strata's compactions to finish)", settling))
        }
        // Lookups on the 3-index databases.
        let ids = (0..<arguments.lookups).map { _ in Int.random(in: 0..<n, using: &generator) }
        var found = 0
        try record("get by primary key", "strata", ids.count, try seconds {
            for id in ids where try strata.users.get(UInt64(id)) != nil { found += 1 }
        })
        try record("get by primary key", "sqlite", ids.count, try seconds {
            try pool.read { db in for id in ids where try SQLUser.fetchOne(db, key: Int64(id)) != nil { found += 1 } }
        })
        let emails = ids.map { user($0).email }
        try record("get by unique index", "strata", ids.count, try seconds {
            for email in emails where try strata.users.first(strata.byEmail, equals: email) != nil { found += 1 }
        })
        try record("get by unique index", "sqlite", ids.count, try seconds {
            try pool.read { db in for email in emails where try SQLUser.filter(Column("email") == email).fetchOne(db) != nil { found += 1 } }
        })
        let ages = (0..<arguments.queries).map { _ in Int.random(in: 0..<100, using: &generator) }
        var rows = 0
        var sqliteRows = 0
        try record("index range + filter, 100 rows", "strata", ages.count, try seconds {
            for age in ages {
                rows += try strata.users.query(strata.byAge).equals(age).filter(field: "name", as: String.self) { $0.hasSuffix("7") }.limit(100).collect().count
            }
        })
        try record("index range + filter, 100 rows", "sqlite", ages.count, try seconds {
            try pool.read { db in
                for age in ages {
                    sqliteRows += try SQLUser.fetchAll(db, sql: "SELECT * FROM users WHERE age = ? AND name LIKE '%7' LIMIT 100", arguments: [age]).count
                }
            }
        })
        guard found == (arguments.strataOnly ? 2 : 4) * ids.count else { fatalError("lookups found \(found) of \(4 * ids.count)") }
        guard rows == sqliteRows || arguments.strataOnly else { fatalError("Strata's queries returned \(rows) rows, SQLite's \(sqliteRows)") }
        try strata.db.close()
        try pool.close()
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

print("\n| workload (\(n) users, median of \(arguments.reps)) | Strata ops/s | SQLite ops/s | Strata / SQLite |")
print("|---|---:|---:|---:|")
for workload in ["insert, 0 indexes", "insert, 1 index", "insert, 3 indexes", "get by primary key", "get by unique index", "index range + filter, 100 rows"] {
    guard let strata = results[workload]?["strata"], let sqlite = results[workload]?["sqlite"] else { continue }
    print(String(format: "| %@ | %.0f | %.0f | %.2f× |", workload as NSString, median(strata), median(sqlite), median(strata) / median(sqlite)))
}
if !arguments.keep { try? FileManager.default.removeItem(atPath: arguments.directory) }
