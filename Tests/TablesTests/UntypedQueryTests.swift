import Engine
import StrataTestSupport
import Tables
import Testing
import VFS

/// Records read without their type (`RecordValue`) and the schema-free query (`UntypedTableQuery`)
/// that the server's `Query` RPC runs, against the typed API.
@Suite struct UntypedQueryTests {
    let ada = User(email: "ada@x", name: "Ada", age: -36, tags: ["math", "poet"])

    @Test func recordsDecodeWithoutTheirType() throws {
        let expected = RecordValue.object([
            RecordField(name: "email", value: .string("ada@x")), RecordField(name: "name", value: .string("Ada")),
            RecordField(name: "age", value: .int(-36)), RecordField(name: "tags", value: .array([.string("math"), .string("poet")])),
        ])
        #expect(try RecordValue(storedRecord: BinaryRecordCodec().encode(ada)) == expected)
        // JSON: fields sorted by name, numbers as JSON has them.
        let json = try RecordValue(storedRecord: JSONRecordCodec().encode(ada))
        #expect(json[field: "age"] == .int(-36) && json[field: "tags"] == .array([.string("math"), .string("poet")]))
        if case .object(let fields) = json { #expect(fields.map(\.name) == ["age", "email", "name", "tags"]) }
        // Damaged bytes throw, never trap: every truncation and byte flip of a binary record.
        let bytes = try BinaryRecordCodec().encode(ada)
        for cut in 0..<bytes.count { #expect(throws: StrataError.self) { try RecordValue(storedRecord: Array(bytes[..<cut])) } }
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0xFF
            _ = try? RecordValue(storedRecord: damaged)
        }
        // Nesting deeper than the limit is refused.
        func nested(_ depth: Int) -> [UInt8] {
            var value: [UInt8] = [0x00]  // null, inside `depth` one-element arrays
            for _ in 0..<depth {
                let body = [0x01] + value
                var length = body.count
                var prefix: [UInt8] = [0x09]
                while length >= 0x80 {
                    prefix.append(UInt8(length & 0x7F) | 0x80)
                    length >>= 7
                }
                value = prefix + [UInt8(length)] + body
            }
            return value
        }
        #expect(try RecordValue(storedRecord: nested(RecordValue.maxDepth - 1)) != .null)
        #expect(throws: StrataError.self) { try RecordValue(storedRecord: nested(RecordValue.maxDepth + 1)) }
    }

    @Test func filtersCompareAcrossNumberKinds() {
        let record = RecordValue.object([RecordField(name: "n", value: .uint(7)), RecordField(name: "s", value: .string("héllo"))])
        #expect(RecordFilter(field: "n", .equal, .int(7)).matches(record))
        #expect(RecordFilter(field: "n", .less, .double(7.5)).matches(record))
        #expect(!RecordFilter(field: "n", .greater, .int(7)).matches(record))
        #expect(RecordFilter(field: "s", .hasPrefix, .string("hé")).matches(record))
        #expect(RecordFilter(field: "s", .hasSuffix, .string("llo")).matches(record))
        #expect(!RecordFilter(field: "s", .equal, .int(1)).matches(record))  // other kinds never match
        #expect(RecordFilter(field: "missing", .notEqual, .int(1)).matches(record))
        #expect(!RecordFilter(field: "missing", .equal, .null).matches(record))
    }

    /// Random records and random index ranges: the schema-free query returns exactly the typed
    /// query's rows, in both directions, and its pages resume exactly.
    @Test func theSchemaFreeQueryAgreesWithTheTypedOne() throws {
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        let fixture = UserSchema()
        let users = try Table(fixture.schema, in: db)
        var random = SplitMix64(seed: 21)
        for id in 0..<400 {
            let tags = (0..<Int(random.next() % 3)).map { _ in "t\(random.next() % 5)" }
            try users.insert(UInt64(id), User(email: "e\(random.next())@x", name: "n\(random.next() % 20)", age: Int(random.next() % 60) - 10, tags: tags))
        }
        let keyspace = try db.keyspace(Database.defaultKeyspaceName)
        for _ in 0..<40 {
            let low = Int(random.next() % 60) - 10
            let high = low + Int(random.next() % 20)
            let reversed = random.next() % 2 == 0
            var typed = users.query(fixture.byAge).from(KeyTuple(low, "")).to(KeyTuple(high, ""))
            if reversed { typed = typed.reversed() }
            let want = try typed.collect().map(\.key)
            var untyped = UntypedTableQuery(table: "users")
            untyped.index = "byAge"
            untyped.from = low.orderedKeyBytes
            untyped.to = high.orderedKeyBytes
            untyped.reversed = reversed
            var got: [UInt64] = []
            var after: [UInt8]? = nil
            // In pages of 7.
            repeat {
                var page = untyped
                page.limit = 7
                page.after = after
                var rows: [UntypedRow] = []
                try page.run(in: keyspace) { rows.append($0); return true }
                got += try rows.map { try UInt64(orderedKeyBytes: $0.primaryKey) }
                after = rows.count == 7 ? rows.last!.position : nil
            } while after != nil
            #expect(got == want, "ages [\(low), \(high)) reversed \(reversed)")
        }
        // The multi-valued index and a filter.
        var tagged = UntypedTableQuery(table: "users")
        tagged.index = "byTag"
        tagged.prefix = "t1".orderedKeyBytes
        tagged.filters = [RecordFilter(field: "age", .greaterOrEqual, .int(20))]
        var got: [UInt64] = []
        try tagged.run(in: keyspace) { got.append(try UInt64(orderedKeyBytes: $0.primaryKey)); return true }
        let want = try users.query(fixture.byTag).equals("t1").filter { $0.age >= 20 }.collect().map(\.key)
        #expect(got == want)
        try db.close()
    }
}
