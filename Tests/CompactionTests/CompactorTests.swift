import Testing
import Compaction
import Encoding
import Manifest
import Memtable
import SSTable
import VFS
import Encoding

@Suite struct CompactorTests {
    /// Random histories spread over L1 (oldest) and three L0 files, random snapshots: after each
    /// compaction every read at every kept snapshot returns what it returned before.
    @Test(arguments: 0..<8)
    func readsAtEveryKeptSnapshotSurviveCompaction(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let tree = try TestTree()
        let keys = (0..<60).map(key)
        var sequence: UInt64 = 0
        // Layers from oldest (deepest) to newest; each gets a contiguous range of sequences.
        for (layer, level) in [(0, 2), (1, 1), (2, 0), (3, 0), (4, 0)] {
            _ = layer
            let memtable = try Memtable(capacity: 4 << 20)
            for _ in 0..<400 {
                sequence += 1
                let user = keys[Int(random.next() % UInt64(keys.count))]
                switch random.next() % 20 {
                case 0..<12: try memtable.put(user, Array("v\(sequence)".utf8), sequence: SequenceNumber(rawValue: sequence))
                case 12..<19: try memtable.delete(user, sequence: SequenceNumber(rawValue: sequence))
                default:
                    let end = keys[min(keys.count - 1, Int(random.next() % UInt64(keys.count)) + 1)]
                    if BytewiseComparator.compare(user, end) < 0 {
                        try memtable.insertRangeTombstone(start: user, end: end, sequence: SequenceNumber(rawValue: sequence))
                    } else {
                        try memtable.delete(user, sequence: SequenceNumber(rawValue: sequence))
                    }
                }
            }
            try tree.addTable(memtable, level: level)
        }
        let snapshots = (0..<Int(random.next() % 5)).map { _ in SequenceNumber(rawValue: 1 + random.next() % sequence) }.sorted()
        let readPoints = snapshots + [SequenceNumber(rawValue: sequence)]
        let before = try readPoints.map { try tree.read(keys, at: $0) }
        let picker = LeveledCompactionPicker()
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: picker, builderOptions: tree.builderOptions)

        // L0 → L1, then L1 → L2 (bottommost), then a full manual compaction.
        var dropped: UInt64 = 0
        for level in [0, 1] {
            let compaction = try #require(picker.compaction(level: level, start: nil, end: nil, version: tree.versionSet.currentVersion))
            let job = CompactionJob(compaction: compaction, version: tree.versionSet.currentVersion, snapshots: snapshots, versionSet: tree.versionSet, tableCache: tree.tableCache, builderOptions: tree.builderOptions, options: picker.options)
            let result = try job.run()
            try tree.versionSet.logAndApply(result.edit)
            for file in result.outputs { tree.versionSet.references.unreserve(file.fileNumber) }
            dropped += result.statistics.droppedVersions + result.statistics.droppedDeletes
            try tree.versionSet.currentVersion.checkInvariants()
            let after = try readPoints.map { try tree.read(keys, at: $0) }
            #expect(mismatches(after, before) == 0, "seed \(seed), after compacting level \(level)")
        }
        #expect(dropped > 0)
        try compactor.compactRange(start: nil, end: nil, snapshots: snapshots)
        #expect(mismatches(try readPoints.map { try tree.read(keys, at: $0) }, before) == 0, "seed \(seed), after full compaction")

