#if canImport(Glibc)
import Glibc
#endif
import Testing
import Encoding
import Strata
import VFS

/// 500,000 random operations against a reference model: puts, deletes, range deletes, batches,
/// snapshots taken and released, flushes, compactions, close + reopen. Every get and every scan
/// (both directions, random bounds, random snapshots) must match.
@Suite struct EngineModelTests {
    @Test(arguments: [(seed: UInt64(1), operations: 500_000, background: false), (seed: UInt64(2), operations: 200_000, background: true)])
    func randomOperationsMatchAReferenceModel(configuration: (seed: UInt64, operations: Int, background: Bool)) throws {
        // STRATA_MODEL_SEED overrides the seed, to explore more histories locally.
        let seed = getenv("STRATA_MODEL_SEED").flatMap { UInt64(String(cString: $0)) } ?? configuration.seed
        var random = SplitMix64(seed: seed)
        let fileSystem = MemoryFileSystem()
        let options = testOptions(fileSystem, background: configuration.background)
        var db = try Database.open(at: "/db", options: options)
        var model = ReferenceDatabase(keyCount: 1_500)
        var snapshots: [(snapshot: Snapshot, modelSequence: UInt64)] = []
        var mismatches: [String] = []
        let watchedKey = getenv("STRATA_WATCH_KEY").flatMap { Int(String(cString: $0)) }
        func record(_ what: @autoclosure () -> String) {
            if mismatches.count < 20 { mismatches.append("seed \(seed): " + what()) }
        }
        func randomKey() -> Int { Int(random.next() % UInt64(model.keys.count)) }
        func randomValue() -> [UInt8] {
            let size = random.next() % 50 == 0 ? 2_000 : Int(random.next() % 40)
            return Array("v\(model.sequence + 1)-".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: model.sequence), count: size)
        }
        func checkScan() throws {
            var low = randomKey()
            var high = randomKey()
            if low > high { swap(&low, &high) }
            let bounded = random.next() % 2 == 0
            let (from, to) = bounded ? (low, high) : (0, model.keys.count)
            let reverse = random.next() % 2 == 0
            var snapshot: Snapshot? = nil
            var sequence = model.sequence
            if !snapshots.isEmpty && random.next() % 2 == 0 {
                let pick = snapshots[Int(random.next() % UInt64(snapshots.count))]
                snapshot = pick.snapshot
                sequence = pick.modelSequence
            }
            var expected = model.entries(from: from, to: to, at: sequence)
            if reverse { expected.reverse() }
            let actual = try db.scan(from: bounded ? model.keys[from] : nil, to: bounded ? model.keys[to] : nil, at: snapshot, reverse: reverse).collect()
            if actual.count != expected.count || !zip(actual, expected).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) {
                record("scan [\(from), \(to)) reverse \(reverse) at \(sequence): \(actual.count) entries, expected \(expected.count)")
            }
        }

        for step in 0..<configuration.operations {
            let roll = random.next() % 10_000
            switch roll {
            case 0..<5_000:
                let key = randomKey()
                let value = randomValue()
                try db.put(model.keys[key], value)
                model.put(key, value)
            case 5_000..<6_500:
                let key = randomKey()
                try db.delete(model.keys[key])
                model.delete(key)
            case 6_500..<6_600:
                var from = randomKey()
                var to = min(model.keys.count, from + 1 + Int(random.next() % 60))
                if from == to { from -= 1 }
                if from > to { swap(&from, &to) }
                try db.deleteRange(from: model.keys[from], to: model.keys.indices.contains(to) ? model.keys[to] : Array("key99999".utf8))
                model.deleteRange(from, to)
            case 6_600..<7_500:
                var batch = WriteBatch()
                var staged = model
                for _ in 0..<(1 + Int(random.next() % 6)) {
                    let key = randomKey()
                    if random.next() % 4 == 0 {
                        batch.delete(model.keys[key])
                        staged.delete(key)
                    } else {
                        let value = Array("b\(staged.sequence + 1)".utf8)
                        batch.put(model.keys[key], value)
                        staged.put(key, value)
                    }
                }
                try db.write(batch)
                model = staged
            case 7_500..<9_400:
                let key = randomKey()
                if !snapshots.isEmpty && random.next() % 3 == 0 {
                    let pick = snapshots[Int(random.next() % UInt64(snapshots.count))]
                    let actual = try db.get(model.keys[key], at: pick.snapshot)
                    if actual != model.value(key, at: pick.modelSequence) {
                        let history = model.history[key].suffix(6).map { "\($0.sequence):\($0.value.map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "DEL")" }
                        record("step \(step): get key \(key) at snapshot \(pick.modelSequence) (engine \(pick.snapshot.sequence)) = \(actual.map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "nil"), expected \(model.value(key, at: pick.modelSequence).map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "nil"); history \(history); live snapshots \(snapshots.map(\.modelSequence))")
                    }
                } else {
                    let actual = try db.get(model.keys[key])
                    if actual != model.value(key, at: model.sequence) {
                        let history = model.history[key].suffix(4).map { "\($0.sequence):\($0.value.map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "DEL")" }
                        record("step \(step): get key \(key) = \(actual.map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "nil"), expected \(model.value(key, at: model.sequence).map { String(decoding: $0.prefix(12), as: UTF8.self) } ?? "nil"); history \(history)")
                    }
                }
            case 9_400..<9_600:
                if snapshots.count < 8 {
                    snapshots.append((try db.snapshot(), model.sequence))
                } else {
                    snapshots.remove(at: Int(random.next() % UInt64(snapshots.count)))
                }
            case 9_600..<9_650:
                try checkScan()
            case 9_650..<9_680:
                try db.flush()
            case 9_680..<9_684:
                try db.compactRange()
            case 9_684..<9_686:
                // Close and reopen: snapshots do not survive a reopen.
                snapshots.removeAll()
                try db.close()
                db = try Database.open(at: "/db", options: options)
            default:
                let key = randomKey()
                if try db.get(model.keys[key]) != model.value(key, at: model.sequence) { record("step \(step): get after idle, key \(key)") }
            }
            if let watch = watchedKey, try db.get(model.keys[watch]) != model.value(watch, at: model.sequence) {
                record("watched key \(watch) diverged after step \(step) (roll \(roll)), L0..L6 \(db.statistics.levels.map(\.files))")
            }
            if !mismatches.isEmpty { break }
        }
        // A final full comparison, both directions.
        let everything = model.entries(from: 0, to: model.keys.count, at: model.sequence)
        let forward = try db.scan().collect()
        let backward = try db.scan(reverse: true).collect()
        if forward.count != everything.count || !zip(forward, everything).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) { record("final forward scan") }
        if backward.count != everything.count || !zip(backward, everything.reversed()).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) { record("final reverse scan") }
        let statistics = db.statistics
        print("model test seed \(seed): \(configuration.operations) operations, \(statistics.flushes) flushes, L0..L6 files \(statistics.levels.map(\.files)), write amp \(statistics.writeAmplification)")
        try db.close()
        #expect(mismatches.isEmpty, "SEED=\(seed): \(mismatches.joined(separator: "; "))")
    }
}
