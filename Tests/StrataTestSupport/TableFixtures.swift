import Engine
import Tables
import VFS

// The records the Tables tests and strata-tables-stress (their crash test's child process)
// share: one definition, so the child writes what the tests read.

/// The record the table tests store: a unique email, a composite (age, name) index and a
/// multi-valued tags index.
public struct User: Codable, Sendable, Equatable {
    public var email: String
    public var name: String
    public var age: Int
    public var tags: [String]

    public init(email: String, name: String, age: Int, tags: [String]) {
        self.email = email
        self.name = name
        self.age = age
        self.tags = tags
    }
}

/// The users schema with its three indexes, and their handles.
public struct UserSchema: Sendable {
    public var schema = TableSchema<UInt64, User>(name: "users")
    public let byEmail: TableIndex<User, String>
    public let byAge: TableIndex<User, KeyTuple<Int, String>>
    public let byTag: TableIndex<User, String>

    /// The schema with the first `indexCount` of byEmail, byAge, byTag declared on it.
    public init(indexCount: Int = 3, codec: any RecordCodec = BinaryRecordCodec()) {
        schema.codec = codec
        var schema = self.schema
        byEmail = TableIndex.declared(&schema, indexCount >= 1) { $0.index("byEmail", unique: true) { $0.email } }
        byAge = TableIndex.declared(&schema, indexCount >= 2) { $0.index("byAge") { KeyTuple($0.age, $0.name) } }
        byTag = TableIndex.declared(&schema, indexCount >= 3) { $0.index("byTag", eachOf: { $0.tags }) }
        self.schema = schema
    }

    /// The schema with all three indexes, or none.
    public init(indexes: Bool) { self.init(indexCount: indexes ? 3 : 0) }
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
public func tableTestOptions(_ fileSystem: any FileSystem) -> Options {
    var options = Options()
    options.fileSystem = fileSystem
    options.writeBufferSize = 64 << 10
    options.targetFileSize = 32 << 10
    options.maxBytesForLevelBase = 128 << 10
    options.logger.logLevel = .critical
    return options
}
