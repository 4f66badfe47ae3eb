import Testing
import Encoding
import Manifest
import StrataTestSupport
import VFS

/// Crash at every step of "write edit / sync / switch CURRENT / delete obsolete": the reopened
/// version is always the old or the new one, never a mix, and no live file is deleted.
@Suite struct ManifestCrashTests {
    /// Builds a database with a few tables and returns what a compaction-like edit would change.
    func setUp(_ memory: MemoryFileSystem, maxManifestSize: UInt64) throws -> (VersionEdit, old: [[FileMetadata]]) {
        var options = ManifestOptions()
        options.maxManifestSize = maxManifestSize
        let set = try VersionSet.create(directory: "/db", fileSystem: memory, options: options)
        var edit = VersionEdit()
        for index in 0..<4 {
            let file = fileMetadata(set.newFileNumber(), level: 1, "k\(index)a", "k\(index)z")
            try writeTableFile(memory, file)
            edit.add(file)
        }
        try set.logAndApply(edit)
        let old = set.currentVersion.levels
        // The change under test: two L1 files merged into one L2 file.
        var change = VersionEdit()
        change.delete(level: 1, fileNumber: old[1][0].fileNumber)
        change.delete(level: 1, fileNumber: old[1][1].fileNumber)
        let merged = fileMetadata(set.newFileNumber(), level: 2, "k0a", "k1z", size: 180)
        try writeTableFile(memory, merged)
        change.add(merged)
        change.logNumber = 9
        try set.close()
        return (change, old)
    }

    @Test(arguments: [UInt64(64 << 20), 1])
    func everyInjectedFailureThenAPowerCutLeavesTheOldOrTheNewVersion(maxManifestSize: UInt64) throws {
        var outcomes = (old: 0, new: 0)
        let operations: [FaultInjectionFileSystem.Operation] = [.openWritable, .write, .sync, .rename, .syncDirectory, .remove]
        for operation in operations {
            for after in 0..<6 {
                let memory = try memoryDirectory()
                let (change, old) = try setUp(memory, maxManifestSize: maxManifestSize)
                let faulty = FaultInjectionFileSystem(wrapping: memory)
                var options = ManifestOptions()
                options.maxManifestSize = maxManifestSize
                var new: [[FileMetadata]]? = nil
                do {
                    let set = try VersionSet.open(directory: "/db", fileSystem: faulty, options: options)
                    faulty.inject(.init(operation, after: after))
                    new = try set.logAndApply(change).levels
                    try set.collectGarbage()
                    try set.close()
                } catch {
                    // The process dies here.
                }
                memory.simulatePowerCut()
                let reopened = try VersionSet.open(directory: "/db", fileSystem: memory, options: options)
                let levels = reopened.currentVersion.levels
                if levels == old {
                    outcomes.old += 1
                } else {
                    // Not the old version: it must be exactly the new one.
                    let expected = try Version().applying(old.flatMap { $0 }.reduce(into: VersionEdit()) { $0.add($1) }).applying(change).levels
                    #expect(levels == expected, "\(operation) after \(after)")
                    if let new { #expect(levels == new) }
                    outcomes.new += 1
                }
                // Opening verified that every live table exists with its size: none was deleted.
                try reopened.close()
            }
        }
        print("manifest crash points (max manifest \(maxManifestSize)): \(outcomes.old) recovered the old version, \(outcomes.new) the new one")
        #expect(outcomes.old > 0 && outcomes.new > 0)
    }
}
