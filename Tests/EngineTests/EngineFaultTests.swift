#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import Strata
import VFS

/// Each kind of file operation fails at a random point of a random workload (and the disk fills
/// up): the error reaches the caller as a `StrataError`, a failed log or table write leaves the
/// database read-only, and after a reopen on a healthy file system every acknowledged write is
/// there (a write whose call failed may or may not be).
@Suite struct EngineFaultTests {
    enum Failure: Sendable, CustomStringConvertible {
        case operation(FaultInjectionFileSystem.Operation, pathContains: String?)
        case diskFull

        var description: String {
            switch self {
            case .operation(let operation, let path): return "\(operation)\(path.map { " on \($0)" } ?? "")"
            case .diskFull: return "disk full"
            }
        }
    }

    static let failures: [Failure] = [
        .operation(.write, pathContains: "wal-"), .operation(.write, pathContains: ".sst"),
        .operation(.write, pathContains: "MANIFEST"), .operation(.sync, pathContains: "wal-"),
        .operation(.sync, pathContains: ".sst"), .operation(.sync, pathContains: nil),
        .operation(.rename, pathContains: nil), .operation(.openWritable, pathContains: nil),
        .operation(.read, pathContains: nil), .operation(.syncDirectory, pathContains: nil),
        .operation(.remove, pathContains: nil), .diskFull,
    ]

    static func key(_ index: Int) -> [UInt8] { Array("key\(String(index).leftPadded(to: 4))".utf8) }

    @Test(arguments: Array(failures.indices))
    func anInjectedFailureLosesNothingAcknowledged(which: Int) throws {
        let failure = Self.failures[which]
        var injected = 0
        var surfaced = 0
        for seed in 0..<4 {
            let outcome = try run(failure, seed: UInt64(which * 100 + seed))
            injected += outcome.injected
            surfaced += outcome.errors
        }
        // Not vacuous: the failure happened, and (apart from removals, which only delay garbage
        // collection) callers heard about it.
        #expect(injected > 0, "\(failure) never fired")
        if case .operation(.remove, _) = failure {} else {
            #expect(surfaced > 0, "\(failure) fired \(injected) times but no call reported an error")
        }
    }

    /// One workload; returns how many failures were injected and how many calls reported one.
    func run(_ failure: Failure, seed: UInt64) throws -> (injected: Int, errors: Int) {
        var random = SplitMix64(seed: seed &* 7919 &+ 1)
        let memory = MemoryFileSystem()
        let faulty = FaultInjectionFileSystem(wrapping: memory)
        let db = try Database.open(at: "/db", options: testOptions(faulty, background: seed % 2 == 0))
        switch failure {
        case .operation(let operation, let path):
            faulty.inject(.init(operation, pathContains: path, after: Int(random.next() % 10), errno: EIO, persistent: random.next() % 2 == 0))
        case .diskFull:
            faulty.setDiskCapacity(200_000 + Int(random.next() % 400_000))
        }

        // The latest acknowledged value of each key, and for keys of failed writes the values
        // they may show instead.
        var acknowledged: [Int: [UInt8]] = [:]
        var uncertain: [Int: [[UInt8]?]] = [:]
        var errors: [StrataError] = []
        var readOnly = false
        var readErrors = 0
        for index in 0..<1_500 {
            var batch = WriteBatch()
            var changes: [(Int, [UInt8]?)] = []
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let key = Int(random.next() % 200)
                if random.next() % 5 == 0 {
                    batch.delete(Self.key(key))
                    changes.append((key, nil))
                } else {
                    let value = Array("v\(index)-".utf8) + [UInt8](repeating: 0x61, count: Int(random.next() % 200))
                    batch.put(Self.key(key), value)
                    changes.append((key, value))
                }
            }
            do {
                try db.write(batch, options: WriteOptions(sync: random.next() % 4 == 0))
                for (key, value) in changes {
                    acknowledged[key] = value
                    uncertain[key] = nil
                }
                if random.next() % 100 == 0 { try db.flush() }
            } catch let error as StrataError {
                errors.append(error)
                for (key, value) in changes { uncertain[key, default: []].append(value) }
                if case .readOnly = error { readOnly = true }
            }
            // Reads either answer or fail cleanly; they never return something unwritten.
            let probe = Int(random.next() % 200)
            do {
                let value = try db.get(Self.key(probe))
                let allowed = [acknowledged[probe]] + (uncertain[probe] ?? [])
                #expect(allowed.contains { $0 == value }, "\(failure), seed \(seed): read of key \(probe) returned a value never written")
            } catch is StrataError {
                readErrors += 1  // an injected read failure, reported
            }
            if readOnly && errors.count > 20 { break }
        }
        // A failure of a log, table or manifest write or sync must stop the writes.
        if case .operation(let operation, let path) = failure, [.write, .sync].contains(operation), path != nil, !errors.isEmpty {
            #expect(readOnly, "\(failure), seed \(seed): writes continued after \(errors.first!)")
        }
        try? db.close()
        let injected = faulty.injectedFailures

        // Reopen on a healthy file system: everything acknowledged is there.
        faulty.clearFaults()
        faulty.setDiskCapacity(nil)
        let reopened = try Database.open(at: "/db", options: testOptions(memory))
        for key in 0..<200 {
            let value = try reopened.get(Self.key(key))
            let allowed = [acknowledged[key]] + (uncertain[key] ?? [])
            #expect(allowed.contains { $0 == value }, "\(failure), seed \(seed): key \(key) lost its acknowledged value (errors: \(errors.prefix(2)))")
        }
        // And it takes writes again.
        try reopened.put(Self.key(0), Array("after".utf8), options: WriteOptions(sync: true))
        #expect(try reopened.get(Self.key(0)) == Array("after".utf8))
        try reopened.close()
        return (injected, errors.count + readErrors)
    }
}
