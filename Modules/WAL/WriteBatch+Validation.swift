import Encoding

// The one home of write-batch validation: the facts are gathered as entries are added
// (`WriteBatch.Summary`), and judged here — against the engine's limits before a batch is logged,
// and as corruption when a batch decoded from the log breaks the format's rules.

/// The limits a batch is checked against before it is logged (`WriteBatch.validate(_:)`).
///
/// The default value checks only what every batch must satisfy (each range delete's start sorts
/// before its end); the engine fills in its configured maxima.
public struct WriteBatchLimits: Sendable, Equatable {
    /// Refuse empty keys and empty range bounds. Default `false`.
    public var requiresNonEmptyKeys = false
    /// The longest key or range bound accepted. Default unlimited.
    public var maxKeySize = Int.max
    /// The longest put value accepted. Default unlimited.
    public var maxValueSize = Int.max
    /// The largest encoded batch (one WAL record). Default unlimited.
    public var maxBatchSize = Int.max
    /// The most memtable bytes a batch may need: its encoded size plus `entryOverhead` per
    /// entry must not exceed this, or the log could hold a record no memtable can take.
    /// Default unlimited.
    public var maxMemtableFootprint = Int.max
    /// Worst-case memtable bytes per entry beyond the key and value (see `maxMemtableFootprint`).
    public var entryOverhead = 0

    /// Limits that check only the format's own rules.
    public init() {}
}

extension WriteBatch {
    /// The memtable bytes the batch needs at most with `entryOverhead` bytes per entry.
    package func memtableFootprint(entryOverhead: Int) -> Int {
        byteSize + count * entryOverhead
    }

    /// Checks the batch against `limits` in constant time (from its summary).
    ///
    /// - Throws: `StrataError.invalidArgument` naming the first limit broken; nothing is changed.
    public func validate(_ limits: WriteBatchLimits = WriteBatchLimits()) throws {
        guard byteSize <= limits.maxBatchSize else {
            throw StrataError.invalidArgument("write batch of \(byteSize) bytes exceeds maxBatchSize \(limits.maxBatchSize)")
        }
        let footprint = memtableFootprint(entryOverhead: limits.entryOverhead)
        guard footprint <= limits.maxMemtableFootprint else {
            throw StrataError.invalidArgument("write batch of \(count) entries needs \(footprint) bytes of memtable, more than one memtable can take")
        }
        guard isEmpty || !limits.requiresNonEmptyKeys || summary.shortestKey > 0 else {
            throw StrataError.invalidArgument(summary.rangeDeletes > 0 ? "empty key or range bound" : "empty key")
        }
        guard summary.longestKey <= limits.maxKeySize else {
            throw StrataError.invalidArgument("key of \(summary.longestKey) bytes exceeds maxKeySize \(limits.maxKeySize)")
        }
        guard summary.longestValue <= limits.maxValueSize else {
            throw StrataError.invalidArgument("value of \(summary.longestValue) bytes exceeds maxValueSize \(limits.maxValueSize)")
        }
        guard !summary.hasEmptyRange else {
            throw StrataError.invalidArgument("range delete start must sort before its end")
        }
    }

    /// Checks an encoded batch read from storage: well formed, and every range delete's start
    /// sorts before its end.
    ///
    /// - Returns: the number of entries.
    /// - Throws: `StrataError.corruption` naming `file` and `offset`.
    public static func validateEncoded(_ bytes: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0) throws -> Int {
        let (entries, summary) = try summarize(bytes, file: file, offset: offset)
        if summary.hasEmptyRange {
            throw StrataError.corruption(file: file, offset: offset, reason: "range delete with start not before end")
        }
        return entries
    }

    /// Decodes an encoded batch in place and returns its entry count and summary (which
    /// keyspaces it writes, among others), copying nothing.
    ///
    /// - Throws: `StrataError.corruption` as `forEach(in:file:offset:_:)`.
    package static func summarize(_ bytes: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0) throws -> (entries: Int, summary: Summary) {
        var entries = 0
        var summary = Summary()
        try forEach(in: bytes, file: file, offset: offset) { keyspace, kind, key, value, _ in
            entries += 1
            summary.add(kind, key, value, keyspace: keyspace)
        }
        return (entries, summary)
    }
}
