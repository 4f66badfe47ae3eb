import Encoding

/// A secondary index of a table: maps each record to zero or more values of `IndexKey`, and
/// finds records by those values. Declared on a `TableSchema` (`index(_:unique:_:)`,
/// `index(_:unique:eachOf:)`), which returns the handle queries take.
///
/// The index's entries are written in the same transaction as the record they belong to, so
/// records and entries always agree (`Table.verify()` checks it). A unique index holds each value
/// for at most one record: a write that would give a second record the value throws
/// `StrataError.constraintViolation` and writes nothing.
public struct TableIndex<Value: Sendable, IndexKey: OrderedKey>: Sendable {
    /// The index's name, unique within its table.
    public let name: String
    /// Whether a value may belong to one record only.
    public let unique: Bool
    /// The record fields (coding keys) each entry carries a copy of, so that field filters on
    /// them run on the index without reading records (non-unique indexes only).
    public let storedFields: [String]
    /// The record's values in this index (none: the record is not in the index).
    let values: @Sendable (Value) -> [IndexKey]

    /// `encoded`, an encoded index value, as the value it encodes (for messages).
    func describe(_ encoded: [UInt8]) -> String {
        (try? IndexKey(orderedKeyBytes: encoded)).map { "\($0)" } ?? InternalKey.printable(encoded)
    }

    /// The index's encoded entry values for `value`, each once.
    func encodedValues(of value: Value) -> [[UInt8]] {
        let keys = values(value)
        if keys.count == 1 { return [keys[0].orderedKeyBytes] }
        var seen = Set<HashedBytes>()
        var result: [[UInt8]] = []
        for key in keys {
            let bytes = key.orderedKeyBytes
            if seen.insert(HashedBytes(bytes)).inserted { result.append(bytes) }
        }
        return result
    }

    /// This index with its key type erased, as a table keeps it.
    var erased: AnyTableIndex<Value> {
        AnyTableIndex(
            name: name, unique: unique, storedFields: storedFields, encodedValues: { self.encodedValues(of: $0) },
            describe: { self.describe($0) })
    }
}

/// A secondary index as its table maintains it: name, uniqueness and how to compute the encoded
/// entry values of a record.
struct AnyTableIndex<Value: Sendable>: Sendable {
    let name: String
    let unique: Bool
    let storedFields: [String]
    let encodedValues: @Sendable (Value) -> [[UInt8]]
    /// An encoded index value as the value it encodes, for messages.
    let describe: @Sendable ([UInt8]) -> String
}
