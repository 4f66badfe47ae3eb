import Encoding
import Memtable

/// `make bench-memtable`: single-thread insert and get rates of a cache-resident (4 MiB) and a
/// default-size (64 MiB) memtable, next to `Dictionary` on the same data in the same run.
enum MemtableBench {
    static func run() throws {
        print("== memtable (release build; random 16 B keys, 100 B values; median of 3) ==")
        for megabytes in [4, 64] {
            try measureSize(megabytes << 20)
        }
        try measureRangeTombstones()
    }

    /// Gets in a memtable holding many range tombstones: answered from the memtable's cached
    /// fragments (see `MemtableStorage.newestCoveringTombstone`), next to the cost of building
    /// those fragments once.
    static func measureRangeTombstones() throws {
        var random = BenchRandom(seed: 99)
        let table = try Memtable(capacity: 16 << 20)
        let value = [UInt8](repeating: 0x61, count: 100)
        func key(_ index: UInt64) -> [UInt8] { Array("key\(100_000 + index)".utf8) }
        var sequence: UInt64 = 0
        for index in 0..<30_000 as Range<UInt64> {
            sequence += 1
            try table.put(key(index * 3), value, sequence: SequenceNumber(rawValue: sequence))
        }
        for _ in 0..<1_000 {
            sequence += 1
            let start = random.next() % 90_000
            try table.insertRangeTombstone(start: key(start), end: key(start + 1 + random.next() % 300), sequence: SequenceNumber(rawValue: sequence))
        }
        let probes = (0..<100_000).map { _ in key(random.next() % 90_000) }
        let tombstones = table.rangeTombstones
        let build = median { blackHole(RangeTombstoneFragments(tombstones).fragments.count) }
        _ = probes.prefix(64).map { table.get($0) }  // past the stale-lookup threshold: cached
        let seconds = median {
            var deleted = 0
            for probe in probes where table.get(probe) == .deleted { deleted += 1 }
            blackHole(deleted)
        }
        // A range delete (past every probed key) after every 10 gets keeps the cache stale, so
        // these gets take the scan path.
        var far: UInt64 = 200_000
        let scanSeconds = try median {
            var deleted = 0
            for (index, probe) in probes.prefix(10_000).enumerated() {
                if index % 10 == 0 {
                    sequence += 1
                    far += 2
                    try table.insertRangeTombstone(start: key(far), end: key(far + 1), sequence: SequenceNumber(rawValue: sequence))
                }
                if table.get(probe) == .deleted { deleted += 1 }
            }
            blackHole(deleted)
        } / 10_000 * Double(probes.count)
        print("30K entries + 1,000 range tombstones")
        report("  memtable get, cached fragments", format(Double(probes.count) / seconds / 1e6, 2), "M ops/s", "\(format(seconds * 1e9 / Double(probes.count), 0)) ns/op")
        report("  memtable get, scan path", format(Double(probes.count) / scanSeconds / 1e6, 2), "M ops/s", "\(format(scanSeconds * 1e9 / Double(probes.count), 0)) ns/op (a range delete every 10 gets keeps the cache stale)")
        report("  fragmenting the tombstones", format(build * 1e3, 2), "ms", "once per change, then cached")
    }

    static func measureSize(_ budget: Int) throws {
        var random = BenchRandom(seed: UInt64(budget))
        // Enough keys to fill the budget (about 142 arena bytes per entry).
        let count = budget / 142
        let keys: [[UInt8]] = (0..<count).map { _ in (0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        let value = [UInt8](repeating: 0x61, count: 100)
        var order = Array(0..<count)
        order.shuffle(using: &random)

        // The memtable side reads keys from one contiguous buffer, so the harness adds no cache
        // misses of its own (each `[UInt8]` key would be a separate heap object).
        let flat = keys.flatMap { $0 }
        var insertTimes: [Double] = []
        var getTimes: [Double] = []
        var memtable: Memtable? = nil
        for _ in 0..<3 {
            let table = try Memtable(capacity: budget * 2)
            insertTimes.append(try measure { try insertAll(table, flat, value) })
            getTimes.append(measure { blackHole(getAll(table, flat, order)) })
            memtable = table
        }
        let insertSeconds = insertTimes.sorted()[1]
        let getSeconds = getTimes.sorted()[1]
        let table = memtable!

        var dictionaryInsertTimes: [Double] = []
        var dictionaryGetTimes: [Double] = []
        for _ in 0..<3 {
            var dictionary: [[UInt8]: [UInt8]] = [:]
            dictionaryInsertTimes.append(measure {
                for key in keys { dictionary[key] = value }
            })
            dictionaryGetTimes.append(measure {
                var found = 0
                for index in order where dictionary[keys[index]] != nil { found += 1 }
                blackHole(found)
            })
        }
        let dictionaryInsert = dictionaryInsertTimes.sorted()[1]
        let dictionaryGet = dictionaryGetTimes.sorted()[1]
        let label = "\(budget >> 20) MiB memtable (\(count / 1000)K entries, \(table.approximateMemoryUsage >> 20) MiB used)"
        print(label)
        report("  memtable insert", format(Double(count) / insertSeconds / 1e6, 2), "M ops/s", "\(format(insertSeconds * 1e9 / Double(count), 0)) ns/op")
        report("  memtable get", format(Double(count) / getSeconds / 1e6, 2), "M ops/s", "\(format(getSeconds * 1e9 / Double(count), 0)) ns/op")
        report("  Dictionary insert (reference)", format(Double(count) / dictionaryInsert / 1e6, 2), "M ops/s", "\(format(dictionaryInsert * 1e9 / Double(count), 0)) ns/op")
        report("  Dictionary lookup (reference)", format(Double(count) / dictionaryGet / 1e6, 2), "M ops/s", "\(format(dictionaryGet * 1e9 / Double(count), 0)) ns/op")
        // A search visits about log4(n) levels (branching factor 4).
        var levels = 1.0
        var reach = 4.0
        while reach < Double(count) { reach *= 4; levels += 1 }
        report("  get cost per skiplist level", format(getSeconds * 1e9 / Double(count) / levels, 1), "ns/level", "~\(Int(levels)) levels")
    }

    @inline(never)
    static func insertAll(_ table: Memtable, _ keys: [UInt8], _ value: [UInt8]) throws {
        try value.withUnsafeBytes { value in
            try keys.withUnsafeBytes { keys in
                for index in 0..<(keys.count / 16) {
                    let key = UnsafeRawBufferPointer(rebasing: keys[(index * 16)..<(index * 16 + 16)])
                    try table.insert(.put, key: key, value: value, sequence: SequenceNumber(rawValue: UInt64(index + 1)))
                }
            }
        }
    }

    @inline(never)
    static func getAll(_ table: Memtable, _ keys: [UInt8], _ order: [Int]) -> Int {
        var found = 0
        keys.withUnsafeBytes { keys in
            for index in order {
                let key = UnsafeRawBufferPointer(rebasing: keys[(index * 16)..<(index * 16 + 16)])
                if case .value = table.get(key) { found += 1 }
            }
        }
        return found
    }
}
