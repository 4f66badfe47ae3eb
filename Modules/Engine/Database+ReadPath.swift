import Encoding
import Manifest
import Memtable

// See Docs/ARCHITECTURE.md ("Read path").

/// Everything one read looks at, taken in an order that makes it consistent: the sequence number
/// first, then the memtables, then the table version. Any write at or below the sequence was in
/// a memtable before the sequence was published, and a memtable leaves the set only after its
/// table is in the version — so the view holds every such write.
///
/// The version must also not have lost a version the sequence can see. A compaction keeps, for
/// each key, the newest version at or below each registered snapshot and the newest overall; a
/// read at an unregistered sequence is safe only if every compaction behind its version picked
/// its inputs before the sequence was read. So a view without a snapshot checks that the
/// current version did not change while it was taken, and takes it again if it did. (A read at
/// a `Snapshot` is registered, so compactions keep what it sees.)
struct ReadView: Sendable {
    let sequence: SequenceNumber
    let active: Memtable
    let frozen: [FrozenMemtable]
    let version: Version
}

/// The read view of every keyspace at once: the sequence, all memtables and the whole version
/// (each keyspace's `ReadView` is a projection of it).
struct WholeReadView: Sendable {
    let sequence: SequenceNumber
    let memtables: Database.MemtableSet
    let version: Version

    /// The default keyspace's view.
    var defaultKeyspace: ReadView {
        ReadView(sequence: sequence, active: memtables.active, frozen: memtables.frozen, version: version)
    }

    /// Keyspace `id`'s view: `nil` when the version has no such keyspace; `.some(nil)` when it
    /// has, but the memtables predate it (take the view again).
    func keyspace(_ id: UInt32) -> ReadView?? {
        guard let tree = version.tree(id) else { return nil }
        guard let keyspace = memtables.keyspaces[id] else { return .some(nil) }
        return ReadView(sequence: sequence, active: keyspace.active, frozen: keyspace.frozen, version: tree)
    }
}

extension Database {
    /// Takes a read view of keyspace `keyspace` (0: the default keyspace) at `snapshot` (the
    /// latest data when `nil`).
    ///
    /// - Throws: `.invalidArgument` when the keyspace does not exist (it was dropped).
    func readView(at snapshot: Snapshot?, keyspace: UInt32) throws -> ReadView {
        guard keyspace != KeyspaceDescriptor.defaultID else { return readView(at: snapshot) }
        while true {
            let whole = snapshot?.pinnedView ?? wholeReadView(at: snapshot)
            switch whole.keyspace(keyspace) {
            case nil: throw StrataError.invalidArgument("keyspace \(keyspace) does not exist (it was dropped)")
            // A keyspace gets its memtable before the manifest records it: a view whose version
            // has the keyspace but whose memtables predate it is simply taken again.
            case .some(nil):
                if snapshot?.pinnedView != nil { throw StrataError.invalidArgument("keyspace \(keyspace) is not readable at this snapshot") }
                continue
            case .some(let view?): return view
            }
        }
    }

    /// Takes a read view of the default keyspace at `snapshot` (the latest data when `nil`).
    func readView(at snapshot: Snapshot?) -> ReadView {
        (snapshot?.pinnedView ?? wholeReadView(at: snapshot)).defaultKeyspace
    }

    /// The sequence, memtables and version of every keyspace, taken consistently (see
    /// `ReadView`).
    func wholeReadView(at snapshot: Snapshot?) -> WholeReadView {
        if let snapshot {
            let set = memtables.withLock { $0 }
            return WholeReadView(sequence: snapshot.sequence, memtables: set, version: versionSet.currentVersion)
        }
        while true {
            // A replica swaps its view wholesale when it installs a manifest (see
            // `viewSwitches`): a view taken across a swap is taken again.
            let switches = viewSwitches.load(ordering: .acquiring)
            if switches & 1 == 1 {
                replicaInstall.withLock { _ in }
                continue
            }
            let before = versionSet.currentVersion
            let sequence = SequenceNumber(rawValue: lastSequence.load(ordering: .acquiring))
            let set = memtables.withLock { $0 }
            let version = versionSet.currentVersion
            // Unchanged: every compaction behind `version` finished before `sequence` was read.
            if version === before && viewSwitches.load(ordering: .acquiring) == switches {
                return WholeReadView(sequence: sequence, memtables: set, version: version)
            }
        }
    }

    /// Point lookup at `snapshot` (the latest data when `nil`).
    @usableFromInline
    func get(rawKey key: UnsafeRawBufferPointer, snapshot: Snapshot?) throws -> [UInt8]? {
        try checkOpen()
        return try get(rawKey: key, in: readView(at: snapshot))
    }

    /// Point lookup in keyspace `keyspace` at `snapshot` (the latest data when `nil`).
    func get(rawKey key: UnsafeRawBufferPointer, snapshot: Snapshot?, keyspace: UInt32) throws -> [UInt8]? {
        try checkOpen()
        return try get(rawKey: key, in: readView(at: snapshot, keyspace: keyspace))
    }

    /// Point lookup in `view`: active memtable → frozen memtables (newest first) → level 0
    /// (newest first) → one table per deeper level. The first layer that knows the key (a value,
    /// a delete or a covering range tombstone) decides.
    func get(rawKey key: UnsafeRawBufferPointer, in view: ReadView) throws -> [UInt8]? {
        guard !key.isEmpty else { throw StrataError.invalidArgument("empty key") }
        guard key.count <= options.maxKeySize else {
            throw StrataError.invalidArgument("key of \(key.count) bytes exceeds maxKeySize \(options.maxKeySize)")
        }
        counters.gets.add(1, ordering: .relaxed)
        let result = try lookup(key, in: view)
        guard case .value(let value) = result else { return nil }
        counters.getHits.add(1, ordering: .relaxed)
        return value
    }

    /// Whether the latest data holds a version of `key` — a put, a delete or a covering range
    /// tombstone — newer than `sequence`: a transaction's conflict check. The first layer that
    /// knows the key holds its newest state; tables with nothing newer than `sequence` are not
    /// read (usually all of them: they predate the transaction).
    func changed(_ key: [UInt8], after sequence: UInt64, keyspace: UInt32 = 0) throws -> Bool {
        let view = try readView(at: nil, keyspace: keyspace)
        let newest: UInt64? = try key.withUnsafeBytes { key in
            if let newest = view.active.newestSequence(key) { return newest }
            for frozen in view.frozen {
                if let newest = frozen.newestSequence(key) { return newest }
            }
            return try view.version.newestSequence(key, newerThan: sequence, tableCache: tableCache)
        }
        return newest.map { $0 > sequence } ?? false
    }

    private func lookup(_ key: UnsafeRawBufferPointer, in view: ReadView) throws -> LookupResult {
        let fromActive = view.active.get(key, at: view.sequence)
        if fromActive != .notFound { return fromActive }
        for frozen in view.frozen {
            let result = frozen.get(key, at: view.sequence)
            if result != .notFound { return result }
        }
        return try view.version.get(key, at: view.sequence, tableCache: tableCache)
    }
}
