#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding
import Engine

extension Table {
    /// Backfills every `building` index: walks the records in key order, in transactions of
    /// `batchSize` records that write their entries and the index's progress together, so a
    /// build interrupted by a crash resumes where it stopped. Writes may continue meanwhile
    /// (they maintain the index themselves; a batch that overlaps a concurrent write is retried).
    ///
    /// `pauseBetweenBatches` (seconds) throttles the build, leaving the disk and the commit path
    /// to the application's own writes.
    ///
    /// - Throws: `StrataError.constraintViolation` when a unique index finds two records with
    ///   one value: that index becomes `failed` (the other indexes are still built first).
    public func buildIndexes(batchSize: Int = 256, pauseBetweenBatches: Double = 0) throws {
        precondition(batchSize > 0, "batchSize must be positive")
        precondition(pauseBetweenBatches >= 0 && pauseBetweenBatches.isFinite, "pauseBetweenBatches must be a non-negative number of seconds")
        var firstFailure: StrataError?
        for index in schema.indexes {
            guard case .building = indexState(index.name) else { continue }
            do {
                try build(index, batchSize: batchSize, pause: pauseBetweenBatches)
            } catch let error as StrataError {
                guard case .constraintViolation(let reason) = error else { throw error }
                try record(.failed(reason: reason), of: index)
                firstFailure = firstFailure ?? error
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Forgets index `name`'s entries and state and builds it again (after a `failed` build,
    /// or to repair what `verify()` reported).
    ///
    /// - Throws: `.invalidArgument` for a name the schema does not declare; as `buildIndexes`.
    public func rebuildIndex(_ name: String, batchSize: Int = 256) throws {
        guard let index = schema.indexes.first(where: { $0.name == name }) else {
            throw StrataError.invalidArgument("table \(schema.name) declares no index \"\(name)\"")
        }
        try dropEntries(of: name)
        try record(.building(progress: nil), of: index)
        do {
            try build(index, batchSize: batchSize, pause: 0)
        } catch let error as StrataError {
            if case .constraintViolation(let reason) = error { try record(.failed(reason: reason), of: index) }
            throw error
        }
    }

    /// Stores `state` as `index`'s state (in its own transaction) and remembers it.
    private func record(_ state: IndexState, of index: AnyTableIndex<Value>) throws {
        try database.transaction(schema.transactionOptions) { txn in
            try txn.put(layout.indexStateKey(index.name), state.encoded(unique: index.unique), in: keyspace)
        }
        states.withLock { $0[index.name] = state }
    }

    /// Removes the entries and state of an index the schema no longer declares (or any index:
    /// a declared one is rebuilt the next time the table is opened).
    public func dropIndex(_ name: String) throws {
        // Entries and state in one batch: no reader sees a state without its entries.
        var batch = WriteBatch()
        addEntriesRemoval(of: name, to: &batch)
        batch.delete(layout.indexStateKey(name), in: keyspace)
        try database.write(batch)
        states.withLock { $0[name] = nil }
    }

    private func dropEntries(of name: String) throws {
        var batch = WriteBatch()
        addEntriesRemoval(of: name, to: &batch)
        try database.write(batch)
    }

    /// Adds the range delete of index `name`'s entries to `batch`.
    private func addEntriesRemoval(of name: String, to batch: inout WriteBatch) {
        let prefix = layout.indexPrefix(name)
        // The prefix ends in the terminated index name (00 00): it has an end.
        guard let end = KeyRange.prefixEnd(prefix) else { return }
        batch.deleteRange(from: prefix, to: end, in: indexKeyspace)
    }

    /// Backfills one index from its recorded progress to the last record.
    private func build(_ index: AnyTableIndex<Value>, batchSize: Int, pause: Double) throws {
        var options = schema.transactionOptions
        options.maxRetries = max(options.maxRetries, 100)
        let stateKey = layout.indexStateKey(index.name)
        let recordEnd = KeyRange.prefixEnd(layout.recordPrefix)
        while true {
            let state = try database.transaction(options) { txn -> IndexState in
                guard let stored = try txn.get(stateKey, in: keyspace) else {
                    throw StrataError.invalidArgument("index \(index.name) of table \(schema.name) was dropped while it was being built")
                }
                guard case let .building(progress) = try IndexState(encoded: stored, index: index.name) else {
                    return try IndexState(encoded: stored, index: index.name)
                }
                // Resume after the last record covered (its successor: the key with a 00 appended).
                let start = progress.map { $0 + [0] } ?? layout.recordPrefix
                var records = try txn.scan(from: start, to: recordEnd, in: keyspace)
                var last: [UInt8]?
                var count = 0
                while count < batchSize, let (recordKey, bytes) = try records.next() {
                    guard let encodedKey = layout.encodedPrimaryKey(ofRecordKey: recordKey) else { continue }
                    let value = try decodeValue(bytes, recordKey: recordKey)
                    for entry in index.encodedValues(value) {
                        let entryKey = entryKey(index, entry, Array(encodedKey))
                        if index.unique {
                            if let holder = try txn.get(entryKey, in: indexKeyspace), holder[...] != encodedKey {
                                throw uniqueViolation(index, entry, holder: holder, writer: Array(encodedKey))
                            }
                            try txn.put(entryKey, Array(encodedKey), in: indexKeyspace)
                        } else {
                            try txn.put(entryKey, try nonUniqueEntryValue(index, encodedKey: encodedKey, record: bytes), in: indexKeyspace)
                        }
                    }
                    last = recordKey
                    count += 1
                }
                let next: IndexState = count < batchSize ? .ready : .building(progress: last)
                try txn.put(stateKey, next.encoded(unique: index.unique), in: keyspace)
                return next
            }
            states.withLock { $0[index.name] = state }
            guard case .building = state else { return }
            if pause > 0 { usleep(UInt32(min(pause, 60) * 1_000_000)) }
        }
    }
}
