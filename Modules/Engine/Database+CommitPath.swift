#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Logging
import Memtable
import WAL

// See Docs/ARCHITECTURE.md ("Write path").

extension Database {
    /// The commit leader's work for one group of writes (never concurrent with another group):
    /// make room, number the entries, log them (one sync for the group if any member asked),
    /// apply them to the memtable, then publish the new last sequence so readers see the whole
    /// group at once.
    func commit(_ group: [WriteRequest]) throws {
        switch group.first {
        case .sync?:
            do {
                try wal.withLock { try $0?.sync() }
            } catch {
                setBackgroundError(error, during: "syncing the WAL")
                throw error
            }
            counters.walSyncs.add(1, ordering: .relaxed)
            return
        case .close?:
            // Every write queued before the close has been processed: make them durable.
            try wal.withLock { try $0?.sync() }
            return
        case .switchMemtable?:
            let empty = state.withLock { $0.holdsNoActiveWrites }
            if !empty { try switchMemtable() }
            return
        default:
            break
        }
        // One pass over the group into the leader's reused buffer (no allocation per group).
        let scratch = commitScratch
        defer { scratch.value.removeAll(keepingCapacity: true) }
        var sync = false
        // The keys and ranges this group writes, gathered from the first transaction that must
        // be checked against the members before it (they are not in the memtable yet).
        var groupWrites: GroupWrites? = nil
        for request in group {
            switch request {
            case .write(let batch, let wantsSync):
                scratch.value.append(batch)
                sync = sync || wantsSync
                groupWrites?.add(batch)
            case .transaction(let commit):
                if !commit.checks.isEmpty {
                    if groupWrites == nil {
                        var writes = GroupWrites()
                        for earlier in scratch.value { writes.add(earlier) }
                        groupWrites = writes
                    }
                    if let reason = try conflict(commit.checks, groupWrites: groupWrites) {
                        commit.refuse(reason)
                        continue
                    }
                }
                scratch.value.append(commit.batch)
                sync = sync || commit.sync
                groupWrites?.add(commit.batch)
            default:
                continue
            }
        }
        guard !scratch.value.isEmpty else { return }
        try commitBatches(&scratch.value, sync: sync)
    }

    /// Logs and applies `batches` as one group (see `commit(_:)`). Leader only.
    private func commitBatches(_ batches: inout [WriteBatch], sync: Bool) throws {
        var bytes = 0
        var entries = 0
        for batch in batches {
            bytes += batch.byteSize
            entries += batch.count
        }
        let memtable = try makeRoomForWrite(bytes: bytes, entries: entries)
        let session = storeSession.withLock { $0 }
        if let session {
            // Backpressure from the object store: too much waiting for upload stalls writers.
            let micros = try session.shipper.waitForRoom(bytes: bytes)
            if micros > 0 { counters.stallMicros.add(micros, ordering: .relaxed) }
        }

        var next = lastSequence.load(ordering: .relaxed) + 1
        for index in batches.indices {
            batches[index].sequence = SequenceNumber(rawValue: next)
            next += UInt64(batches[index].count)
        }
        do {
            try wal.withLock { wal in
                guard let wal else { throw StrataError.closed }
                for batch in batches { try wal.append(batch.encoded) }
                // Unsynced writes still reach the kernel before they are acknowledged, so they
                // survive a process crash.
                if sync { try wal.sync() } else { try wal.flush() }
            }
        } catch {
            // A log with a hole must not take more writes (the WAL writer's error is sticky too).
            setBackgroundError(error, during: "writing the WAL")
            throw error
        }
        session?.shipper.enqueue(batches)
        var summary = WriteBatch.Summary()
        do {
            // Named keyspaces' memtables, looked up only when some batch writes to one. A
            // keyspace dropped since the batch was checked has none: its entries are logged but
            // applied nowhere, as if written just before the drop (replay skips them too).
            var keyspaceActive: [UInt32: Memtable]? = nil
            for batch in batches {
                try memtable.apply(batch)
                if !batch.summary.keyspaces.isEmpty {
                    if keyspaceActive == nil { keyspaceActive = state.withLock { $0.keyspaceActive } }
                    for id in batch.summary.keyspaces {
                        try keyspaceActive![id]?.apply(batch, keyspace: id)
                    }
                }
                summary.add(batch.summary)
            }
        } catch {
            setBackgroundError(error, during: "applying a batch to the memtable")
            throw error
        }
        lastSequence.store(next - 1, ordering: .releasing)
        if activeMemtableBirth.load(ordering: .relaxed) == 0 { activeMemtableBirth.store(WallClock.monotonicNanoseconds(), ordering: .relaxed) }

        counters.writeGroups.add(1, ordering: .relaxed)
        counters.batches.add(UInt64(batches.count), ordering: .relaxed)
        counters.walBytesWritten.add(UInt64(bytes), ordering: .relaxed)
        if sync { counters.walSyncs.add(1, ordering: .relaxed) }
        counters.puts.add(UInt64(summary.puts), ordering: .relaxed)
        counters.deletes.add(UInt64(summary.deletes), ordering: .relaxed)
        counters.rangeDeletes.add(UInt64(summary.rangeDeletes), ordering: .relaxed)
        counters.userBytesWritten.add(UInt64(summary.userBytes), ordering: .relaxed)
    }

