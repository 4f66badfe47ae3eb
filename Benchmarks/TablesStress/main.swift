// strata-tables-stress: the child process of the Tables crash test
// (Tests/TablesTests/TablesCrashTests.swift). Writes random users to a table with indexes —
// and with `--backfill`, builds a newly declared index meanwhile — reporting on standard output
// each write before it starts (`try`) and after it was acknowledged (`put`, `del`, `refused`),
// one unbuffered line at a time, until it is killed or has done `--ops` writes.
//
//   strata-tables-stress DIR SEED OPS INDEXES [--backfill] (batches of one record: slow on purpose,
//   so that kills land inside it)
//
// The backfill pauses 1 ms after each record (about 0.3 s in all), so kills land inside it.
// Lines: `ready`; `try K put JSON` or `try K del`; then `put K`, `del K` or `refused K`;
// `progress` once a backfill recorded progress, `built` when it finished; `done` at the end.

#if canImport(Glibc)
import Glibc
#endif
import Engine
import Foundation
import StrataTestSupport
import Tables
import VFS

/// Writes `line` with one system call: what is reported has left the process before the next
/// write starts, so a kill loses no acknowledgement.
func report(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 5, let seed = UInt64(arguments[2]), let operations = Int(arguments[3]), let indexCount = Int(arguments[4]) else {
    FileHandle.standardError.write("usage: strata-tables-stress DIR SEED OPS INDEXES [--backfill]\n".data(using: .utf8)!)
    exit(2)
}
let backfill = arguments.contains("--backfill")

do {
    var options = tableTestOptions(PosixFileSystem())
    options.writeBufferSize = 32 << 10
    let db = try Database.open(at: arguments[1], options: options)
    let fixture = UserSchema(indexCount: indexCount)
    let users = try Table(fixture.schema, in: db, buildIndexes: !backfill)
    report("ready")
    if backfill {
        Thread {
            do {
                try users.buildIndexes(batchSize: 1, pauseBetweenBatches: 0.001)
                report("built")
            } catch {
                report("backfill failed: \(error)")
            }
        }.start()
        // Says when the backfill has committed a batch, so the test can kill it mid-way.
        Thread {
            while true {
                switch users.indexState("byTag") {
                case .building(let progress?) where !progress.isEmpty:
                    report("progress")
                    return
                case .building: usleep(100)
                default: return
                }
            }
        }.start()
    }
    var generator = SplitMix64(seed: seed)
    let encoder = JSONEncoder()
    for _ in 0..<operations {
        let key = generator.next() % 300
        if generator.next() % 4 == 0 {
            report("try \(key) del")
            try users.delete(key)
            report("del \(key)")
            continue
        }
        let user = User(
            email: "e\(generator.next() % 400)@x", name: "n\(generator.next() % 9)", age: Int(generator.next() % 60),
            tags: (0..<Int(generator.next() % 3)).map { _ in "t\(generator.next() % 5)" })
        report("try \(key) put \(String(decoding: try encoder.encode(user), as: UTF8.self))")
        do {
            try users.upsert(key, user)
            report("put \(key)")
        } catch StrataError.constraintViolation {
            report("refused \(key)")
        }
    }
    report("done")
    try db.close()
} catch {
    report("error \(error)")
    exit(1)
}
