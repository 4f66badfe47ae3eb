import Encoding
import Engine

/// What a table is: its name, where its keys live, how its values are encoded and its
/// secondary indexes.
///
/// ```swift
/// struct User: Codable, Sendable { var email: String; var name: String; var age: Int; var tags: [String] }
///
/// var schema = TableSchema<UInt64, User>(name: "users")
/// let byEmail = schema.index("byEmail", unique: true) { $0.email }
/// let byAge = schema.index("byAge") { KeyTuple($0.age, $0.name) }     // composite
/// let byTag = schema.index("byTag", eachOf: { $0.tags })              // one entry per tag
/// let users = try Table(schema, in: db)
/// ```
public struct TableSchema<Key: OrderedKey, Value: Codable & Sendable>: Sendable {
    /// The key prefix tables use unless told otherwise: `FF` then `strata.tables` then `00`.
    /// Keys the application writes directly should not start with it.
    public static var defaultKeyPrefix: [UInt8] { [0xFF] + Array("strata.tables".utf8) + [0x00] }

    /// The table's name, unique among the tables under one `keyPrefix`.
    public let name: String
    /// The bytes every key of the table starts with (`defaultKeyPrefix` by default).
    public var keyPrefix: [UInt8]
    /// How values are stored (`BinaryRecordCodec` by default). Fixed for the table's life.
    public var codec: any RecordCodec
    /// The transaction options the table's own writes use (`insert`, `upsert`, `update`,
    /// `delete` without a transaction, and index backfills). Default: serializable, 20 retries.
    public var transactionOptions: TransactionOptions
    /// The secondary indexes, in declaration order.
    var indexes: [AnyTableIndex<Value>] = []

    /// A schema without indexes.
    ///
    /// - Parameters:
    ///   - name: the table's name (any string; it is encoded into every key).
    ///   - keyPrefix: the bytes every key of the table starts with.
    ///   - codec: how values are stored.
    public init(name: String, keyPrefix: [UInt8] = TableSchema.defaultKeyPrefix, codec: any RecordCodec = BinaryRecordCodec()) {
        self.name = name
        self.keyPrefix = keyPrefix
        self.codec = codec
        self.transactionOptions = TransactionOptions(maxRetries: 20)
    }

    /// Declares an index with one value per record, and returns its handle for queries.
    ///
    /// `storing` names record fields (their coding keys, top-level) copied into every entry: a
    /// query's `filter(field:as:)` on them is checked on the index, and only the rows it keeps
    /// read their records — a covering index for those filters, at the cost of the copies.
    ///
    /// - Precondition: no other index of the schema is called `name`; `storing` is empty for a
    ///   unique index (its lookups read one record anyway).
    @discardableResult
    public mutating func index<IndexKey: OrderedKey>(
        _ name: String, unique: Bool = false, storing: [String] = [], _ value: @escaping @Sendable (Value) -> IndexKey
    ) -> TableIndex<Value, IndexKey> {
        add(TableIndex(name: name, unique: unique, storedFields: storing, values: { [value($0)] }))
    }

    /// Declares a multi-valued index — an entry per element (each distinct element once; an
    /// empty array leaves the record out of the index) — and returns its handle for queries.
    /// With `unique`, no two records may share any element.
    ///
    /// - Precondition: no other index of the schema is called `name`; `storing` (as for
    ///   `index(_:unique:storing:_:)`) is empty for a unique index.
    @discardableResult
    public mutating func index<IndexKey: OrderedKey>(
        _ name: String, unique: Bool = false, storing: [String] = [], eachOf values: @escaping @Sendable (Value) -> [IndexKey]
    ) -> TableIndex<Value, IndexKey> {
        add(TableIndex(name: name, unique: unique, storedFields: storing, values: values))
    }

    private mutating func add<IndexKey>(_ index: TableIndex<Value, IndexKey>) -> TableIndex<Value, IndexKey> {
        precondition(!indexes.contains { $0.name == index.name }, "the schema already has an index \"\(index.name)\"")
        precondition(!index.unique || index.storedFields.isEmpty, "index \(index.name): a unique index stores no fields")
        indexes.append(index.erased)
        return index
    }

    /// The names of the declared indexes.
    public var indexNames: [String] { indexes.map(\.name) }
}