    /// Returns the memtable the group goes into, switching to a new one (and rotating the WAL)
    /// when the active one is full, and slowing or stopping the writer while flushes or level-0
    /// compactions lag (never letting memory grow without bound). Leader only.
    func makeRoomForWrite(bytes: Int, entries: Int) throws -> Memtable {
        var delayed = false
        while true {
            let (active, frozenCount, error, keyspacesFit) = state.withLock { state in
                (state.active, state.frozen.count, state.backgroundError, state.keyspacesCanHold(bytes: bytes, entries: entries, writeBufferSize: options.writeBufferSize))
            }
            if let error { throw error }
            if closed.load(ordering: .acquiring) && commitQueue.withLock({ $0 }) == nil { throw StrataError.closed }
            let pressure = picker.writePressure(allTreesOf: versionSet.currentVersion)
            if pressure.slowdown && !delayed {
                // Level 0 is backing up: give compaction a millisecond per write instead of
                // letting the stop trigger fire all at once (LevelDB's slowdown).
                let start = WallClock.monotonicNanoseconds()
                usleep(1000)
                counters.stallMicros.add((WallClock.monotonicNanoseconds() - start) / 1000, ordering: .relaxed)
                delayed = true
                requestCompaction()
                continue
            }
            if active.approximateMemoryUsage < options.writeBufferSize && active.canHold(bytes: bytes, entries: entries) && keyspacesFit {
                return active
            }
            if frozenCount >= options.maxWriteBufferNumber - 1 {
                // Every memtable slot is taken: wait for the flush to free one.
                let limit = options.maxWriteBufferNumber - 1
                try stall(reason: "memtable limit") { $0.frozen.count < limit }
                continue
            }
            if pressure.stop {
                try stall(reason: "level-0 stop trigger") { [picker, versionSet] _ in
                    !picker.writePressure(allTreesOf: versionSet.currentVersion).stop
                }
                continue
            }
            try switchMemtable()
        }
    }

    /// Blocks the writer until `ready` or a background error, counting the stall.
    private func stall(reason: String, until ready: @escaping (EngineState) -> Bool) throws {
        let start = WallClock.monotonicNanoseconds()
        requestCompaction()
        if !options.backgroundWork {
            // Inline mode: do the work ourselves.
            try runPendingFlushes()
            try runPendingCompactions()
        } else {
            state.wait(until: { ready($0) || $0.backgroundError != nil || $0.shutdown }, timeoutNanoseconds: 100_000_000) { _ in }
        }
        let micros = (WallClock.monotonicNanoseconds() - start) / 1000
        counters.stallMicros.add(micros, ordering: .relaxed)
        if micros > 100_000 {
            logger.warning("write stall", metadata: ["reason": "\(reason)", "milliseconds": "\(micros / 1000)"])
        }
        if let error = state.withLock({ $0.backgroundError }) { throw error }
    }

    /// Freezes the active memtable, rotates the WAL, and installs a fresh memtable. Leader only.
    func switchMemtable() throws {
        let segment: UInt64
        do {
            segment = try wal.withLock { wal in
                guard let wal else { throw StrataError.closed }
                return try wal.rotateNext()
            }
        } catch {
            setBackgroundError(error, during: "rotating the WAL")
            throw error
        }
        let generation = try freshGeneration(walSegment: segment)
        state.withLock { state in
            state.freeze(installing: generation)
            publishMemtables(state)
        }
        activeMemtableBirth.store(0, ordering: .relaxed)
        counters.memtableSwitches.add(1, ordering: .relaxed)
        state.broadcast()
        if !options.backgroundWork {
            try runPendingFlushes()
            try runPendingCompactions()
        }
    }

