#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Encoding
import Tables
import Testing
import VFS

/// The ordered-key encodings (Docs/formats/ordered-keys.md): byte order is value order, values
/// round-trip, tuples sort field by field with prefixes as prefixes, bad bytes throw.
@Suite struct OrderedKeyTests {
    /// -1, 0 or 1, as bytewise comparison of the encodings says.
    func byteOrder(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
    }

    func valueOrder<Value: Comparable>(_ a: Value, _ b: Value) -> Int { a < b ? -1 : (a == b ? 0 : 1) }

    /// Every pair of `values`: encoding order equals value order, and each round-trips.
    func checkOrder<Value: OrderedKey & Comparable>(_ values: [Value], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let encoded = values.map(\.orderedKeyBytes)
        for (value, bytes) in zip(values, encoded) {
            #expect(try Value(orderedKeyBytes: bytes) == value, "\(value) round-trips", sourceLocation: sourceLocation)
        }
        for i in values.indices {
            for j in values.indices where byteOrder(encoded[i], encoded[j]) != valueOrder(values[i], values[j]) {
                Issue.record("\(values[i]) vs \(values[j]): the encodings sort differently", sourceLocation: sourceLocation)
                return
            }
        }
    }

    func integers<Value: FixedWidthInteger>(_: Value.Type, _ generator: inout SplitMix64) -> [Value] {
        var values: [Value] = [.min, .max, 0, 1, .min + 1, .max - 1]
        if Value.isSigned { values.append(-1) }
        for _ in 0..<60 { values.append(Value(truncatingIfNeeded: generator.next())) }
        for _ in 0..<20 { values.append(Value(truncatingIfNeeded: Int64(generator.next() % 512) - 256)) }
        return values
    }

    @Test func integersOfEveryWidthSortNumerically() throws {
        var generator = SplitMix64(seed: 1)
        try checkOrder(integers(Int8.self, &generator))
        try checkOrder(integers(Int16.self, &generator))
        try checkOrder(integers(Int32.self, &generator))
        try checkOrder(integers(Int64.self, &generator))
        try checkOrder(integers(Int.self, &generator))
        try checkOrder(integers(UInt8.self, &generator))
        try checkOrder(integers(UInt16.self, &generator))
        try checkOrder(integers(UInt32.self, &generator))
        try checkOrder(integers(UInt64.self, &generator))
        try checkOrder(integers(UInt.self, &generator))
        // The layout itself, as documented.
        #expect(Int32(-1).orderedKeyBytes == [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(Int32(1).orderedKeyBytes == [0x80, 0, 0, 1])
        #expect(UInt16(0x1234).orderedKeyBytes == [0x12, 0x34])
    }

    @Test func floatingPointSortsNumericallyAndRoundTripsExactly() throws {
        var generator = SplitMix64(seed: 2)
        var doubles: [Double] = [-.infinity, -.greatestFiniteMagnitude, -1, -.leastNonzeroMagnitude, 0, .leastNonzeroMagnitude, 1, .pi, .greatestFiniteMagnitude, .infinity]
        for _ in 0..<60 { doubles.append(Double(bitPattern: generator.next())) }
        // NaN is unordered and -0 == +0 as values (their encodings order them: below).
        doubles.removeAll { $0.isNaN || ($0 == 0 && $0.sign == .minus) }
        try checkOrder(doubles)
        let floats = doubles.map { Float($0) }.filter { !$0.isNaN && !($0 == 0 && $0.sign == .minus) }
        try checkOrder(floats)
        // -0 sorts just before +0; NaN and the zeros keep their bits.
        #expect(byteOrder((-0.0 as Double).orderedKeyBytes, (0.0 as Double).orderedKeyBytes) == -1)
        for value in [-0.0, Double.nan, -Double.nan, Double.signalingNaN] {
            #expect(try Double(orderedKeyBytes: value.orderedKeyBytes).bitPattern == value.bitPattern)
        }
        #expect(byteOrder(Double.infinity.orderedKeyBytes, Double.nan.orderedKeyBytes) == -1)
    }

