import Testing
import Encoding
import Strata
import VFS

/// Random workloads with synced and unsynced writes, a power cut at a random moment, reopen:
/// every write acknowledged with sync — and every write before it — is present, the state is
/// exactly some prefix of the acknowledged writes (nothing that was never written appears, no
/// delete is undone), and sequence numbers continue past the maximum recovered.
@Suite struct EngineCrashRecoveryTests {
    /// One acknowledged operation on a key space of 300 keys.
    enum Operation {
        case put(Int, [UInt8])
        case delete(Int)
        case deleteRange(Int, Int)
    }

    static func key(_ index: Int) -> [UInt8] { Array("key\(String(index).leftPadded(to: 4))".utf8) }

    @Test(arguments: 0..<30)
    func syncedWritesSurviveAPowerCutAndTheRestIsAPrefix(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7919)
        let memory = MemoryFileSystem()
        var process = FaultInjectionFileSystem(wrapping: memory)
        let db = try Database.open(at: "/db", options: testOptions(process, background: seed % 2 == 0))
        var acknowledged: [[Operation]] = []  // one entry per acknowledged write call (batches group)
        var lastSynced = -1
        let writes = 300 + Int(random.next() % 1_500)
        for index in 0..<writes {
            var batch = WriteBatch()
            var operations: [Operation] = []
            for _ in 0..<(random.next() % 5 == 0 ? 1 + Int(random.next() % 4) : 1) {
                let key = Int(random.next() % 300)
                switch random.next() % 10 {
                case 0..<7:
                    let value = Array("w\(index)-".utf8) + [UInt8](repeating: 0x41, count: Int(random.next() % 300))
                    batch.put(Self.key(key), value)
                    operations.append(.put(key, value))
                case 7..<9:
                    batch.delete(Self.key(key))
                    operations.append(.delete(key))
                default:
                    let end = min(300, key + 1 + Int(random.next() % 20))
                    batch.deleteRange(from: Self.key(key), to: Self.key(end))
                    operations.append(.deleteRange(key, end))
                }
            }
            let sync = random.next() % 10 < 3
            try db.write(batch, options: WriteOptions(sync: sync))
            acknowledged.append(operations)
            if sync { lastSynced = index }
            if random.next() % 200 == 0 { try db.flush() }
        }
        // The process dies (every later file operation of the old object fails), the power goes.
        process.failAllOperations()
        memory.simulatePowerCut(.keepRandomPrefix(seed: UInt64(seed)))
        try? db.close()
        let lastSequenceBefore = db.statistics.lastSequence

        process = FaultInjectionFileSystem(wrapping: memory)
        let reopened = try Database.open(at: "/db", options: testOptions(process))
        let recovered = try reopened.scan().collect()
        // Find the prefix of acknowledged writes that the recovered state equals.
        var state: [Int: [UInt8]] = [:]
        func apply(_ operations: [Operation]) {
            for operation in operations {
                switch operation {
                case .put(let key, let value): state[key] = value
                case .delete(let key): state[key] = nil
                case .deleteRange(let from, let to): for key in from..<to { state[key] = nil }
                }
            }
        }
        func matches() -> Bool {
            recovered.count == state.count && recovered.allSatisfy { entry in
                let index = Int(String(decoding: entry.key.dropFirst(3), as: UTF8.self))!
                return state[index] == entry.value
            }
        }
        var matchingPrefix: Int? = matches() ? 0 : nil
        for (count, operations) in acknowledged.enumerated() {
            apply(operations)
            if matches() { matchingPrefix = count + 1 }
        }
        let prefix = try #require(matchingPrefix, "seed \(seed): the recovered state is not any prefix of the acknowledged writes")
        #expect(prefix >= lastSynced + 1, "seed \(seed): recovered \(prefix) writes but write \(lastSynced) was synced")

        // New writes get sequence numbers above everything recovered.
        let before = try reopened.snapshot().sequence
        try reopened.put(Self.key(1), Array("after".utf8))
        #expect(try reopened.snapshot().sequence > before)
        #expect(try reopened.get(Self.key(1)) == Array("after".utf8))
        _ = lastSequenceBefore
        try reopened.close()
    }
}

@Suite struct EngineLargeRecoveryTests {
    @Test func recoveringALogLargerThanTheWriteBufferFlushesAsItGoes() throws {
        let memory = MemoryFileSystem()
        var options = testOptions(memory, background: false)
        options.writeBufferSize = 8 << 20  // everything stays in the WAL while writing
        let db = try Database.open(at: "/db", options: options)
        let value = [UInt8](repeating: 0x42, count: 200)
        for index in 0..<20_000 { try db.put(Array("key\(index)".utf8), value) }
        try db.close()  // nothing flushed: ~4.3 MB of WAL
        #expect(db.statistics.flushes == 0)

        options.writeBufferSize = 256 << 10  // now the log is 16 times the buffer
        let reopened = try Database.open(at: "/db", options: options)
        let statistics = reopened.statistics
        #expect(reopened.recovery.records == 20_000)
        // Replay flushed whenever the memtable filled: many level-0 tables, not one huge memtable.
        #expect(statistics.levels[0].files >= 10, "\(statistics.levels.map(\.files))")
        #expect(statistics.memtableBytes < 1 << 20)
        for index in stride(from: 0, to: 20_000, by: 997) { #expect(try reopened.get(Array("key\(index)".utf8)) == value) }
        try reopened.close()
    }
}
