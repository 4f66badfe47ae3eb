import Testing
import Encoding
import Strata
import VFS

/// Corruption sweeps over every kind of file a database holds: flip a byte at sampled offsets or
/// cut the file at sampled lengths, then open the database and read everything. Allowed: a clear
/// `.corruption` (or `.incompatible`) error naming the damaged file, a tolerated torn WAL tail
/// (losing only the newest writes), or the right data. Never a crash, a hang or a wrong value —
/// and the verifier reports every damage that reading found.
@Suite struct DatabaseCorruptionTests {
    static let keyCount = 400

    static func key(_ index: Int) -> [UInt8] { Array("key\(String(index).leftPadded(to: 4))".utf8) }

    /// A database with tables on several levels, a manifest, and recent writes only in the log;
    /// its files, and every value each key ever had (latest last).
    static func makeDatabase() throws -> (files: [String: [UInt8]], history: [[[UInt8]?]]) {
        let memory = MemoryFileSystem()
        var options = testOptions(memory, background: false)
        options.compression = .lz4
        let db = try Database.open(at: "/db", options: options)
        var history = [[[UInt8]?]](repeating: [nil], count: keyCount)
        var random = SplitMix64(seed: 42)
        for round in 0..<3_000 {
            let key = Int(random.next() % UInt64(keyCount))
            if random.next() % 8 == 0 {
                try db.delete(Self.key(key))
                history[key].append(nil)
            } else {
                let value = Array("r\(round)-".utf8) + [UInt8](repeating: UInt8(97 + round % 26), count: Int(random.next() % 120))
                try db.put(Self.key(key), value)
                history[key].append(value)
            }
            if round == 2_000 { try db.compactRange() }
        }
        try db.sync()
        try db.close()
        var files: [String: [UInt8]] = [:]
        for name in try memory.listDirectory("/db") where name != "LOCK" {
            files[name] = memory.contents(of: "/db/" + name)
        }
        return (files, history)
    }

    /// A file system holding `files`, with `name` replaced by `damaged`.
    static func fileSystem(_ files: [String: [UInt8]], replacing name: String, with damaged: [UInt8]) throws -> MemoryFileSystem {
        let memory = MemoryFileSystem()
        try memory.createDirectory("/db")
        for (file, bytes) in files { memory.setContents(of: "/db/" + file, to: file == name ? damaged : bytes) }
        return memory
    }

    enum Outcome: Equatable {
        case correct, tornTail, detected
    }

    /// Opens and reads everything; fails the test on a wrong value or a misattributed error.
    static func readEverything(_ memory: MemoryFileSystem, damaged name: String, history: [[[UInt8]?]], context: String) -> Outcome {
        do {
            let db = try Database.open(at: "/db", options: testOptions(memory, background: false))
            defer { try? db.close() }
            var exact = true
            for index in 0..<keyCount {
                let value = try db.get(key(index))
                if value != history[index].last! {
                    // Only the loss of the newest writes (a torn log tail) may show an older version.
                    guard name.hasPrefix("wal-"), history[index].contains(where: { $0 == value }) else {
                        Issue.record("\(context): key \(index) read a value it never had")
                        return .detected
                    }
                    exact = false
                }
            }
            let scanned = try db.scan().collect()
            for entry in scanned {
                let index = Int(String(decoding: entry.key.dropFirst(3), as: UTF8.self)) ?? -1
                guard index >= 0 && index < keyCount, history[index].contains(where: { $0 == entry.value }) else {
                    Issue.record("\(context): scan returned a value never written")
                    return .detected
                }
            }
            return exact ? .correct : .tornTail
        } catch let error as StrataError {
            switch error {
            case .corruption(let file, _, _), .incompatible(let file, _):
                if !file.contains(name) && !(name == "CURRENT" && file.contains("MANIFEST")) {
                    Issue.record("\(context): error names \(file), not the damaged \(name): \(error)")
                }
            default:
                Issue.record("\(context): not a corruption error: \(error)")
            }
            return .detected
        } catch {
            Issue.record("\(context): unexpected error \(error)")
            return .detected
        }
    }

    @Test(arguments: ["sst", "wal", "MANIFEST", "CURRENT"])
    func damageIsReportedOrHarmless(kind: String) throws {
        let (files, history) = try Self.makeDatabase()
        let names = files.keys.filter { name in
            switch kind {
            case "sst": return name.hasSuffix(".sst")
            case "wal": return name.hasPrefix("wal-")
            default: return name.hasPrefix(kind)
            }
        }.sorted()
        #expect(!names.isEmpty, "no \(kind) file")
        var random = SplitMix64(seed: UInt64(kind.utf8.count) &* 31)
        var outcomes: [Outcome: Int] = [:]
        for name in names.prefix(3) {
            let clean = files[name]!
            var cases: [(String, [UInt8])] = []
            var offsets = Set<Int>()
            for offset in 0..<min(clean.count, 64) { offsets.insert(offset) }  // headers, CURRENT whole
            while offsets.count < min(clean.count, 160) { offsets.insert(Int(random.next() % UInt64(clean.count))) }
            for offset in offsets.sorted() {
                var damaged = clean
                damaged[offset] ^= UInt8(1 << (offset % 8))
                cases.append(("\(name) byte \(offset) flipped", damaged))
            }
            for _ in 0..<40 {
                let length = Int(random.next() % UInt64(clean.count))
                cases.append(("\(name) cut to \(length) bytes", Array(clean[..<length])))
            }
            for (context, damaged) in cases {
                let memory = try Self.fileSystem(files, replacing: name, with: damaged)
                let outcome = Self.readEverything(memory, damaged: name, history: history, context: context)
                outcomes[outcome, default: 0] += 1
                if outcome == .detected && kind != "wal" {
                    // The verifier reports it too, naming the file.
                    let report = try DatabaseVerifier.verify(path: "/db", fileSystem: try Self.fileSystem(files, replacing: name, with: damaged))
                    #expect(!report.isHealthy, "\(context): verify found nothing")
                    #expect(report.problems.contains { $0.isDamage && ($0.file.contains(name) || name == "CURRENT") }, "\(context): \(report.problems)")
                }
            }
        }
        // Checksums catch damage: most cases are detected, whatever the file.
        #expect((outcomes[.detected] ?? 0) > 0)
        print("corruption sweep \(kind): \(outcomes)")
    }
}