    @Test func stringsAndBytesSortBytewiseWithZerosInside() throws {
        var generator = SplitMix64(seed: 3)
        var byteStrings: [[UInt8]] = [[], [0], [0, 0], [0, 0xFF], [0xFF], [1], [0, 1], [1, 0], [0xFF, 0xFF, 0]]
        for _ in 0..<80 {
            let length = Int(generator.next() % 6)
            byteStrings.append((0..<length).map { _ in [0, 0xFF, 1, 0x61][Int(generator.next() % 4)] })
        }
        let encoded = byteStrings.map(\.orderedKeyBytes)
        for i in byteStrings.indices {
            #expect(try [UInt8](orderedKeyBytes: encoded[i]) == byteStrings[i])
            for j in byteStrings.indices {
                #expect(byteOrder(encoded[i], encoded[j]) == byteOrder(byteStrings[i], byteStrings[j]), "\(byteStrings[i]) vs \(byteStrings[j])")
            }
        }
        let strings = ["", "a", "a\u{0}", "a\u{0}b", "ab", "b", "é", "日本", "z\u{0}\u{0}", "\u{0}"]
        for a in strings {
            #expect(try String(orderedKeyBytes: a.orderedKeyBytes) == a)
            for b in strings {
                #expect(byteOrder(a.orderedKeyBytes, b.orderedKeyBytes) == byteOrder(Array(a.utf8), Array(b.utf8)), "\(a.debugDescription) vs \(b.debugDescription)")
            }
        }
        #expect("a\u{0}".orderedKeyBytes == [0x61, 0, 0xFF, 0, 0])
    }

    @Test func boolsUUIDsAndDates() throws {
        #expect(false.orderedKeyBytes == [0] && true.orderedKeyBytes == [1])
        #expect(try Bool(orderedKeyBytes: [1]) && !(try Bool(orderedKeyBytes: [0])))
        let dates = [Date(timeIntervalSince1970: -1e9), Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 0.5), Date(timeIntervalSince1970: 1.8e9)]
        try checkOrder(dates)
        let ids = (0..<20).map { _ in UUID() }
        for a in ids {
            #expect(try UUID(orderedKeyBytes: a.orderedKeyBytes) == a)
            let raw = withUnsafeBytes(of: a.uuid) { Array($0) }
            #expect(a.orderedKeyBytes == raw)
        }
    }

    @Test func tuplesSortFieldByFieldAndPrefixesArePrefixes() throws {
        let rows: [(String, Int64, Bool)] = [("", -5, false), ("", 3, true), ("a", Int64.min, false), ("a", 0, false), ("a", 0, true),
                                              ("a\u{0}", -1, true), ("ab", 7, false), ("b", Int64.max, true)]
        for a in rows {
            let key = KeyTuple(a.0, a.1, a.2)
            let decoded = try KeyTuple<String, Int64, Bool>(orderedKeyBytes: key.orderedKeyBytes)
            #expect(decoded.fields == a)
            // A prefix of the fields encodes to a prefix of the bytes.
            let prefix = KeyTuple(a.0).orderedKeyBytes
            #expect(Array(key.orderedKeyBytes.prefix(prefix.count)) == prefix)
            #expect(Array(key.orderedKeyBytes.prefix(KeyTuple(a.0, a.1).orderedKeyBytes.count)) == KeyTuple(a.0, a.1).orderedKeyBytes)
            for b in rows {
                let expected = a.0 != b.0 ? byteOrder(Array(a.0.utf8), Array(b.0.utf8)) : (a.1 != b.1 ? valueOrder(a.1, b.1) : valueOrder(a.2 ? 1 : 0, b.2 ? 1 : 0))
                #expect(byteOrder(key.orderedKeyBytes, KeyTuple(b.0, b.1, b.2).orderedKeyBytes) == expected, "\(a) vs \(b)")
            }
        }
    }

    @Test func badBytesThrowAndNeverTrap() throws {
        // Truncations of valid encodings, trailing bytes, invalid escapes and UTF-8, and random bytes.
        let key = KeyTuple("user\u{0}name", Int32(-7), UUID(), 2.5)
        let bytes = key.orderedKeyBytes
        for length in 0..<bytes.count {
            #expect(throws: StrataError.self) { _ = try KeyTuple<String, Int32, UUID, Double>(orderedKeyBytes: Array(bytes.prefix(length))) }
        }
        #expect(throws: StrataError.self) { _ = try KeyTuple<String, Int32, UUID, Double>(orderedKeyBytes: bytes + [0]) }
        #expect(throws: StrataError.self) { _ = try String(orderedKeyBytes: [0x61, 0, 0x01]) }
        #expect(throws: StrataError.self) { _ = try String(orderedKeyBytes: [0xC3, 0x28, 0, 0]) }
        #expect(throws: StrataError.self) { _ = try Bool(orderedKeyBytes: [2]) }
        var generator = SplitMix64(seed: 4)
        for _ in 0..<2000 {
            let random = (0..<Int(generator.next() % 24)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 3 == 0 ? 0 : generator.next()) }
            _ = try? KeyTuple<String, Int64, [UInt8]>(orderedKeyBytes: random)
            _ = try? KeyTuple<Bool, Double, String>(orderedKeyBytes: random)
        }
    }
}
