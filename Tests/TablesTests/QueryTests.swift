import Engine
import Foundation
import Synchronization
import StrataTestSupport
import Tables
import Testing
import VFS

/// Queries: bounds, prefixes, filters, limits, both directions, page tokens, explain, and a
/// model check of every index against random writes.
@Suite struct QueryTests {
    func populated() throws -> (Database, Table<UInt64, User>, UserSchema) {
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        try users.insert(contentsOf: (0..<500).map {
            (UInt64($0), User(email: "u\($0)@x", name: "n\($0 % 7)", age: $0 % 50, tags: $0 % 3 == 0 ? ["three"] : []))
        })
        return (db, users, s)
    }

    @Test func boundsPrefixesFiltersAndLimits() throws {
        let (db, users, s) = try populated()
        // Primary key range, half-open.
        #expect(try users.query().from(10).to(15).collect().map(\.key) == [10, 11, 12, 13, 14])
        #expect(try users.query().from(10).to(15).reversed().collect().map(\.key) == [14, 13, 12, 11, 10])
        #expect(try users.query().from(495).collect().count == 5)
        // Composite index: a prefix on the leading field, then bounds on the whole tuple.
        let age7 = try users.query(s.byAge).prefix(KeyTuple(7)).collect()
        #expect(age7.map(\.key) == (0..<500).filter { $0 % 50 == 7 }.sorted { ("n\($0 % 7)", $0) < ("n\($1 % 7)", $1) }.map(UInt64.init))
        let young = try users.query(s.byAge).to(KeyTuple(3, "")).collect()
        #expect(young.count == 30 && young.allSatisfy { $0.value.age < 3 })
        // Filters, limits, and a filter with a bound.
        let filtered = try users.query(s.byAge).from(KeyTuple(40, "")).filter { $0.name == "n2" }.limit(4).collect()
        #expect(filtered.count == 4 && filtered.allSatisfy { $0.value.age >= 40 && $0.value.name == "n2" })
        #expect(try users.query(s.byTag).equals("three").collect().count == 167)
        #expect(try users.query(s.byTag).equals("none").collect().isEmpty)
        // Index-only keys: no records read, the same keys.
        var keys: [UInt64] = []
        try users.query(s.byTag).equals("three").limit(10).forEachKey { keys.append($0) }
        #expect(keys == (0..<10).map { UInt64($0 * 3) })
        #expect(throws: StrataError.self) { try users.query(s.byTag).filter { _ in true }.forEachKey { _ in } }
        try db.close()
    }

    @Test func pagesCoverTheRangeOnceInEitherDirection() throws {
        let (db, users, s) = try populated()
        for reversed in [false, true] {
            var query = users.query(s.byAge).from(KeyTuple(10, "")).to(KeyTuple(20, ""))
            if reversed { query = query.reversed() }
            let expected = try query.collect().map(\.key)
            #expect(expected.count == 100)
            var seen: [UInt64] = []
            var page = try query.page(size: 7)
            seen += page.rows.map(\.key)
            while let token = page.next {
                // The token survives a round trip through its bytes, as a client would keep it.
                page = try query.after(QueryPageToken(bytes: token.bytes)).page(size: 7)
                seen += page.rows.map(\.key)
            }
            #expect(seen == expected, "reversed \(reversed)")
        }
        // A token of one query does not resume another.
        let token = try #require(try users.query().page(size: 2).next)
        #expect(throws: StrataError.self) { _ = try users.query().reversed().after(token) }
        #expect(throws: StrataError.self) { _ = try QueryPageToken(bytes: [9, 9]) }
        try db.close()
    }

    @Test func explainNamesTheIndexAndBounds() throws {
        let (db, users, s) = try populated()
        let plan = users.query(s.byEmail).from("a").to("m").filter { $0.age > 3 }.limit(5).explain()
        #expect(plan.index == "byEmail" && plan.unique && plan.indexState == .ready)
        #expect(plan.lowerBound == "a".orderedKeyBytes && plan.upperBound == "m".orderedKeyBytes)
        #expect(plan.filters == 1 && plan.limit == 5 && plan.readsRecords)
        #expect(plan.description.contains("scan index byEmail (unique), ready"))
        let primary = users.query().reversed().explain()
        #expect(primary.index == nil && primary.reverse && !primary.readsRecords)
        #expect(primary.description.contains("primary key"))
        try db.close()
    }

