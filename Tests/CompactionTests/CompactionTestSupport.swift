import Encoding
import Manifest
import Memtable
import SSTable
import VFS

/// A small LSM tree without an engine: a version set, a table cache, and helpers to add tables.
final class TestTree {
    let fileSystem = MemoryFileSystem()
    let versionSet: VersionSet
    let tableCache: TableCache
    var builderOptions = TableBuilderOptions()

    init() throws {
        try fileSystem.createDirectory("/db")
        versionSet = try VersionSet.create(directory: "/db", fileSystem: fileSystem)
        tableCache = TableCache(fileSystem: fileSystem, directory: "/db", maxOpenFiles: 100)
        builderOptions.blockSize = 512
    }

    /// Writes a table holding `memtable`'s contents at `level` and installs it.
    @discardableResult
    func addTable(_ memtable: Memtable, level: Int) throws -> FileMetadata? {
        let frozen = memtable.freeze()
        guard frozen.entryCount + frozen.rangeTombstoneCount > 0 else { return nil }
        let number = versionSet.newFileNumber(reserve: true)
        defer { versionSet.references.unreserve(number) }
        let table = try TableBuilder.build(from: frozen.flushSource, fileSystem: fileSystem, directory: "/db", fileNumber: number, options: builderOptions)
        let file = FileMetadata(table, level: level)
        var edit = VersionEdit()
        edit.add(file)
        edit.lastSequence = frozen.maxSequence
        try versionSet.logAndApply(edit)
        return file
    }

    /// What a reader at `snapshot` sees for every key in `keys`: its value, or `nil` when it has
    /// none (`.deleted` and `.notFound` look the same to a reader).
    func read(_ keys: [[UInt8]], at snapshot: SequenceNumber) throws -> [[UInt8]?] {
        let version = versionSet.currentVersion
        return try keys.map { key in
            switch try key.withUnsafeBytes({ try version.get($0, at: snapshot, tableCache: tableCache) }) {
            case .value(let value): return value
            case .deleted, .notFound: return nil
            }
        }
    }

    /// Every point entry and range tombstone in the current version's tables.
    func physicalContents() throws -> (points: [InternalKey], tombstones: [RangeTombstone]) {
        var points: [InternalKey] = []
        var tombstones: [RangeTombstone] = []
        for file in versionSet.currentVersion.levels.joined() {
            let reader = try tableCache.reader(for: file.fileNumber)
            tombstones += reader.rangeTombstones
            var iterator = reader.makeIterator()
            try iterator.seekToFirst()
            while iterator.isValid {
                points.append(try InternalKey(decoding: iterator.key))
                try iterator.next()
            }
        }
        return (points, tombstones)
    }
}

func key(_ index: Int) -> [UInt8] { Array("k\(String(index).leftPadded(to: 4))".utf8) }

/// How many positions of two read results differ.
func mismatches(_ a: [[[UInt8]?]], _ b: [[[UInt8]?]]) -> Int {
    zip(a, b).reduce(0) { total, pair in total + zip(pair.0, pair.1).filter { $0 != $1 }.count } + abs(a.count - b.count)
}