    /// Freezes the active memtable (if it holds anything) through the commit queue, so the
    /// switch happens between write groups.
    func switchMemtableForFlush() throws {
        let empty = state.withLock { $0.holdsNoActiveWrites }
        guard !empty else { return }
        guard let queue = commitQueue.withLock({ $0 }) else { throw StrataError.closed }
        try queue.submit(.switchMemtable)
    }

    /// Waits until every frozen memtable is flushed.
    func waitForFlushes() throws {
        if !options.backgroundWork {
            try runPendingFlushes()
            return
        }
        state.broadcast()
        state.wait(until: { $0.frozen.isEmpty || $0.backgroundError != nil || $0.shutdown }) { _ in }
        if let error = state.withLock({ $0.backgroundError }) { throw error }
    }
}

extension Database {
    /// Fresh memtables to freeze the active generation with: one for the default keyspace and one
    /// for each named keyspace whose active memtable holds anything (an empty one stays).
    func freshGeneration(walSegment: UInt64) throws -> (default: Memtable, keyspaces: [UInt32: Memtable]) {
        var keyspaces: [UInt32: Memtable] = [:]
        for (id, active) in state.withLock({ $0.keyspaceActive }) where active.entryCount + active.rangeTombstoneCount > 0 {
            keyspaces[id] = try Memtable(capacity: memtableCapacity, walSegment: walSegment)
        }
        return (try Memtable(capacity: memtableCapacity, walSegment: walSegment), keyspaces)
    }
}

extension Database.EngineState {
    /// Freezes the active memtables as one generation — the default keyspace's, and each named
    /// keyspace's that `generation` brings a replacement for — and makes the replacements
    /// active, numbered after everything active. Call under the state lock, then publish.
    mutating func freeze(installing generation: (default: Memtable, keyspaces: [UInt32: Memtable])) {
        let maxSequence = maxActiveSequence
        generation.default.injectMaxSequence(maxSequence)
        let frozen = active.freeze()
        self.frozen.insert(frozen, at: 0)
        active = generation.default
        var frozenKeyspaces: [UInt32: FrozenMemtable] = [:]
        for (id, replacement) in generation.keyspaces {
            // A keyspace dropped since the replacements were made has no memtable to freeze.
            guard let current = keyspaceActive[id] else { continue }
            replacement.injectMaxSequence(maxSequence)
            frozenKeyspaces[id] = current.freeze()
            keyspaceActive[id] = replacement
        }
        if !frozenKeyspaces.isEmpty { keyspaceFrozen[ObjectIdentifier(frozen)] = frozenKeyspaces }
    }

    /// The highest sequence the generation of `frozen` (a frozen default-keyspace memtable) holds.
    func generationMaxSequence(_ frozen: FrozenMemtable) -> SequenceNumber {
        (keyspaceFrozen[ObjectIdentifier(frozen)] ?? [:]).values.reduce(frozen.maxSequence) { Swift.max($0, $1.maxSequence) }
    }

    /// Removes the frozen generations `isCovered` selects, with their named keyspaces' memtables.
    mutating func removeFrozenGenerations(where isCovered: (FrozenMemtable) -> Bool) {
        for generation in frozen where isCovered(generation) { keyspaceFrozen[ObjectIdentifier(generation)] = nil }
        frozen.removeAll(where: isCovered)
    }

    /// Whether no active memtable, the default keyspace's or a named one's, holds anything.
    var holdsNoActiveWrites: Bool {
        active.entryCount + active.rangeTombstoneCount == 0
            && keyspaceActive.values.allSatisfy { $0.entryCount + $0.rangeTombstoneCount == 0 }
    }

    /// The highest sequence any active memtable holds (or was injected with).
    var maxActiveSequence: SequenceNumber {
        keyspaceActive.values.reduce(active.maxSequence) { Swift.max($0, $1.maxSequence) }
    }

    /// Whether the named keyspaces' active memtables can take a group of `bytes` and `entries`
    /// (any of them might receive it all) while all active memtables together stay under
    /// `writeBufferSize`. Always `true` without keyspaces.
    func keyspacesCanHold(bytes: Int, entries: Int, writeBufferSize: Int) -> Bool {
        guard !keyspaceActive.isEmpty else { return true }
        var usage = active.approximateMemoryUsage
        for memtable in keyspaceActive.values {
            guard memtable.canHold(bytes: bytes, entries: entries) else { return false }
            usage += memtable.approximateMemoryUsage
        }
        return usage < writeBufferSize
    }
}