    /// An index storing a field answers field filters on its entries — the same rows as the
    /// filter on records, reading records only for the rows kept — and keeps the stored copies
    /// in step when the field changes without the index value changing. Both codecs.
    @Test(arguments: [false, true]) func storedFieldsCoverFieldFilters(json: Bool) throws {
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        var schema = TableSchema<UInt64, User>(name: "users", codec: json ? JSONRecordCodec() : BinaryRecordCodec())
        let byAge = schema.index("byAge", storing: ["name", "tags"]) { $0.age }
        let users = try Table(schema, in: db)
        try users.insert(contentsOf: (0..<300).map { (UInt64($0), User(email: "u\($0)", name: "n\($0 % 10)", age: $0 % 7, tags: [])) })
        // Renames that leave the age alone: the entries' stored names must follow.
        for key in stride(from: UInt64(0), to: 300, by: 5) { try users.update(key) { $0.name = "renamed" } }
        let covered = users.query(byAge).equals(3).filter(field: "name", as: String.self) { $0 == "renamed" || $0 == "n3" }
        #expect(covered.explain().filtersOnIndex)
        #expect(covered.explain().description.contains("field filters on the index's stored fields"))
        let expected = try users.query(byAge).equals(3).filter { $0.name == "renamed" || $0.name == "n3" }.collect().map(\.key)
        #expect(!expected.isEmpty)
        #expect(try covered.collect().map(\.key) == expected)
        // A filter on a field the index does not store runs on the records.
        let uncovered = users.query(byAge).equals(3).filter(field: "email", as: String.self) { $0.hasSuffix("1") }
        #expect(!uncovered.explain().filtersOnIndex)
        #expect(try uncovered.collect().map(\.key) == (0..<300).filter { $0 % 7 == 3 && $0 % 10 == 1 }.map(UInt64.init))
        let report = try users.verify()
        #expect(report.isConsistent, "\(report)")
        try db.close()
    }

    /// A string field filter (read in place on the stored bytes) keeps exactly the rows the
    /// same test on decoded records keeps: ASCII, non-ASCII, empty and long strings (a two-byte
    /// length), absent and null optional fields; a field of another type is an error, not a
    /// silent miss. On records and on an index's stored fields.
    @Test func stringFieldFiltersAgreeWithDecodedRecords() throws {
        struct Pet: Codable, Sendable, Equatable {
            var name: String
            var nickname: String?
            var legs: Int
        }
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        var schema = TableSchema<UInt64, Pet>(name: "pets")
        let byLegs = schema.index("byLegs", storing: ["name", "nickname"]) { $0.legs }
        let pets = try Table(schema, in: db)
        let names = ["Rex", "Zoë", "", String(repeating: "long", count: 60) + "x", "Ünïcødé ✓", "x"]
        var id: UInt64 = 0
        for name in names {
            for nickname in [nil, "", "Bo", "Bø"] as [String?] {
                try pets.insert(id, Pet(name: name, nickname: nickname, legs: Int(id % 3)))
                id += 1
            }
        }
        let tests: [@Sendable (String) -> Bool] = [{ $0.hasSuffix("x") }, { $0.isEmpty }, { $0.contains("ø") || $0.contains("ë") }, { $0.count > 100 }]
        for (index, test) in tests.enumerated() {
            for field in ["name", "nickname"] {
                let decoded = try pets.query().filter { pet in (field == "name" ? pet.name : pet.nickname).map(test) ?? false }.collect().map(\.key)
                #expect(try pets.query().filter(field: field, as: String.self, test).collect().map(\.key) == decoded, "test \(index) on \(field)")
                let onEntries = pets.query(byLegs).filter(field: field, as: String.self, test)
                #expect(onEntries.explain().filtersOnIndex)
                #expect(try onEntries.collect().map(\.key).sorted() == decoded, "test \(index) on stored \(field)")
            }
        }
        #expect(throws: StrataError.self) { _ = try pets.query().filter(field: "legs", as: String.self) { _ in true }.collect() }
        // Other field types take the decoder's path; the answers are the same.
        let twoLegs = try pets.query().filter { $0.legs == 2 }.collect().map(\.key)
        #expect(!twoLegs.isEmpty)
        #expect(try pets.query().filter(field: "legs", as: Int.self) { $0 == 2 }.collect().map(\.key) == twoLegs)
        #expect(try pets.query().filter(field: "legs", as: Int8.self) { $0 == 2 }.collect().map(\.key) == twoLegs)
        try db.close()
    }

