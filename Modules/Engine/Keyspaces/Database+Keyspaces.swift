import Encoding
import Manifest
import Memtable
import SSTable

// See Docs/KEYSPACES.md and Docs/formats/manifest.md ("Keyspaces").

extension Database {
    /// The name `keyspace(_:)` gives the default keyspace: the one the database's own methods
    /// read and write.
    public static let defaultKeyspaceName = "default"

    /// Opens the keyspace called `name`, creating it when it does not exist.
    ///
    /// A new keyspace starts empty with `options` (the database's table options where a field is
    /// `nil`). Opening an existing keyspace with `options` records them when they differ from
    /// its recorded ones; with `nil` its recorded options stay. The name `"default"` gives a
    /// handle on the default keyspace (whose options are the database's: pass `nil`).
    ///
    /// Creating a keyspace is durable when this returns (the manifest records it).
    ///
    /// With an object store (`Options.objectStore`) the creation uploads a checkpoint before
    /// returning, so a restore knows the keyspace before it replays writes to it.
    ///
    /// - Throws: `.invalidArgument` for an empty name or one over 255 bytes, options out of
    ///   range, options for the default keyspace, or to create one on a replica (it follows the
    ///   primary's keyspaces; opening an existing one works); `.readOnly` to create one in a
    ///   read-only open; `.closed`; `.io` when the manifest
    ///   cannot be written; the store's error or `.fenced` when the checkpoint cannot be uploaded.
    public func keyspace(_ name: String, options keyspaceOptions: KeyspaceOptions? = nil) throws -> Keyspace {
        try checkOpen()
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw StrataError.invalidArgument("a keyspace name must be 1 to 255 bytes of UTF-8")
        }
        try keyspaceOptions?.validate()
        if name == Database.defaultKeyspaceName {
            guard keyspaceOptions == nil else {
                throw StrataError.invalidArgument("the default keyspace's options are the database's Options")
            }
            return Keyspace(database: self, name: name, id: KeyspaceDescriptor.defaultID)
        }
        return try keyspaceChanges.withLock { _ in
            try checkpointKeyspaceChange()
            if let existing = versionSet.currentVersion.keyspace(named: name) {
                if let keyspaceOptions, keyspaceOptions.encoded != existing.options {
                    try checkWritable()
                    var edit = VersionEdit()
                    edit.keyspaces = [KeyspaceDescriptor(id: existing.id, name: name, options: keyspaceOptions.encoded)]
                    try versionSet.logAndApply(edit)
                }
                return Keyspace(database: self, name: name, id: existing.id)
            }
            try checkWritable()
            guard !isReplica else { throw StrataError.invalidArgument("a replica follows the primary's keyspaces and cannot create one") }
            let descriptor = KeyspaceDescriptor(id: versionSet.currentVersion.nextKeyspaceID, name: name, options: (keyspaceOptions ?? KeyspaceOptions()).encoded)
            // The memtable goes in before the manifest records the keyspace: a reader that finds
            // the keyspace in the version also finds its memtable (see `readView(at:keyspace:)`).
            let segment = try wal.withLock { wal -> UInt64 in
                guard let wal else { throw StrataError.closed }
                return wal.segmentNumber
            }
            let memtable = try Memtable(capacity: memtableCapacity, walSegment: segment)
            state.withLock { state in
                memtable.injectMaxSequence(state.maxActiveSequence)
                state.keyspaceActive[descriptor.id] = memtable
                publishMemtables(state)
            }
            var edit = VersionEdit()
            edit.keyspaces = [descriptor]
            edit.nextKeyspaceID = descriptor.id + 1
            do {
                try markKeyspaceCheckpointPending()
                try versionSet.logAndApply(edit)
            } catch {
                state.withLock { state in
                    state.keyspaceActive[descriptor.id] = nil
                    publishMemtables(state)
                }
                throw error
            }
            try checkpointKeyspaceChange()
            logger.info("created keyspace", metadata: ["keyspace": "\(name)", "id": "\(descriptor.id)"])
            return Keyspace(database: self, name: name, id: descriptor.id)
        }
    }

    /// Drops the keyspace called `name`: its data is gone at once (durably, when this returns)
    /// and its tables are deleted as soon as no reader holds them. Handles on it then throw
    /// `.invalidArgument`; a new keyspace of the same name is a different, empty one.
    ///
    /// A write to the keyspace that races with the drop is ordered before it (and so dropped).
    ///
    /// - Throws: `.invalidArgument` when no such keyspace exists or for `"default"`;
    ///   `.readOnly`; `.closed`; `.io` when the manifest cannot be written.
    public func dropKeyspace(_ name: String) throws {
        try checkWritable()
        guard name != Database.defaultKeyspaceName else { throw StrataError.invalidArgument("the default keyspace cannot be dropped") }
        try keyspaceChanges.withLock { _ in
            guard let descriptor = versionSet.currentVersion.keyspace(named: name) else {
                throw StrataError.invalidArgument("no keyspace named \"\(name)\"")
            }
            var edit = VersionEdit()
            edit.droppedKeyspaces = [descriptor.id]
            try markKeyspaceCheckpointPending()
            try versionSet.logAndApply(edit)
            state.withLock { state in
                state.keyspaceActive[descriptor.id] = nil
                for generation in state.keyspaceFrozen.keys { state.keyspaceFrozen[generation]![descriptor.id] = nil }
                publishMemtables(state)
            }
            let garbage = try versionSet.collectGarbage()
            for table in garbage.tables { tableCache.evict(table) }
            try checkpointKeyspaceChange()
            logger.info("dropped keyspace", metadata: ["keyspace": "\(name)", "id": "\(descriptor.id)"])
        }
    }

    /// With an object store, records — durably, before the manifest edit — that a keyspace
    /// change needs a checkpoint: the store's log carries writes, not keyspaces, so a restore
    /// must start from a manifest that knows the keyspace (or its drop) before it replays any
    /// write to it. Until `checkpointKeyspaceChange()` succeeds, opening a keyspace tries again,
    /// and so does the next open of the directory (`StoreMarker.checkpointPending`).
    private func markKeyspaceCheckpointPending() throws {
        guard storeSession.withLock({ $0 }) != nil else { return }
        try setStoreCheckpointPending(true)
        keyspaceCheckpointPending.store(true, ordering: .relaxed)
    }

    /// Uploads the checkpoint a keyspace change marked as pending, then clears the mark.
    private func checkpointKeyspaceChange() throws {
        guard storeSession.withLock({ $0 }) != nil, keyspaceCheckpointPending.load(ordering: .relaxed) else { return }
        try uploadCheckpoint()
        try setStoreCheckpointPending(false)
        keyspaceCheckpointPending.store(false, ordering: .relaxed)
    }

    private func setStoreCheckpointPending(_ pending: Bool) throws {
        guard var marker = try StoreMarker.read(directory: path, fileSystem: fileSystem), marker.checkpointPending != pending else { return }
        marker.checkpointPending = pending
        try marker.write(directory: path, fileSystem: fileSystem)
    }

    /// The names of the named keyspaces, sorted (the default keyspace is not listed).
    public var keyspaceNames: [String] {
        versionSet.currentVersion.keyspaceDescriptors.values.map(\.name).sorted()
    }

    /// A handle on keyspace `name` when it exists (the default one always does), else `nil`.
    /// Unlike `keyspace(_:options:)` it never creates, records or uploads anything, so it does
    /// not block: what a server resolving a client's keyspace name wants.
    public func existingKeyspace(named name: String) -> Keyspace? {
        if name == Database.defaultKeyspaceName { return Keyspace(database: self, name: name, id: KeyspaceDescriptor.defaultID) }
        guard let descriptor = versionSet.currentVersion.keyspace(named: name) else { return nil }
        return Keyspace(database: self, name: name, id: descriptor.id)
    }

    /// The table options a named keyspace's tables are built with.
    func tableBuilderOptions(for descriptor: KeyspaceDescriptor) throws -> TableBuilderOptions {
        try Database.tableBuilderOptions(for: descriptor, base: options.tableBuilderOptions)
    }

    /// The table options `descriptor`'s recorded options give over the database's `base`.
    static func tableBuilderOptions(for descriptor: KeyspaceDescriptor, base: TableBuilderOptions) throws -> TableBuilderOptions {
        var options = try KeyspaceOptions(decoding: descriptor.options, keyspace: descriptor.name).tableBuilderOptions(over: base)
        options.keyspaceID = descriptor.id
        options.keyspaceName = descriptor.name
        return options
    }

    /// Throws `.invalidArgument` unless every keyspace in `ids` exists.
    func checkKeyspacesExist(_ ids: [UInt32]) throws {
        let version = versionSet.currentVersion
        for id in ids where version.keyspaceTrees[id] == nil {
            throw StrataError.invalidArgument("keyspace \(id) does not exist (it was dropped)")
        }
    }
}
