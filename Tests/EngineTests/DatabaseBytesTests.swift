import Testing
import Encoding
import Strata
import VFS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Keys and values of every `BytesConvertible` type, the half-open range vocabulary, prefixes.
@Suite struct DatabaseBytesTests {
    func open() throws -> Database {
        try Database.open(at: "/db", options: testOptions(MemoryFileSystem()))
    }

    @Test func everyByteTypeWritesAndReadsTheSameBytes() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("user:1", "Ada")
        try db.put(Data("user:2".utf8), Data([0x00, 0xFF, 0x10]))
        let buffer: [UInt8] = Array("xxuser:3yy".utf8)
        try db.put(buffer[2..<8], ArraySlice("Grace".utf8))
        let substring = "--user:4--".dropFirst(2).dropLast(2)
        try db.put(substring, ContiguousArray("Lin".utf8))
        try Array("user:5".utf8).withUnsafeBytes { key in try db.put(key, "raw") }

        #expect(try db.get("user:1") == Array("Ada".utf8))
        #expect(try db.get("user:1", as: String.self) == "Ada")
        #expect(try db.get(Array("user:2".utf8), as: Data.self) == Data([0x00, 0xFF, 0x10]))
        #expect(try db.get("user:3", as: String.self) == "Grace")
        #expect(try db.get(Substring("user:4"), as: String.self) == "Lin")
        #expect(try db.get("user:5", as: [UInt8].self) == Array("raw".utf8))
        #expect(try db.get("user:9") == nil)
        // Bytes that are not UTF-8 are refused as a String, never replaced.
        #expect(throws: StrataError.self) { try db.get("user:2", as: String.self) }

        var batch = WriteBatch()
        batch.put("b:1", Data([1]))
        batch.delete("user:1")
        batch.deleteRange(from: "user:3", to: "user:5")
        try db.write(batch)
        #expect(try db.get("user:1") == nil && db.get("user:3") == nil && db.get("user:4") == nil)
        #expect(try db.get("user:5") != nil && db.get("b:1") == [1])
    }

    @Test func prefixScansAndPrefixDeletesCoverExactlyThePrefix() throws {
        let db = try open()
        defer { try? db.close() }
        for key in ["a", "ab", "ab\u{0}", "abc", "abd", "ac", "b", "ab\u{7F}"] { try db.put(key, key) }
        try db.put([0x61, 0x62, 0xFF], [1])
        try db.put([0x61, 0x62, 0xFF, 0xFF], [2])
        let withPrefix = try db.scan(prefix: "ab").collect().map(\.key)
        #expect(withPrefix == [Array("ab".utf8), [0x61, 0x62, 0], Array("abc".utf8), Array("abd".utf8), [0x61, 0x62, 0x7F], [0x61, 0x62, 0xFF], [0x61, 0x62, 0xFF, 0xFF]])
        #expect(try db.scan(prefix: "ab", reverse: true).collect().map(\.key) == withPrefix.reversed())
        #expect(try db.scan(prefix: [UInt8]()).collect().count == 10)  // empty prefix: everything
        #expect(try db.scan(prefix: [0x61, 0x62, 0xFF]).collect().count == 2)
        try db.deleteRange(prefix: "ab")
        #expect(try db.scan().collect().map { String(decoding: $0.key, as: UTF8.self) } == ["a", "ac", "b"])
        #expect(throws: StrataError.self) { try db.deleteRange(prefix: [UInt8]()) }
        #expect(throws: StrataError.self) { try db.deleteRange(prefix: [0xFF, 0xFF]) }
        #expect(KeyRange.prefixEnd([0x61, 0xFF]) == [0x62])
        #expect(KeyRange.prefixEnd([0xFF]) == nil)
    }

    @Test func everyRangeIsHalfOpen() throws {
        let db = try open()
        defer { try? db.close() }
        for index in 0..<10 { try db.put("k\(index)", "v") }
        #expect(try db.scan(from: "k2", to: "k5").collect().map { String(decoding: $0.key, as: UTF8.self) } == ["k2", "k3", "k4"])
        let cursor = try db.cursor(ReadOptions(from: "k2", to: "k5"))
        try cursor.seekToLast()
        #expect(cursor.key == Array("k4".utf8))
        try db.deleteRange(from: "k7", to: "k9")
        #expect(try db.get("k7") == nil && db.get("k8") == nil && db.get("k9") != nil)
        // compactRange follows the same convention and keeps every key.
        try db.compactRange(from: "k0", to: "k5")
        try db.compactRange()
        #expect(try db.scan().collect().count == 8)
    }

    @Test func batchGetReadsEveryKeyAtOnePoint() throws {
        let db = try open()
        defer { try? db.close() }
        try db.put("a", "1")
        try db.put("c", "3")
        let snapshot = try db.snapshot()
        try db.put("a", "changed")
        #expect(try db.batchGet(["a", "b", "c"], at: snapshot) == [Array("1".utf8), nil, Array("3".utf8)])
        #expect(try db.batchGet(["a"]) == [Array("changed".utf8)])
        #expect(throws: StrataError.self) { try db.batchGet(["a", ""]) }
    }

    @Test func cursorsAndScansFailAfterClose() throws {
        let db = try open()
        for index in 0..<10 { try db.put("k\(index)", "v") }
        let cursor = try db.cursor()
        try cursor.seekToFirst()
        var iterator = db.scan().makeIterator()
        _ = try iterator.next()
        try db.close()
        #expect(throws: StrataError.closed) { try cursor.next() }
        #expect(throws: StrataError.closed) { try cursor.seekToFirst() }
        #expect(throws: StrataError.closed) { try iterator.next() }
    }

    @Test func theDefaultLoggerPassesWarningsOnly() {
        #expect(Options().logger.logLevel == .warning)
    }

    @Test func statisticsCountTheFlushThatRecoveryDoes() throws {
        let memory = MemoryFileSystem()
        var db = try Database.open(at: "/db", options: testOptions(memory))
        for index in 0..<100 { try db.put("k\(index)", "v") }
        try db.close()
        db = try Database.open(at: "/db", options: testOptions(memory))
        defer { try? db.close() }
        let statistics = db.statistics
        #expect(statistics.flushBytesWritten > 0)
        #expect(statistics.flushes >= 1)
    }
}
