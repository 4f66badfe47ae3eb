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
    /// The named keyspaces' trees, by keyspace id: each a version of its own (with no keyspaces
    /// of its own). Empty in a database without keyspaces; always empty in a keyspace's tree.
    public let keyspaceTrees: [UInt32: Version]
    /// The named keyspaces' descriptors, by keyspace id (the same keys as `keyspaceTrees`).
    public let keyspaceDescriptors: [UInt32: KeyspaceDescriptor]
    /// The lowest keyspace id never handed out (at least 1).
    public let nextKeyspaceID: UInt32
    private let references: FileReferences?

    /// An empty version.
    public convenience init() {
        self.init(levels: Array(repeating: [], count: Version.levelCount), compactionPointers: [:], references: nil)
    }

    init(
        levels: [[FileMetadata]], compactionPointers: [Int: [UInt8]], references: FileReferences?,
        keyspaceTrees: [UInt32: Version] = [:], keyspaceDescriptors: [UInt32: KeyspaceDescriptor] = [:], nextKeyspaceID: UInt32 = 1
    ) {
        self.nextKeyspaceID = max(nextKeyspaceID, (keyspaceDescriptors.keys.max() ?? 0) + 1)
        self.levels = levels
        self.compactionPointers = compactionPointers
        self.references = references
        self.keyspaceTrees = keyspaceTrees
        self.keyspaceDescriptors = keyspaceDescriptors
        // Each tree counts its own files: a tree carried over unchanged into the next version
        // is shared, not counted again.
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
        var trees = keyspaceTrees
        var descriptors = keyspaceDescriptors
        for id in edit.droppedKeyspaces {
            guard descriptors.removeValue(forKey: id) != nil else {
                throw StrataError.corruption(file: file, offset: 0, reason: "edit drops keyspace \(id) which does not exist")
            }
            trees[id] = nil
        }
        for descriptor in edit.keyspaces {
            if let existing = descriptors.values.first(where: { $0.name == descriptor.name && $0.id != descriptor.id }) {
                throw StrataError.corruption(file: file, offset: 0, reason: "edit names keyspace \(descriptor.id) \"\(descriptor.name)\", the name of keyspace \(existing.id)")
            }
            descriptors[descriptor.id] = descriptor
            if trees[descriptor.id] == nil {
                trees[descriptor.id] = Version(levels: Array(repeating: [], count: Version.levelCount), compactionPointers: [:], references: references ?? self.references)
            }
        }
        for id in edit.touchedKeyspaces {
            guard let tree = trees[id] else {
                throw StrataError.corruption(file: file, offset: 0, reason: "edit changes the tables of keyspace \(id) which does not exist")
            }
            trees[id] = try tree.applyingToTree(edit.treeEdit(for: id), references: references, file: file)
        }
        let next = max(nextKeyspaceID, edit.nextKeyspaceID ?? 0, (edit.keyspaces.map(\.id).max() ?? 0) + 1)
        return try applyingToTree(
            edit.treeEdit(for: KeyspaceDescriptor.defaultID), references: references, file: file,
            keyspaceTrees: trees, keyspaceDescriptors: descriptors, nextKeyspaceID: next)
    }

    /// This tree's version after `edit` (files and pointers of one tree), with the given
    /// keyspaces.
    private func applyingToTree(
        _ edit: VersionEdit, references: FileReferences?, file: String,
        keyspaceTrees: [UInt32: Version] = [:], keyspaceDescriptors: [UInt32: KeyspaceDescriptor] = [:], nextKeyspaceID: UInt32 = 1
    ) throws -> Version {
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
        let version = Version(
            levels: levels, compactionPointers: pointers, references: references ?? self.references,
            keyspaceTrees: keyspaceTrees, keyspaceDescriptors: keyspaceDescriptors, nextKeyspaceID: nextKeyspaceID)
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

    /// Every table number in the version, the keyspaces' trees included.
    public var allFileNumbers: [UInt64] { allFiles.map(\.fileNumber) }

    /// Every table in the version, the keyspaces' trees included (by keyspace id, then level).
    public var allFiles: [FileMetadata] {
        var files = Array(levels.joined())
        for id in keyspaceTrees.keys.sorted() { files += keyspaceTrees[id]!.levels.joined() }
        return files
    }

    /// The tree of keyspace `id` (this version itself for the default keyspace), or `nil` when
    /// no such keyspace exists.
    public func tree(_ id: UInt32) -> Version? {
        id == KeyspaceDescriptor.defaultID ? self : keyspaceTrees[id]
    }

    /// The named keyspace called `name`, if it exists.
    public func keyspace(named name: String) -> KeyspaceDescriptor? {
        keyspaceDescriptors.values.first { $0.name == name }
    }

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
    /// `files` are one such level's (sorted, disjoint).
    static func firstFileIndex(in files: UnsafeBufferPointer<FileMetadata>, atOrAfter userKey: UnsafeRawBufferPointer) -> Int {
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
        forEachCandidate(for: userKey) { file in
            result.append(file)
            return false
        }
        return result
    }

    /// Calls `body` with each table `candidates(for:)` lists, in that order, until it returns
    /// `true`; without building the list or copying the files' metadata (a point read's path).
    @inline(__always)
    package func forEachCandidate(for userKey: UnsafeRawBufferPointer, _ body: (_ file: FileMetadata) throws -> Bool) rethrows {
        try levels.withUnsafeBufferPointer { levels in
            let stop = try levels[0].withUnsafeBufferPointer { files in
                for index in files.indices where covers(files[index], userKey) {
                    if try body(files[index]) { return true }
                }
                return false
            }
            if stop { return }
            for level in 1..<levels.count where !levels[level].isEmpty {
                let stop = try levels[level].withUnsafeBufferPointer { files in
                    let index = Version.firstFileIndex(in: files, atOrAfter: userKey)
                    return index < files.count && covers(files[index], userKey) ? try body(files[index]) : false
                }
                if stop { return }
            }
        }
    }

    private func covers(_ file: FileMetadata, _ userKey: UnsafeRawBufferPointer) -> Bool {
        // `file.table.…`, not the dynamic member: a key-path read copied the whole metadata.
        file.table.smallest.withUnsafeBytes { BytewiseComparator.compare(InternalKey.userKey(of: $0), userKey) <= 0 }
            && !file.endsBefore(userKey)
    }

    /// One line per level with file counts and sizes.
    public var description: String {
        var lines = levels.enumerated().map { level, files in
            "L\(level): \(files.count) files, \(size(ofLevel: level)) bytes"
        }
        for id in keyspaceTrees.keys.sorted() {
            lines.append("keyspace \(id) \"\(keyspaceDescriptors[id]?.name ?? "?")\":")
            lines += keyspaceTrees[id]!.description.split(separator: "\n").map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
