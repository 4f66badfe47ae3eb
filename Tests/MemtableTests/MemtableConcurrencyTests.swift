import Synchronization
import Testing
import Encoding
import Memtable
import VFS

/// Key `i`: 8 bytes of a hash of `i` (random order) then `i` itself, big-endian.
func concurrencyKey(_ index: UInt64) -> [UInt8] {
    var key = [UInt8](repeating: 0, count: 16)
    withUnsafeBytes(of: mix(index).bigEndian) { for byte in 0..<8 { key[byte] = $0[byte] } }
    withUnsafeBytes(of: index.bigEndian) { for byte in 0..<8 { key[8 + byte] = $0[byte] } }
    return key
}

/// Value `i`: its hash three times, so a torn value cannot pass for a whole one.
func concurrencyValue(_ index: UInt64) -> [UInt8] {
    var value = [UInt8]()
    for _ in 0..<3 { withUnsafeBytes(of: mix(index ^ 0xABCD)) { value.append(contentsOf: $0) } }
    return value
}

func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Counters a reader thread reports back.
struct ReaderReport: Sendable {
    var passes = 0
    var entriesChecked = 0
    var gets = 0
    var outOfOrder = 0
    var torn = 0
    var missingAcknowledged = 0
    var wrongGets = 0
}

@Suite struct MemtableConcurrencyTests {
    @Test func readersSeeWholeOrderedEntriesAndEverythingAcknowledged() throws {
        let total: UInt64 = 1_000_000
        let memtable = try Memtable(capacity: 256 << 20)
        let acknowledged = Atomic<UInt64>(0)
        let done = Atomic<Bool>(false)
        let reports = Locked<[ReaderReport]>([])

        Threads.run(3) { role in
            if role == 0 {
                // The single writer.
                for index in 0..<total {
                    try! memtable.put(concurrencyKey(index), concurrencyValue(index), sequence: SequenceNumber(rawValue: index + 1))
                    acknowledged.store(index + 1, ordering: .releasing)
                }
                done.store(true, ordering: .releasing)
                return
            }
            var report = ReaderReport()
            var random = SplitMix64(seed: UInt64(role))
            var seen = [Bool](repeating: false, count: Int(total))
            repeat {
                // Everything acknowledged before the iterator exists must be visible to it.
                let visibleBefore = acknowledged.load(ordering: .acquiring)
                var iterator = memtable.makeIterator()
                iterator.seekToFirst()
                for index in 0..<seen.count { seen[index] = false }
                var previous: [UInt8]? = nil
                while iterator.isValid {
                    let key = Array(iterator.key)
                    if let previous, !InternalKey.lessThanEncoded(previous, key) { report.outOfOrder += 1 }
                    let userKey = key.prefix(16)
                    let index = userKey.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    if key.count != 24 || index >= total || Array(userKey) != concurrencyKey(index) || Array(iterator.value) != concurrencyValue(index) {
                        report.torn += 1
                    } else {
                        seen[Int(index)] = true
                    }
                    report.entriesChecked += 1
                    previous = key
                    iterator.next()
                }
                report.missingAcknowledged += (0..<Int(visibleBefore)).filter { !seen[$0] }.count
                // Point reads of acknowledged keys.
                for _ in 0..<2_000 {
                    let limit = acknowledged.load(ordering: .acquiring)
                    guard limit > 0 else { break }
                    let index = random.next() % limit
                    if memtable.get(concurrencyKey(index)) != .value(concurrencyValue(index)) { report.wrongGets += 1 }
                    report.gets += 1
                }
                report.passes += 1
            } while !done.load(ordering: .acquiring) || report.passes < 2
            reports.withLock { $0.append(report) }
        }

        let all = reports.withLock { $0 }
        print("memtable concurrency: \(all.map { "\($0.passes) passes, \($0.entriesChecked) entries, \($0.gets) gets" })")
        #expect(all.count == 2)
        for report in all {
            #expect(report.passes >= 2)
            #expect(report.outOfOrder == 0)
            #expect(report.torn == 0)
            #expect(report.missingAcknowledged == 0)
            #expect(report.wrongGets == 0)
        }
        #expect(memtable.entryCount == Int(total))
    }
}
