import Engine
import Tables
import VFS

/// The record the table tests store: a unique email, a composite (age, name) index and a
/// multi-valued tags index.
struct User: Codable, Sendable, Equatable {
    var email: String
    var name: String
    var age: Int
    var tags: [String]
}

/// The users schema with its three indexes, and their handles.
struct UserSchema {
    var schema = TableSchema<UInt64, User>(name: "users")
    let byEmail: TableIndex<User, String>
    let byAge: TableIndex<User, KeyTuple<Int, String>>
    let byTag: TableIndex<User, String>

    init(indexes: Bool = true, codec: any RecordCodec = BinaryRecordCodec()) {
        schema.codec = codec
        var schema = self.schema
        byEmail = TableIndex.declared(&schema, indexes) { $0.index("byEmail", unique: true) { $0.email } }
        byAge = TableIndex.declared(&schema, indexes) { $0.index("byAge") { KeyTuple($0.age, $0.name) } }
        byTag = TableIndex.declared(&schema, indexes) { $0.index("byTag", eachOf: { $0.tags }) }
        self.schema = schema
    }
}

extension TableIndex {
    /// Declares the index on `schema` when `declare` is true; otherwise returns the handle of a
    /// throwaway schema (a table opened without the index).
    static func declared(
        _ schema: inout TableSchema<UInt64, User>, _ declare: Bool,
        _ body: (inout TableSchema<UInt64, User>) -> TableIndex<User, IndexKey>
    ) -> TableIndex<User, IndexKey> where Value == User {
        if declare { return body(&schema) }
        var scratch = TableSchema<UInt64, User>(name: schema.name)
        return body(&scratch)
    }
}

/// Small buffers, so the tests' writes reach tables and compactions.
func tableTestOptions(_ fileSystem: any FileSystem) -> Options {
    var options = Options()
    options.fileSystem = fileSystem
    options.writeBufferSize = 64 << 10
    options.targetFileSize = 32 << 10
    options.maxBytesForLevelBase = 128 << 10
    options.logger.logLevel = .critical
    return options
}