        // With no snapshots left, a full compaction keeps exactly one live version per key and
        // no tombstones.
        try compactor.compactRange(start: nil, end: nil, snapshots: [])
        let latest = SequenceNumber(rawValue: sequence)
        #expect(mismatches([try tree.read(keys, at: latest)], [before.last!]) == 0)
        let (points, tombstones) = try tree.physicalContents()
        #expect(tombstones.isEmpty)
        #expect(points.allSatisfy { $0.kind == .put })
        #expect(Set(points.map(\.userKey)).count == points.count)
        #expect(points.count == before.last!.compactMap { $0 }.count)
    }

    @Test func aRangeDeleteAcrossFourLevelsHidesKeysAndDisappearsAfterFullCompaction() throws {
        let tree = try TestTree()
        var sequence: UInt64 = 0
        // k0000–k0099 in L3, k0100–k0199 in L2, k0200–k0299 in L1, k0300–k0399 in L0.
        for (index, level) in [3, 2, 1, 0].enumerated() {
            let memtable = try Memtable(capacity: 4 << 20)
            for offset in 0..<100 {
                sequence += 1
                try memtable.put(key(index * 100 + offset), Array("value".utf8), sequence: SequenceNumber(rawValue: sequence))
            }
            try tree.addTable(memtable, level: level)
        }
        // The range delete [k0050, k0350) arrives in a newer L0 file of its own.
        let deletes = try Memtable(capacity: 1 << 20)
        sequence += 1
        try deletes.insertRangeTombstone(start: key(50), end: key(350), sequence: SequenceNumber(rawValue: sequence))
        try tree.addTable(deletes, level: 0)
        let all = (0..<400).map(key)
        func expectHidden(_ moment: String) throws {
            let results = try tree.read(all, at: .max)
            for (index, result) in results.enumerated() {
                let hidden = index >= 50 && index < 350
                #expect(result == (hidden ? nil : Array("value".utf8)), "\(moment): key \(index)")
            }
        }
        try expectHidden("before compaction")
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: LeveledCompactionPicker(), builderOptions: tree.builderOptions)
        let runs = try compactor.compactRange(start: nil, end: nil, snapshots: [])
        #expect(runs.count >= 4)
        try expectHidden("after full compaction")
        let (points, tombstones) = try tree.physicalContents()
        #expect(tombstones.isEmpty)  // nothing left for the tombstone to hide: physically gone
        #expect(!points.contains { BytewiseComparator.compare($0.userKey, key(50)) >= 0 && BytewiseComparator.compare($0.userKey, key(350)) < 0 })
        #expect(points.count == 100)
        #expect(runs.reduce(0) { $0 + $1.statistics.droppedVersions } == 300)
    }

    @Test func aSnapshotKeepsTheTombstoneAndTheVersionsItHides() throws {
        let tree = try TestTree()
        let old = try Memtable(capacity: 1 << 20)
        try old.put(key(1), Array("old".utf8), sequence: SequenceNumber(rawValue: 1))
        try tree.addTable(old, level: 1)
        let newer = try Memtable(capacity: 1 << 20)
        try newer.insertRangeTombstone(start: key(0), end: key(5), sequence: SequenceNumber(rawValue: 3))
        try newer.delete(key(2), sequence: SequenceNumber(rawValue: 4))
        try tree.addTable(newer, level: 0)
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: LeveledCompactionPicker(), builderOptions: tree.builderOptions)
        // A snapshot at 2 still sees "old": the tombstone must stay, and so must "old".
        try compactor.compactRange(start: nil, end: nil, snapshots: [SequenceNumber(rawValue: 2)])
        #expect(try tree.read([key(1)], at: SequenceNumber(rawValue: 2)) == [Array("old".utf8)])
        #expect(try tree.read([key(1), key(2)], at: .max) == [nil, nil])
        let (points, tombstones) = try tree.physicalContents()
        #expect(tombstones.count == 1)
        // The delete at 4 lies above the snapshot, so it is not in stripe 0 and stays (as in
        // RocksDB: only deletes every snapshot can see are dropped).
        #expect(points.map(\.userKey) == [key(1), key(2)])
    }
}

/// A strategy that runs `onPick` while picking, standing in for a snapshot taken concurrently
/// by another thread while a compaction is getting started.
struct SnapshotDuringPick: CompactionStrategy {
    let inner: LeveledCompactionPicker
    let onPick: @Sendable () -> Void
    var options: CompactionOptions { inner.options }
    func pickCompaction(version: Version) -> Compaction? {
        onPick()
        return inner.pickCompaction(version: version)
    }
    func compaction(level: Int, start: [UInt8]?, end: [UInt8]?, version: Version) -> Compaction? {
        onPick()
        return inner.compaction(level: level, start: start, end: end, version: version)
    }
    func scores(version: Version) -> [Double] { inner.scores(version: version) }
}

@Suite struct CompactionSnapshotTimingTests {
    @Test func aSnapshotRegisteredWhileTheCompactionStartsIsHonoured() throws {
        let tree = try TestTree()
        // put@1, delete@2, put@3 of one key, each in its own L0 file.
        for (sequence, kind) in [(UInt64(1), ValueKind.put), (2, .delete), (3, .put)] {
            let memtable = try Memtable(capacity: 1 << 20)
            if kind == .put {
                try memtable.put(key(7), Array("v\(sequence)".utf8), sequence: SequenceNumber(rawValue: sequence))
            } else {
                try memtable.delete(key(7), sequence: SequenceNumber(rawValue: sequence))
            }
            try tree.addTable(memtable, level: 0)
        }
        // A snapshot at 1 is live from the start; one at 2 arrives while the compaction starts.
        // With a stale list [1], the delete at 2 would share a stripe with the put at 3 and be
        // dropped, and a read at 2 would wrongly see the put at 1.
        let live = Locked<[SequenceNumber]>([SequenceNumber(rawValue: 1)])
        var options = CompactionOptions()
        options.level0CompactionTrigger = 2
        let strategy = SnapshotDuringPick(inner: LeveledCompactionPicker(options: options)) {
            live.withLock { $0 = [SequenceNumber(rawValue: 1), SequenceNumber(rawValue: 2)] }  // someone snapshots at 2
        }
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: strategy, builderOptions: tree.builderOptions)
        // The list is asked for after the pick, so it includes the snapshot taken meanwhile.
        try #require(try compactor.compactOnce(snapshots: { live.withLock { $0 } }) != nil)
        #expect(try tree.read([key(7)], at: SequenceNumber(rawValue: 2)) == [nil])  // the delete survived
        #expect(try tree.read([key(7)], at: SequenceNumber(rawValue: 1)) == [Array("v1".utf8)])
        #expect(try tree.read([key(7)], at: .max) == [Array("v3".utf8)])
    }
}
