import Testing
import Encoding
import Strata
import VFS

/// Serializability, checked against a model: random interleavings of several serializable
/// transactions (and plain writes) over a dozen keys, one step at a time, as the exec protocol
/// allows. For every step the model predicts the answer:
/// - a read returns the transaction's own latest write, else the committed value at its snapshot;
/// - a commit of a transaction that wrote something conflicts exactly when a key it read from
///   the database, a key it wrote, a part of a range it scanned, or a range it deleted was
///   changed by a commit after its snapshot — so no conflict is reported when nothing changed,
///   and every committed transaction's reads still held at its commit;
/// and at the end the database equals the model.
@Suite struct TransactionModelTests {
    static let keys = (0..<12).map { "k" + String($0).leftPadded(to: 2) }

    /// The model of committed history: for each commit, what it wrote.
    struct Commit {
        var keys: Set<String>
        var ranges: [(String, String)]
    }

    struct ModelTransaction {
        let transaction: Transaction
        let snapshot: Int  // commits visible to it
        var writes: [(String, String?)] = []  // in order; nil: delete
        var rangeDeletes: [(from: String, to: String, position: Int)] = []
        var readKeys: Set<String> = []
        var readRanges: [(String, String?)] = []  // [from, to) of what scans consumed

        /// The transaction's own answer for `key`: .some(value or nil) when it wrote it.
        func own(_ key: String) -> String?? {
            var lastPoint: (index: Int, value: String?)? = nil
            for (index, write) in writes.enumerated() where write.0 == key { lastPoint = (index, write.1) }
            let after = lastPoint?.index ?? -1
            if rangeDeletes.contains(where: { $0.position > after && $0.from <= key && key < $0.to }) { return .some(nil) }
            if let lastPoint { return .some(lastPoint.value) }
            return nil
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func randomInterleavingsMatchTheModel(seed: UInt64) throws {
        let db = try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
        defer { try? db.close() }
        var random = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        var history: [[String: String?]] = [[:]]  // history[i]: state after i commits
        var commits: [Commit] = []
        var open: [ModelTransaction] = []
        var committedWriters = 0
        var conflicts = 0

        func state(at snapshot: Int) -> [String: String] {
            history[snapshot].compactMapValues { $0 }
        }
        func apply(_ writes: [(String, String?)], _ ranges: [(from: String, to: String, position: Int)], order: [(isRange: Bool, index: Int)]) {
            var next = history.last!
            for step in order {
                if step.isRange {
                    let range = ranges[step.index]
                    for key in Self.keys where range.from <= key && key < range.to { next[key] = .some(nil) }
                } else {
                    next[writes[step.index].0] = .some(writes[step.index].1)
                }
            }
            history.append(next)
        }

        for step in 0..<600 {
            let choice = random.next() % 100
            if open.isEmpty || (choice < 10 && open.count < 4) {
                open.append(ModelTransaction(transaction: try db.beginTransaction(), snapshot: commits.count))
                continue
            }
            if choice < 14 {
                // A plain write outside any transaction.
                let key = pick(Self.keys)
                let value = "plain\(step)"
                try db.put(key, value)
                commits.append(Commit(keys: [key], ranges: []))
                apply([(key, value)], [], order: [(false, 0)])
                continue
            }
            let index = Int(random.next() % UInt64(open.count))
            var txn = open[index]
            switch choice {
            case 14..<40:
                let key = pick(Self.keys)
                let expected: String? = txn.own(key) ?? state(at: txn.snapshot)[key]
                let got = try txn.transaction.get(key, as: String.self)
                #expect(got == expected, "seed \(seed) step \(step): get \(key) gave \(String(describing: got)), expected \(String(describing: expected))")
                if txn.own(key) == nil { txn.readKeys.insert(key) }
            case 40..<50:
                // A scan of a random range, possibly stopped early.
                let a = pick(Self.keys)
                let b = pick(Self.keys + ["k99"])
                let (from, to) = a <= b ? (a, b) : (b, a)
                let limit = Int(random.next() % 6)
                var scan = try txn.transaction.scan(from: from, to: to)
                var got: [String] = []
                var lastKey: String? = nil
                var exhausted = false
                while got.count < limit {
                    guard let (key, value) = try scan.next() else { exhausted = true; break }
                    lastKey = String(decoding: key, as: UTF8.self)
                    got.append(lastKey! + "=" + String(decoding: value, as: UTF8.self))
                }
                let visible = Self.keys.filter { $0 >= from && $0 < to }.compactMap { key -> String? in
                    let value: String? = txn.own(key) ?? state(at: txn.snapshot)[key]
                    return value.map { key + "=" + $0 }
                }
                #expect(got == Array(visible.prefix(limit)), "seed \(seed) step \(step): scan [\(from), \(to)) limit \(limit)")
                // What the scan consumed: the whole range if it ran out, else up to its last key.
                if exhausted {
                    txn.readRanges.append((from, to))
                } else if let lastKey {
                    txn.readRanges.append((from, lastKey + "\u{0}"))
                }
            case 50..<70:
                let key = pick(Self.keys)
                let value = "t\(txn.transaction.id)s\(step)"
                try txn.transaction.put(key, value)
                txn.writes.append((key, value))
            case 70..<76:
                let key = pick(Self.keys)
                try txn.transaction.delete(key)
                txn.writes.append((key, nil))
            case 76..<79:
                let a = pick(Self.keys)
                let b = pick(Self.keys + ["k99"])
                guard a < b else { break }
                try txn.transaction.deleteRange(from: a, to: b)
                txn.rangeDeletes.append((a, b, txn.writes.count))
                txn.writes.append(("", nil))  // a placeholder keeping positions aligned; ignored below
            case 79..<82:
                try txn.transaction.rollback()
                open.remove(at: index)
                continue
            default:
                // Commit: the model predicts the outcome.
                let writes = txn.writes.enumerated().filter { $0.element.0 != "" }
                let writtenKeys = Set(writes.map { $0.element.0 })
                let later = commits[txn.snapshot...]
                func changed(_ key: String) -> Bool {
                    later.contains { $0.keys.contains(key) || $0.ranges.contains { $0.0 <= key && key < $0.1 } }
                }
                func changed(from: String, to: String?) -> Bool {
                    later.contains { commit in
                        commit.keys.contains { $0 >= from && (to == nil || $0 < to!) }
                            || commit.ranges.contains { $0.0 < (to ?? "\u{10FFFF}") && from < $0.1 }
                    }
                }
                let wroteSomething = !txn.writes.isEmpty
                let conflict = wroteSomething
                    && (txn.readKeys.union(writtenKeys).contains(where: changed)
                        || txn.readRanges.contains { changed(from: $0.0, to: $0.1) }
                        || txn.rangeDeletes.contains { changed(from: $0.from, to: $0.to) })
                do {
                    try txn.transaction.commit()
                    #expect(!conflict, "seed \(seed) step \(step): committed although something it read or wrote changed")
                    if wroteSomething {
                        var order: [(isRange: Bool, index: Int)] = []
                        var points: [(String, String?)] = []
                        for (position, write) in txn.writes.enumerated() {
                            if write.0 == "" {
                                order.append((true, txn.rangeDeletes.firstIndex { $0.position == position }!))
                            } else {
                                order.append((false, points.count))
                                points.append(write)
                            }
                        }
                        apply(points, txn.rangeDeletes, order: order)
                        commits.append(Commit(keys: writtenKeys, ranges: txn.rangeDeletes.map { ($0.from, $0.to) }))
                        committedWriters += 1
                    }
                } catch StrataError.transactionConflict {
                    #expect(conflict, "seed \(seed) step \(step): a conflict although nothing it read or wrote changed")
                    conflicts += 1
                }
                open.remove(at: index)
                continue
            }
            open[index] = txn
        }
        for txn in open { try txn.transaction.rollback() }
        // The database equals the model.
        var final: [String: String] = [:]
        try db.scan().forEach { key, value in final[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self) }
        #expect(final == state(at: commits.count), "seed \(seed): final state differs from the model")
        #expect(committedWriters > 5 && conflicts > 0, "seed \(seed): \(committedWriters) commits, \(conflicts) conflicts")
    }
}
