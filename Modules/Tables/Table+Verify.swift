import Encoding
import Engine

/// What `Table.verify()` found.
public struct TableVerification: Sendable, CustomStringConvertible {
    /// Records read.
    public internal(set) var records = 0
    /// Index entries read, per index.
    public internal(set) var entries: [String: Int] = [:]
    var found = ProblemList()
    /// The first problems found (at most 100), each in words: an entry a record should have and
    /// does not, an entry no record explains, a unique entry naming the wrong record.
    public var problems: [String] { found.first }
    /// How many problems there were in all.
    public var problemCount: Int { found.count }

    /// Whether records and index entries agree exactly.
    public var isConsistent: Bool { problemCount == 0 }

    mutating func report(_ problem: String) { found.report(problem) }

    /// The counts, then each problem on its own line.
    public var description: String {
        let counts = entries.keys.sorted().map { "\($0) \(entries[$0]!)" }.joined(separator: ", ")
        var lines = ["\(records) records; index entries: \(counts.isEmpty ? "none" : counts); \(problemCount) problem\(problemCount == 1 ? "" : "s")"]
        lines += problems.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}

extension Table {
    /// Checks, at one snapshot, that every `ready` index holds exactly the entries its records
    /// call for: each record's entries exist (a unique entry naming that record), and each
    /// entry belongs to a record that calls for it. Streams records and entries (memory bounded
    /// by one record); reads every entry's record, so it costs a pass over the table per index.
    ///
    /// - Throws: `StrataError.corruption` when a record does not decode; as `Database.cursor`.
    public func verify() throws -> TableVerification {
        var result = TableVerification()
        let snapshot = try database.snapshot()
        let ready = schema.indexes.filter { indexState($0.name) == .ready }
        // Records → entries.
        let records = try keyspace.cursor(ReadOptions(snapshot: snapshot, prefix: layout.recordPrefix))
        try records.seekToFirst()
        while records.isValid {
            let recordKey = records.key
            guard let encodedKey = layout.encodedPrimaryKey(ofRecordKey: recordKey).map(Array.init) else {
                result.report("\(InternalKey.printable(recordKey)) is under the record prefix but has no key")
                try records.next()
                continue
            }
            let value = try decodeValue(records.value, recordKey: recordKey)
            result.records += 1
            for index in ready {
                for entry in index.encodedValues(value) {
                    let stored = try indexKeyspace.get(entryKey(index, entry, encodedKey), at: snapshot)
                    if stored == nil {
                        result.report("record \(describeKey(encodedKey)): index \(index.name) lacks entry \(index.describe(entry))")
                    } else if index.unique, stored != encodedKey {
                        result.report("record \(describeKey(encodedKey)): unique index \(index.name) entry \(index.describe(entry)) names record \(describeKey(stored!))")
                    } else if !index.unique, try stored != nonUniqueEntryValue(index, encodedKey: encodedKey, record: records.value) {
                        result.report("record \(describeKey(encodedKey)): index \(index.name) entry \(index.describe(entry)) holds stale stored fields")
                    }
                }
            }
            try records.next()
        }
        // Entries → records.
        for index in ready {
            let prefix = layout.indexPrefix(index.name)
            let entries = try indexKeyspace.cursor(ReadOptions(snapshot: snapshot, prefix: prefix))
            var count = 0
            try entries.seekToFirst()
            while entries.isValid {
                count += 1
                let suffix = Array(entries.key[prefix.count...])
                // Which record the entry names, and its value part.
                let owner: [UInt8]
                let entryValue: [UInt8]
                if index.unique {
                    owner = entries.value
                    entryValue = suffix
                } else {
                    let length = try TableLayout.splitNonUniqueEntryValue(entries.value, keyLength: suffix.count).primaryKeyLength
                    (entryValue, owner) = (Array(suffix.dropLast(length)), Array(suffix.suffix(length)))
                }
                if let bytes = try keyspace.get(layout.recordKey(owner), at: snapshot) {
                    let value = try decodeValue(bytes, recordKey: layout.recordKey(owner))
                    if !index.encodedValues(value).contains(entryValue) {
                        result.report("index \(index.name) entry \(index.describe(entryValue)): record \(describeKey(owner)) does not call for it")
                    }
                } else {
                    result.report("index \(index.name) entry \(index.describe(entryValue)): no record \(describeKey(owner))")
                }
                try entries.next()
            }
            result.entries[index.name] = count
        }
        return result
    }
}
