import Encoding

/// An immutable snapshot of which tables make up the database, level by level.
///
/// - Level 0 holds flushed memtables; its files may overlap and are ordered **newest first**.
/// - Each level ≥ 1 holds files sorted by key that never overlap, so the one file that may hold a
///   key is found by binary search.
///
/// Readers hold a version for as long as they read; it never changes under them, and its files are
/// not deleted while any reader holds it (reference counts in `FileReferences`, released in
/// `deinit`).
///
/// Thread safety: immutable; share freely.
public final class Version: Sendable, CustomStringConvertible {
    /// The number of levels.
    public static let levelCount = VersionEdit.levelCount

    /// The files of each level (`levels[0]` newest first; the others sorted by key).
    public let levels: [[FileMetadata]]
    /// Round-robin compaction start keys per level.
    public let compactionPointers: [Int: [UInt8]]
    private let references: FileReferences?

    /// An empty version.
    public convenience init() {
        self.init(levels: Array(repeating: [], count: Version.levelCount), compactionPointers: [:], references: nil)
    }

    init(levels: [[FileMetadata]], compactionPointers: [Int: [UInt8]], references: FileReferences?) {
        self.levels = levels
        self.compactionPointers = compactionPointers
        self.references = references
        references?.retain(levels.flatMap { $0.map(\.fileNumber) })
    }

    deinit {
        references?.release(levels.flatMap { $0.map(\.fileNumber) })
    }

    /// The version after applying `edit`: deleted files removed, added files placed and sorted.
    ///
    /// - Throws: `StrataError.corruption` when the edit deletes a file the version does not hold,
    ///   adds one it already holds, or leaves a level ≥ 1 overlapping.
    package func applying(_ edit: VersionEdit, references: FileReferences? = nil, file: String = "<edit>") throws -> Version {
        var levels = self.levels
        for deleted in edit.deletedFiles {
            guard let index = levels[deleted.level].firstIndex(where: { $0.fileNumber == deleted.fileNumber }) else {
                throw StrataError.corruption(file: file, offset: 0, reason: "edit deletes table \(deleted.fileNumber) which is not in level \(deleted.level)")
            }
            levels[deleted.level].remove(at: index)
        }
        for added in edit.addedFiles {
            guard !levels.contains(where: { $0.contains { $0.fileNumber == added.fileNumber } }) else {
                throw StrataError.corruption(file: file, offset: 0, reason: "edit adds table \(added.fileNumber) which is already live")
            }
            levels[added.level].append(added)
        }
        levels[0].sort { a, b in
            a.largestSequence != b.largestSequence ? a.largestSequence > b.largestSequence : a.fileNumber > b.fileNumber
        }
        for level in 1..<levels.count {
            levels[level].sort { InternalKeyComparator.compareArrays($0.smallest, $1.smallest) < 0 }
        }
        var pointers = compactionPointers
        for (level, key) in edit.compactionPointers { pointers[level] = key }
        let version = Version(levels: levels, compactionPointers: pointers, references: references ?? self.references)
        try version.checkInvariants(file: file)
        return version
    }

    /// Checks that every level ≥ 1 is sorted and non-overlapping and every file's range is valid.
    ///
    /// - Throws: `StrataError.corruption` describing the first violation.
    public func checkInvariants(file: String = "<version>") throws {
        for (level, files) in levels.enumerated() {
            for table in files where InternalKeyComparator.compareArrays(table.smallest, table.largest) > 0 || table.level != level {
                throw StrataError.corruption(file: file, offset: 0, reason: "table \(table.fileNumber) has an inverted key range or wrong level")
            }
            guard level >= 1 else { continue }
            for (a, b) in zip(files, files.dropFirst()) where InternalKeyComparator.compareArrays(a.largest, b.smallest) >= 0 {
                throw StrataError.corruption(file: file, offset: 0, reason: "level \(level) tables \(a.fileNumber) and \(b.fileNumber) overlap")
            }
        }
    }

    // MARK: - Queries

    /// Every table number in the version.
    public var allFileNumbers: [UInt64] { levels.flatMap { $0.map(\.fileNumber) } }

    /// Total bytes of the tables at `level`.
    public func size(ofLevel level: Int) -> UInt64 {
        levels[level].reduce(0) { $0 + $1.fileSize }
    }

    /// The tables of `level` whose user-key range intersects `[low, high]` (`nil`: unbounded),
    /// in the level's order.
    public func overlappingFiles(level: Int, smallestUserKey low: [UInt8]?, largestUserKey high: [UInt8]?) -> [FileMetadata] {
        levels[level].filter { $0.overlaps(smallestUserKey: low, largestUserKey: high) }
    }

    /// The index of the first table of level ≥ 1 that may hold `userKey`: the first whose range
    /// ends at or after it. A range ending in a tombstone sentinel excludes its own user key.
    package func firstFileIndex(level: Int, atOrAfter userKey: UnsafeRawBufferPointer) -> Int {
        let files = levels[level]
        var low = 0
        var high = files.count
        while low < high {
            let middle = (low + high) / 2
            if files[middle].endsBefore(userKey) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The tables that may hold `userKey`, in the order a read must consult them: level-0 files
    /// whose range covers it (newest first), then at most one file per deeper level.
    package func candidates(for userKey: UnsafeRawBufferPointer) -> [FileMetadata] {
        var result: [FileMetadata] = []
        for file in levels[0] where covers(file, userKey) { result.append(file) }
        for level in 1..<levels.count where !levels[level].isEmpty {
            let index = firstFileIndex(level: level, atOrAfter: userKey)
            if index < levels[level].count, covers(levels[level][index], userKey) { result.append(levels[level][index]) }
        }
        return result
    }

    private func covers(_ file: FileMetadata, _ userKey: UnsafeRawBufferPointer) -> Bool {
        file.smallest.withUnsafeBytes { BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) <= 0 }
            && !file.endsBefore(userKey)
    }

    /// One line per level with file counts and sizes.
    public var description: String {
        levels.enumerated().map { level, files in
            "L\(level): \(files.count) files, \(size(ofLevel: level)) bytes"
        }.joined(separator: "\n")
    }
}