    /// A string field filter over damaged records — 2,000 truncations, bit flips and random
    /// byte strings written under a record's key behind the table's back — answers or throws
    /// `StrataError`, and never traps (the field is read in place, falling back to the checked
    /// decoder on anything unexpected).
    @Test func stringFieldFiltersOverDamagedRecordsNeverTrap() throws {
        struct Pet: Codable, Sendable {
            var name: String
            var nickname: String?
            var legs: Int
        }
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        let pets = try Table(TableSchema<UInt64, Pet>(name: "pets"), in: db)
        try pets.insert(1, Pet(name: "Rex the long-named dog", nickname: "Bø", legs: 4))
        let recordKey = TableSchema<UInt64, Pet>.defaultKeyPrefix + "pets".orderedKeyBytes + [0x01] + UInt64(1).orderedKeyBytes
        let valid = try #require(try db.get(recordKey))
        var random = SplitMix64(seed: 30)
        var kept = 0
        var refused = 0
        for round in 0..<2_000 {
            var bytes = valid
            switch round % 3 {
            case 0: bytes = Array(valid.prefix(Int(random.next() % UInt64(valid.count))))
            case 1:
                for _ in 0...(random.next() % 4) {
                    bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                }
            default: bytes = (0..<Int(random.next() % 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            if bytes.isEmpty { bytes = [0x0A] }
            try db.put(recordKey, bytes)
            for field in ["name", "nickname"] {
                do {
                    let rows = try pets.query().filter(field: field, as: String.self) { !$0.isEmpty }.collect()
                    kept += rows.count
                } catch is StrataError {
                    refused += 1
                }
            }
        }
        #expect(kept > 0 && refused > 0, "kept \(kept), refused \(refused)")
        try db.close()
    }

    /// Queries read at one snapshot: a query started before writes does not see them, and
    /// entries always find their records.
    @Test func queriesReadAtOneSnapshot() throws {
        let (db, users, s) = try populated()
        let snapshot = try db.snapshot()
        var rows = try users.query(s.byTag).equals("three").rows()
        _ = try rows.next()
        for key in stride(from: UInt64(0), to: 500, by: 3) { _ = try users.delete(key) }
        var count = 1
        while try rows.next() != nil { count += 1 }
        #expect(count == 167)
        #expect(try users.query(s.byTag).equals("three").collect().isEmpty)
        #expect(try users.query(s.byTag).equals("three").at(snapshot).collect().count == 167)
        try db.close()
    }

    /// Random inserts, upserts, updates and deletes (with unique violations) from several
    /// threads against a model; afterwards every index query agrees with the model.
    @Test func modelCheckOfThreeIndexes() throws {
        let db = try Database.open(at: "/db", options: tableTestOptions(MemoryFileSystem()))
        let s = UserSchema()
        let users = try Table(s.schema, in: db)
        // Each thread owns the keys ≡ thread (mod 4) and its model of them; emails are drawn
        // from a shared pool, so unique violations happen across threads too.
        let models = Mutex<[UInt64: User]>([:])
        let violations = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            var generator = SplitMix64(seed: UInt64(thread) + 100)
            var model: [UInt64: User] = [:]
            for _ in 0..<1500 {
                let key = (generator.next() % 200) * 4 + UInt64(thread)
                let user = User(
                    email: "e\(generator.next() % 600)@x", name: ["a", "b", "c\u{0}"][Int(generator.next() % 3)],
                    age: Int(generator.next() % 20) - 5, tags: (0..<Int(generator.next() % 3)).map { _ in "t\(generator.next() % 6)" })
                do {
                    switch generator.next() % 4 {
                    case 0:
                        try users.insert(key, user)
                        model[key] = user
                    case 1:
                        try users.upsert(key, user)
                        model[key] = user
                    case 2:
                        let age = Int(generator.next() % 30)
                        if let updated = try users.update(key, { $0.age = age; $0.tags.append("u") }) { model[key] = updated }
                    default:
                        try users.delete(key)
                        model[key] = nil
                    }
                } catch StrataError.constraintViolation {
                    violations.add(1, ordering: .relaxed)
                } catch {
                    Issue.record("thread \(thread): \(error)")
                }
            }
            models.withLock { $0.merge(model) { $1 } }
        }
        let model = models.withLock { $0 }
        #expect(violations.load(ordering: .relaxed) > 0)
        // The table holds the model.
        let all = try users.query().collect()
        #expect(all.map(\.key) == model.keys.sorted())
        #expect(all.allSatisfy { model[$0.key] == $0.value })
        // Unique index: each email once, naming its record.
        let emails = Dictionary(grouping: model, by: \.value.email)
        #expect(emails.values.allSatisfy { $0.count == 1 })
        for (email, holders) in emails { #expect(try users.first(s.byEmail, equals: email)?.key == holders[0].key) }
        #expect(try users.query(s.byEmail).collect().map(\.value.email) == emails.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        // Composite index in (age, name bytes, key) order; bounds on ages.
        func byAgeOrder(_ a: (key: UInt64, value: User), _ b: (key: UInt64, value: User)) -> Bool {
            if a.value.age != b.value.age { return a.value.age < b.value.age }
            if a.value.name != b.value.name { return Array(a.value.name.utf8).lexicographicallyPrecedes(Array(b.value.name.utf8)) }
            return a.key < b.key
        }
        let sorted = model.map { (key: $0.key, value: $0.value) }.sorted(by: byAgeOrder)
        #expect(try users.query(s.byAge).collect().map(\.key) == sorted.map(\.key))
        #expect(try users.query(s.byAge).from(KeyTuple(0, "")).to(KeyTuple(10, "")).reversed().collect().map(\.key)
            == sorted.filter { (0..<10).contains($0.value.age) }.reversed().map(\.key))
        // Multi-valued index: each tag lists exactly the records carrying it.
        for tag in (0..<6).map({ "t\($0)" }) + ["u"] {
            #expect(try users.query(s.byTag).equals(tag).collect().map(\.key) == model.filter { $0.value.tags.contains(tag) }.keys.sorted())
        }
        let report = try users.verify()
        #expect(report.isConsistent, "\(report)")
        try db.close()
    }
}
