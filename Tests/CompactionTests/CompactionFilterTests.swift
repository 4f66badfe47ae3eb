import Testing
import Compaction
import Encoding
import Manifest
import Memtable
import SSTable

/// The compaction filter hook and the expiry filter, on their own (no engine).
@Suite struct CompactionFilterTests {
    @Test func anExpiringValueRoundTripsAndBadBytesAreCorruption() throws {
        let plain = ExpiringValue.encode(Array("hello".utf8), expiresAt: nil)
        #expect(plain == [0] + Array("hello".utf8))
        let timed = ExpiringValue.encode(Array("hi".utf8), expiresAt: 0x0102_0304_0506_0708)
        #expect(timed == [1, 1, 2, 3, 4, 5, 6, 7, 8] + Array("hi".utf8))
        #expect(try ExpiringValue.decode(plain).expiresAt == nil)
        #expect(Array(try ExpiringValue.decode(plain).payload) == Array("hello".utf8))
        #expect(try ExpiringValue.decode(timed).expiresAt == 0x0102_0304_0506_0708)
        #expect(Array(try ExpiringValue.decode(timed).payload) == Array("hi".utf8))
        #expect(Array(try ExpiringValue.decode(ExpiringValue.encode([], expiresAt: 7)).payload) == [])
        for bad: [UInt8] in [[], [2, 0], [1, 0, 0, 0]] {
            #expect(throws: StrataError.self) { try ExpiringValue.decode(bad) }
        }
    }

    @Test func theExpiryFilterRemovesOnlyExpiredValuesUnderItsPrefix() {
        let filter = ExpiryCompactionFilter(keyPrefix: Array("r:".utf8), now: { 1000 })
        func removes(_ key: String, _ value: [UInt8]) -> Bool {
            Array(key.utf8).withUnsafeBytes { k in value.withUnsafeBytes { filter.removes(userKey: k, value: $0) } }
        }
        #expect(removes("r:a", ExpiringValue.encode([1], expiresAt: 999)))
        #expect(removes("r:a", ExpiringValue.encode([1], expiresAt: 1000)))  // expiry is exclusive
        #expect(!removes("r:a", ExpiringValue.encode([1], expiresAt: 1001)))
        #expect(!removes("r:a", ExpiringValue.encode([1], expiresAt: nil)))
        #expect(!removes("x:a", ExpiringValue.encode([1], expiresAt: 1)))  // not under the prefix
        #expect(!removes("r", ExpiringValue.encode([1], expiresAt: 1)))  // shorter than the prefix
        #expect(!removes("r:a", [1, 0]))  // unreadable: kept
    }

    /// L1 holds old persistent versions; L0 newer values, some expired. A snapshot taken between
    /// them keeps seeing the old versions after compaction; the latest view never changes; once
    /// no snapshot remains, expired keys leave no entry at all.
    @Test func compactionTurnsExpiredValuesIntoDeletesAndThenDropsThem() throws {
        // (a value in stripe 0 with nothing below vanishes at once: see the last step)
        let tree = try TestTree()
        let now: UInt64 = 1_000_000
        let old = try Memtable(capacity: 1 << 20)
        try old.put(Array("r:a".utf8), ExpiringValue.encode(Array("a-old".utf8), expiresAt: nil), sequence: SequenceNumber(rawValue: 1))
        try old.put(Array("r:d".utf8), ExpiringValue.encode(Array("d-old".utf8), expiresAt: nil), sequence: SequenceNumber(rawValue: 2))
        try tree.addTable(old, level: 1)
        let newer = try Memtable(capacity: 1 << 20)
        try newer.put(Array("r:a".utf8), ExpiringValue.encode(Array("a-new".utf8), expiresAt: now - 1), sequence: SequenceNumber(rawValue: 10))
        try newer.put(Array("r:b".utf8), ExpiringValue.encode(Array("b".utf8), expiresAt: now - 5), sequence: SequenceNumber(rawValue: 11))
        try newer.put(Array("r:c".utf8), ExpiringValue.encode(Array("c".utf8), expiresAt: now + 60_000), sequence: SequenceNumber(rawValue: 12))
        try newer.put(Array("r:d".utf8), ExpiringValue.encode(Array("d".utf8), expiresAt: nil), sequence: SequenceNumber(rawValue: 13))
        // Outside the prefix: raw bytes that merely look like an expired value stay.
        try newer.put(Array("z:e".utf8), ExpiringValue.encode(Array("e".utf8), expiresAt: 1), sequence: SequenceNumber(rawValue: 14))
        try tree.addTable(newer, level: 0)

        var options = CompactionOptions()
        options.filter = ExpiryCompactionFilter(keyPrefix: Array("r:".utf8), now: { now })
        let picker = LeveledCompactionPicker(options: options)
        let keys = ["r:a", "r:b", "r:c", "r:d", "z:e"].map { Array($0.utf8) }
        let snapshot = SequenceNumber(rawValue: 5)
        let beforeAtSnapshot = try tree.read(keys, at: snapshot)

        let compaction = try #require(picker.compaction(level: 0, start: nil, end: nil, version: tree.versionSet.currentVersion))
        let job = CompactionJob(compaction: compaction, version: tree.versionSet.currentVersion, snapshots: [snapshot], versionSet: tree.versionSet, tableCache: tree.tableCache, builderOptions: tree.builderOptions, options: options)
        let result = try job.run()
        try tree.versionSet.logAndApply(result.edit)
        for file in result.outputs { tree.versionSet.references.unreserve(file.fileNumber) }
        #expect(result.statistics.filteredValues == 2)
        // The snapshot still sees the old versions, untouched.
        #expect(try tree.read(keys, at: snapshot) == beforeAtSnapshot)
        // The latest view: expired values are gone (deletes), the others unchanged.
        let latest = try tree.read(keys, at: SequenceNumber(rawValue: 100))
        #expect(latest[0] == nil && latest[1] == nil)
        #expect(latest[2] == ExpiringValue.encode(Array("c".utf8), expiresAt: now + 60_000))
        #expect(latest[3] == ExpiringValue.encode(Array("d".utf8), expiresAt: nil))
        #expect(latest[4] == ExpiringValue.encode(Array("e".utf8), expiresAt: 1))
        let (points, _) = try tree.physicalContents()
        // The expired values became deletes at their own sequences (above the snapshot, a
        // delete is kept: the compaction cannot tell that nothing older exists).
        #expect(points.contains { $0.userKey == Array("r:a".utf8) && $0.kind == .delete && $0.sequence.rawValue == 10 })
        #expect(points.contains { $0.userKey == Array("r:b".utf8) && $0.kind == .delete && $0.sequence.rawValue == 11 })
        #expect(points.contains { $0.userKey == Array("r:a".utf8) && $0.kind == .put && $0.sequence.rawValue == 1 })

        // Without the snapshot, a full compaction leaves nothing of the expired keys.
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: picker, builderOptions: tree.builderOptions)
        try compactor.compactRange(start: nil, end: nil, snapshots: [])
        let (after, _) = try tree.physicalContents()
        #expect(Set(after.map { String(decoding: $0.userKey, as: UTF8.self) }) == ["r:c", "r:d", "z:e"])
        #expect(after.allSatisfy { $0.kind == .put })
    }
}
