import Compaction
import Encoding
import Logging
import Manifest
import Memtable
import SSTable
import VFS

// See Docs/ARCHITECTURE.md ("Background work").

extension Database {
    /// Starts one flush thread and one compaction thread (and, with `Options.maxMemtableAge`, one
    /// that watches the active memtable's age).
    func startBackgroundWork() {
        let flusher = Threads.start { [weak self] in self?.flushLoop() }
        let compacter = Threads.start { [weak self] in self?.compactionLoop() }
        var threads = [flusher, compacter]
        if let age = options.maxMemtableAge {
            threads.append(Threads.start { [weak self] in self?.memtableAgeLoop(maxAge: age) })
        }
        background.withLock { $0 = threads }
        requestCompaction()
    }

    /// Stops the background threads after their current job and waits for them.
    func stopBackgroundWork() {
        state.withLock { $0.shutdown = true }
        state.broadcast()
        let threads = background.withLock { threads -> [Threads.Handle] in
            defer { threads = [] }
            return threads
        }
        for thread in threads { thread.join() }
    }

    /// Starts the thread of `Options.warmUpTablesOnOpen` (joined by `stopBackgroundWork`).
    func startTableWarmUp() {
        let version = versionSet.currentVersion
        let thread = Threads.start { [weak self] in self?.warmUpTables(of: version) }
        background.withLock { $0.append(thread) }
    }

    /// Opens the tables of `version`, upper levels first, until `maxOpenFiles` are open or the
    /// database shuts down. A table that fails to open is skipped: the read that needs it
    /// reports the error.
    private func warmUpTables(of version: Version) {
        let started = WallClock.monotonicNanoseconds()
        var opened = 0
        warming: for level in version.levels {
            for file in level {
                guard tableCache.openCount < options.maxOpenFiles, state.withLock({ !$0.shutdown }) else { break warming }
                // A table only the object store holds stays there until a read needs it.
                if tableCache.fileSource != nil && !fileSystem.exists(Path.join(path, DatabaseFiles.tableName(file.fileNumber))) { continue }
                do {
                    _ = try tableCache.reader(for: file.fileNumber, expectedSize: file.fileSize)
                    opened += 1
                    counters.tablesWarmedUp.add(1, ordering: .relaxed)
                } catch where versionSet.currentVersion.allFileNumbers.contains(file.fileNumber) {
                    logger.warning("warming up a table failed", metadata: ["table": "\(file.fileNumber)", "error": "\(error)"])
                } catch {
                    // Compacted away since the warm-up began: nothing to open.
                }
            }
        }
        logger.debug("warmed up tables", metadata: [
            "tables": "\(opened)", "milliseconds": "\((WallClock.monotonicNanoseconds() - started) / 1_000_000)",
        ])
    }

    /// Asks the compaction thread to look for work.
    func requestCompaction() {
        state.withLock { $0.compactionRequested = true }
        state.broadcast()
    }

    private func flushLoop() {
        while true {
            let proceed = state.wait(until: { ($0.frozen.isEmpty == false && $0.backgroundError == nil) || $0.shutdown }) { state -> Bool in
                guard !state.shutdown else { return false }
                state.flushing = true
                return true
            }
            guard proceed else { return }
            do {
                while state.withLock({ !$0.shutdown }), try flushOldest() {}
            } catch {
                setBackgroundError(error, during: "flushing a memtable")
            }
            state.withLock { $0.flushing = false }
            state.broadcast()
        }
    }

