import Testing
import Compaction
import Encoding
import Manifest
import Memtable
import SSTable
import VFS

@Suite struct LeveledShapeTests {
    @Test func loadingRandomKeysKeepsLevelsSortedAndWithinTheirTargets() throws {
        let tree = try TestTree()
        var options = CompactionOptions()
        options.maxBytesForLevelBase = 256 << 10
        options.levelMultiplier = 4
        options.targetFileSize = 64 << 10
        options.level0CompactionTrigger = 4
        let picker = LeveledCompactionPicker(options: options)
        let compactor = Compactor(versionSet: tree.versionSet, tableCache: tree.tableCache, strategy: picker, builderOptions: tree.builderOptions)
        var random = SplitMix64(seed: 9)
        var sequence: UInt64 = 0
        var memtable = try Memtable(capacity: 4 << 20)
        var latest: [[UInt8]: [UInt8]] = [:]
        for _ in 0..<150_000 {
            sequence += 1
            let user = Array(String(random.next() % 60_000).leftPadded(to: 12).utf8)
            let value = Array("value-\(sequence)".utf8)
            try memtable.put(user, value, sequence: SequenceNumber(rawValue: sequence))
            latest[user] = value
            if memtable.approximateMemoryUsage > 256 << 10 {
                try tree.addTable(memtable, level: 0)
                memtable = try Memtable(capacity: 4 << 20)
                while try compactor.compactOnce(snapshots: []) != nil {}
            }
        }
        try tree.addTable(memtable, level: 0)
        while try compactor.compactOnce(snapshots: []) != nil {}

        let version = tree.versionSet.currentVersion
        try version.checkInvariants()
        #expect(version.levels[0].count < options.level0CompactionTrigger)
        for level in 1..<(Version.levelCount - 1) {
            #expect(version.size(ofLevel: level) <= options.targetSize(ofLevel: level), "level \(level): \(version.size(ofLevel: level)) bytes")
        }
        #expect(version.levels.dropFirst().contains { !$0.isEmpty })
        let statistics = compactor.levelStatistics
        let written = statistics.reduce(0) { $0 + $1.bytesWritten }
        print("leveled shape test: \(version)\n  compaction bytes written \(written), trivial moves \(statistics.reduce(0) { $0 + $1.trivialMoves })")
        // Every key reads back its latest value.
        var wrong = 0
        for (user, value) in latest.prefix(5_000) {
            if try user.withUnsafeBytes({ try version.get($0, at: .max, tableCache: tree.tableCache) }) != .value(value) { wrong += 1 }
        }
        #expect(wrong == 0)
    }
}
