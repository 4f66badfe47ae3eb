import Testing
import Encoding

@Suite struct InternalKeyTests {
    @Test func encodedFormIsUserKeyThenLittleEndianTrailer() throws {
        let key = InternalKey(userKey: Array("ab".utf8), sequence: SequenceNumber(rawValue: 0x0102), kind: .put)
        // trailer = (0x0102 << 8) | 1 = 0x010201, little-endian over 8 bytes.
        #expect(key.encoded == [0x61, 0x62, 0x01, 0x02, 0x01, 0, 0, 0, 0, 0])
        #expect(try InternalKey(decoding: key.encoded) == key)
    }

    @Test func decodingRejectsShortKeysAndUnknownKinds() {
        #expect(throws: StrataError.self) { try InternalKey(decoding: [1, 2, 3] as [UInt8]) }
        var bad = InternalKey(userKey: [7], sequence: .zero, kind: .put).encoded
        bad[1] = 0x7E  // the kind byte
        let error = #expect(throws: StrataError.self) { try InternalKey(decoding: bad, file: "x.sst", offset: 40) }
        #expect(error == .corruption(file: "x.sst", offset: 41, reason: "unknown value kind 126"))
    }

    @Test func sequenceNumbersAreLimitedTo56Bits() {
        #expect(SequenceNumber(checking: 1 << 56) == nil)
        #expect(SequenceNumber(checking: (1 << 56) - 1) == .max)
        let key = InternalKey(userKey: [1], sequence: .max, kind: .rangeDelete)
        #expect(key.encoded.withUnsafeBytes { InternalKey.sequence(of: $0) } == .max)
        #expect(key.encoded.withUnsafeBytes { InternalKey.kindByte(of: $0) } == ValueKind.rangeDelete.rawValue)
        #expect((try? InternalKey(decoding: key.encoded))?.sequence == .max)
    }

    @Test func comparatorOrdersByUserKeyThenNewestFirst() {
        func key(_ user: String, _ sequence: UInt64, _ kind: ValueKind = .put) -> InternalKey {
            InternalKey(userKey: Array(user.utf8), sequence: SequenceNumber(rawValue: sequence), kind: kind)
        }
        let ordered = [
            key("", 9), key("a", 100), key("a", 5, .rangeDelete), key("a", 5, .put), key("a", 5, .delete),
            key("a", 0), key("a\u{0}", 7), key("ab", 1_000), key("abcdefghi", 3), key("abcdefghi", 2),
            key("abcdefghj", 99), key("b", 1),
        ]
        for (i, a) in ordered.enumerated() {
            for (j, b) in ordered.enumerated() {
                let order = a.encoded.withUnsafeBytes { x in
                    b.encoded.withUnsafeBytes { y in InternalKeyComparator.compare(x, y) }
                }
                #expect(order.signum() == (i < j ? -1 : (i == j ? 0 : 1)), "\(a) vs \(b)")
                #expect((a < b) == (i < j))
            }
        }
    }

    @Test func comparatorMatchesAReferenceOrderOnRandomKeys() {
        var generator = SystemRandomNumberGenerator()
        // Keys drawn from a tiny alphabet with shared prefixes, so every branch of the 8-byte
        // comparison loop (equal words, differing words, tails, prefixes) is exercised.
        let keys: [InternalKey] = (0..<600).map { _ in
            let length = Int.random(in: 0...20, using: &generator)
            let user = (0..<length).map { _ in UInt8.random(in: 0...2, using: &generator) }
            return InternalKey(
                userKey: user, sequence: SequenceNumber(rawValue: UInt64.random(in: 0...5, using: &generator)),
                kind: ValueKind.allCases.randomElement(using: &generator)!)
        }
        let reference = keys.sorted { a, b in
            if a.userKey != b.userKey { return a.userKey.lexicographicallyPrecedes(b.userKey) }
            if a.sequence != b.sequence { return a.sequence > b.sequence }
            return a.kind.rawValue > b.kind.rawValue
        }
        let encodedSorted = keys.map(\.encoded).sorted { a, b in
            a.withUnsafeBytes { x in b.withUnsafeBytes { y in InternalKeyComparator.compare(x, y) < 0 } }
        }
        #expect(encodedSorted == reference.map(\.encoded))
    }

    @Test func seekKeyLandsOnTheNewestVersionAtOrBelowTheSnapshot() {
        let versions = [9, 7, 4].map {
            InternalKey(userKey: Array("k".utf8), sequence: SequenceNumber(rawValue: $0), kind: .put).encoded
        }
        func firstAtOrAfter(_ seek: [UInt8]) -> Int? {
            versions.firstIndex { v in
                v.withUnsafeBytes { x in seek.withUnsafeBytes { y in InternalKeyComparator.compare(x, y) >= 0 } }
            }
        }
        #expect(firstAtOrAfter(InternalKey.seekKey(Array("k".utf8), at: SequenceNumber(rawValue: 8))) == 1)
        #expect(firstAtOrAfter(InternalKey.seekKey(Array("k".utf8), at: SequenceNumber(rawValue: 9))) == 0)
        #expect(firstAtOrAfter(InternalKey.seekKey(Array("k".utf8), at: SequenceNumber(rawValue: 3))) == nil)
        #expect(firstAtOrAfter(InternalKey.seekKey(Array("k".utf8), at: .max)) == 0)
    }

    @Test func bytewiseComparatorAgreesWithLexicographicOrderAndSharedPrefix() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let prefix = (0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let a = prefix + (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let b = prefix + (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let expected = a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
            #expect(BytewiseComparator.compare(a, b).signum() == expected)
            let shared = zip(a, b).prefix { $0 == $1 }.count
            let measured = a.withUnsafeBytes { x in b.withUnsafeBytes { y in BytewiseComparator.sharedPrefixLength(x, y) } }
            #expect(measured == shared)
        }
    }
}