    /// Freezes the active memtable (so the flush thread writes it out) once its first write is
    /// `maxAge` seconds old. A thread of its own: the switch goes through the commit queue and
    /// may wait behind a stalled writer, which only the flush and compaction threads can free.
    private func memtableAgeLoop(maxAge: Double) {
        let maxAgeNanoseconds = UInt64(maxAge * 1e9)
        // Checks often enough that a memtable is flushed within about a quarter of the age late.
        let interval = max(maxAgeNanoseconds / 4, 5_000_000)
        while true {
            let stopping = state.wait(until: { $0.shutdown }, timeoutNanoseconds: min(interval, 1_000_000_000)) { $0.shutdown }
            if stopping { return }
            let birth = activeMemtableBirth.load(ordering: .relaxed)
            guard birth != 0, WallClock.monotonicNanoseconds() - birth >= maxAgeNanoseconds else { continue }
            do {
                try switchMemtableForFlush()
                counters.ageFlushes.add(1, ordering: .relaxed)
            } catch StrataError.closed {
                return
            } catch {
                // A write failure already made the database read-only; nothing more to do here.
                logger.warning("flushing an old memtable failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    private func compactionLoop() {
        while true {
            let proceed = state.wait(
                until: { ($0.compactionRequested && $0.backgroundError == nil) || $0.shutdown }, timeoutNanoseconds: 1_000_000_000
            ) { state -> Bool in
                guard !state.shutdown else { return false }
                state.compactionRequested = false
                state.compacting = true
                return true
            }
            guard proceed else { return }
            do {
                while state.withLock({ !$0.shutdown && $0.backgroundError == nil }) {
                    guard let result = try compactor.compactOnce(snapshots: { snapshots.sequences }) else { break }
                    logCompaction(result)
                    state.broadcast()  // writers waiting on level 0
                }
            } catch {
                setBackgroundError(error, during: "compaction")
            }
            state.withLock { $0.compacting = false }
            state.broadcast()
        }
    }

    /// Flushes every frozen memtable on the calling thread (inline mode).
    func runPendingFlushes() throws {
        do {
            while try flushOldest() {}
        } catch {
            setBackgroundError(error, during: "flushing a memtable")
            throw error
        }
    }

    /// Runs compactions until none is needed, on the calling thread (inline mode).
    func runPendingCompactions() throws {
        do {
            while let result = try compactor.compactOnce(snapshots: { snapshots.sequences }) { logCompaction(result) }
        } catch {
            setBackgroundError(error, during: "compaction")
            throw error
        }
    }

    /// Writes the oldest frozen memtable to a level-0 table, logs the edit (with the log number
    /// of the oldest segment still needed and the last sequence flushed), then releases the
    /// memtable and lets the WAL segments it needed go.
    ///
    /// - Returns: `false` when there was nothing to flush.
    func flushOldest() throws -> Bool {
        guard let (frozen, keyspaceFrozen) = state.withLock({ state in
            state.frozen.last.map { ($0, state.keyspaceFrozen[ObjectIdentifier($0)] ?? [:]) }
        }) else { return false }
        let started = WallClock.monotonicNanoseconds()
        var edit = VersionEdit()
        var reserved: [UInt64] = []
        var tables: [TableMetadata] = []
        // One table per keyspace of the generation that holds anything, all in one edit: the
        // generation's log segments go only when every keyspace's part of them is in a table.
        let version = versionSet.currentVersion
        // A replica holds writes of keyspaces its installed manifest does not name yet (created
        // on the primary after it): their generation stays in memory until a manifest names them.
        if keyspaceFrozen.keys.contains(where: { version.keyspaceDescriptors[$0] == nil && $0 >= version.nextKeyspaceID }) { return false }
        var parts: [(keyspace: UInt32, memtable: FrozenMemtable, options: TableBuilderOptions)] = [(KeyspaceDescriptor.defaultID, frozen, options.tableBuilderOptions)]
        for id in keyspaceFrozen.keys.sorted() {
            // A keyspace dropped since its memtable froze has nothing left to keep.
            guard let descriptor = version.keyspaceDescriptors[id] else { continue }
            parts.append((id, keyspaceFrozen[id]!, try tableBuilderOptions(for: descriptor)))
        }
        var maxSequence = frozen.maxSequence
        for part in parts {
            maxSequence = max(maxSequence, part.memtable.maxSequence)
            guard part.memtable.entryCount + part.memtable.rangeTombstoneCount > 0 else { continue }
            let number = versionSet.newFileNumber(reserve: true)
            reserved.append(number)
            let table = try TableBuilder.build(from: part.memtable.flushSource, fileSystem: fileSystem, directory: path, fileNumber: number, options: part.options)
            tables.append(table)
            edit.add(FileMetadata(table, level: 0, keyspace: part.keyspace))
        }
        // The oldest WAL segment any remaining memtable still needs (the default keyspace's
        // active memtable is never younger than a named keyspace's).
        edit.logNumber = state.withLock { state in
            (state.frozen.dropLast().map(\.walSegments.lowerBound) + [state.active.walSegments.lowerBound]).min()!
        }
        edit.lastSequence = maxSequence
        // On failure the tables stay reserved: the edit may have reached the disk anyway.
        try versionSet.logAndApply(edit)
        for number in reserved { versionSet.references.unreserve(number) }
        // Counted before the memtable leaves the frozen list: a `flush()` that returns once the
        // list is empty must find the flush in the statistics and the metrics.
        counters.flushes.add(1, ordering: .relaxed)
        for table in tables { counters.flushBytesWritten.add(table.fileSize, ordering: .relaxed) }
        metrics.recordDuration("flush", nanoseconds: WallClock.monotonicNanoseconds() - started)
        state.withLock { state in
            if let last = state.frozen.last, last === frozen {
                state.frozen.removeLast()
                state.keyspaceFrozen[ObjectIdentifier(frozen)] = nil
            }
            publishMemtables(state)
        }
        state.broadcast()
        let garbage = try versionSet.collectGarbage()
        for number in garbage.tables { tableCache.evict(number) }
        logger.info("flushed memtable", metadata: [
            "entries": "\(parts.reduce(0) { $0 + $1.memtable.entryCount })",
            "tables": "\(tables.isEmpty ? "none" : tables.map { "#\($0.fileNumber) \($0.fileSize) bytes" }.joined(separator: ", "))",
            "milliseconds": "\((WallClock.monotonicNanoseconds() - started) / 1_000_000)", "walSegmentsDeleted": "\(garbage.walSegments.count)",
        ])
        requestCompaction()
        return true
    }

    func logCompaction(_ result: CompactionResult) {
        let statistics = result.statistics
        metrics.recordDuration("compaction", nanoseconds: statistics.durationNanoseconds)
        logger.info("compaction", metadata: [
            "levels": "L\(result.level)→L\(result.outputLevel)", "trivialMove": "\(result.isTrivialMove)",
            "inputs": "\(statistics.inputFiles)", "outputs": "\(statistics.outputFiles)",
            "bytesRead": "\(statistics.bytesRead)", "bytesWritten": "\(statistics.bytesWritten)",
            "dropped": "\(statistics.dropped)",
            "milliseconds": "\(statistics.durationNanoseconds / 1_000_000)",
        ])
    }
}
