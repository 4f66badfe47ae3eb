import Foundation
import Encoding
import Tables
import Testing
import VFS

/// The binary record format (Docs/formats/record-values.md) and the JSON codec: round trips of
/// every Codable shape, schema evolution, exact bytes of small values, bad bytes throw.
@Suite struct RecordCodecTests {
    enum Color: String, Codable, Equatable { case red, green }
    enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case square(side: Int, label: String?)
    }
    struct Inner: Codable, Equatable {
        var name: String
        var weights: [Double]
    }
    struct Everything: Codable, Equatable {
        var int: Int
        var int8: Int8
        var int16: Int16
        var int32: Int32
        var int64: Int64
        var uint: UInt
        var uint8: UInt8
        var uint16: UInt16
        var uint32: UInt32
        var uint64: UInt64
        var float: Float
        var double: Double
        var bool: Bool
        var string: String
        var optional: String?
        var missing: Int?
        var data: Data
        var bytes: [UInt8]
        var date: Date
        var uuid: UUID
        var color: Color
        var shapes: [Shape]
        var nested: Inner
        var matrix: [[Int]]
        var dictionary: [String: Int]
        var intKeys: [Int: String]
        var optionals: [Int?]
    }

    static func sample(_ generator: inout SplitMix64) -> Everything {
        func string(_ generator: inout SplitMix64) -> String {
            String((0..<Int(generator.next() % 12)).map { _ in ["a", "é", "\u{0}", "🦀", "Z"][Int(generator.next() % 5)] })
        }
        return Everything(
            int: Int(truncatingIfNeeded: generator.next()), int8: .min, int16: Int16(truncatingIfNeeded: generator.next()),
            int32: .max, int64: Int64(bitPattern: generator.next()), uint: UInt(truncatingIfNeeded: generator.next()),
            uint8: .max, uint16: 0, uint32: UInt32(truncatingIfNeeded: generator.next()), uint64: .max,
            float: Float(bitPattern: UInt32(truncatingIfNeeded: generator.next() & 0x7F7F_FFFF)), double: -0.0,
            bool: generator.next() & 1 == 0, string: string(&generator), optional: generator.next() & 1 == 0 ? nil : string(&generator),
            missing: nil, data: Data((0..<Int(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }),
            bytes: [0, 255, 7], date: Date(timeIntervalSince1970: Double(generator.next() % 4_000_000_000) / 7),
            uuid: UUID(), color: .green, shapes: [.circle(radius: 2.5), .square(side: -3, label: nil), .square(side: 4, label: "x")],
            nested: Inner(name: string(&generator), weights: [1, 0.1, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]),
            matrix: [[], [1], [Int.min, Int.max]], dictionary: ["one": 1, "": 0, "🦀": -1], intKeys: [3: "three", -1: "minus"],
            optionals: [1, nil, 3])
    }

    @Test func everyShapeRoundTripsInBothCodecs() throws {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let value = Self.sample(&generator)
            for codec in [BinaryRecordCodec() as any RecordCodec, JSONRecordCodec()] {
                let bytes = try codec.encode(value)
                let decoded = try codec.decode(Everything.self, from: bytes)
                #expect(decoded == value, "\(type(of: codec)) round-trips")
            }
        }
    }

    @Test func topLevelScalarsAndCollections() throws {
        let codec = BinaryRecordCodec()
        #expect(try codec.decode(Int.self, from: codec.encode(-5)) == -5)
        #expect(try codec.decode(String.self, from: codec.encode("hé")) == "hé")
        #expect(try codec.decode([String].self, from: codec.encode(["a", "b"])) == ["a", "b"])
        #expect(try codec.decode(Int?.self, from: codec.encode(Int?.none)) == nil)
        #expect(try codec.decode([UInt8].self, from: codec.encode([UInt8]([1, 2]))) == [1, 2])
        // Non-finite numbers, which JSON refuses, are bits here.
        #expect(try codec.decode([Double].self, from: codec.encode([Double.infinity, -.infinity])) == [.infinity, -.infinity])
        #expect(try codec.decode(Double.self, from: codec.encode(Double.nan)).isNaN)
    }

    /// The exact bytes of a small record, as Docs/formats/record-values.md shows them.
    @Test func bytesOfASmallRecord() throws {
        struct Point: Codable { var x: Int; var name: String; var ok: Bool }
        let bytes = try BinaryRecordCodec().encode(Point(x: -2, name: "é", ok: true))
        #expect(bytes == [
            0x0A, 18, 3,                 // object, 18 body bytes, 3 fields
            1, 0x78, 0x03, 3,            // "x": signed, zigzag(-2) = 3
            4, 0x6E, 0x61, 0x6D, 0x65, 0x07, 2, 0xC3, 0xA9,  // "name": string "é"
            2, 0x6F, 0x6B, 0x02,         // "ok": true
        ])
    }

    /// Fields may be added (optional, decode as nil), removed (skipped) and reordered; integer
    /// fields may change signedness when the numbers fit.
    @Test func schemaEvolution() throws {
        struct Old: Codable { var id: Int; var name: String; var legacy: [String] }
        struct New: Codable, Equatable { var name: String; var id: UInt32; var nickname: String? }
        let codec = BinaryRecordCodec()
        let bytes = try codec.encode(Old(id: 42, name: "Ada", legacy: ["x"]))
        #expect(try codec.decode(New.self, from: bytes) == New(name: "Ada", id: 42, nickname: nil))
        let negative = try codec.encode(Old(id: -1, name: "Ada", legacy: []))
        #expect(throws: DecodingError.self) { try codec.decode(New.self, from: negative) }
        struct Required: Codable { var name: String; var age: Int }
        #expect(throws: DecodingError.self) { try codec.decode(Required.self, from: bytes) }
    }

    /// Random, truncated and mutated bytes never trap: they decode or throw DecodingError.
    @Test func badBytesThrow() throws {
        var generator = SplitMix64(seed: 11)
        let codec = BinaryRecordCodec()
        let valid = try codec.encode(Self.sample(&generator))
        var thrown = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0: bytes = Array(valid[..<Int(generator.next() % UInt64(valid.count))])
            case 1:
                bytes = valid
                for _ in 0...Int(generator.next() % 4) { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            default: bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            do {
                _ = try codec.decode(Everything.self, from: bytes)
            } catch is DecodingError {
                thrown += 1
            }
        }
        #expect(thrown > 2900)
        // A length far beyond the input is refused, not allocated.
        #expect(throws: DecodingError.self) { try codec.decode(String.self, from: [0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
        #expect(throws: DecodingError.self) { try codec.decode(Int.self, from: [0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) }
        #expect(throws: DecodingError.self) { try codec.decode(Int8.self, from: [0x04, 0x80, 0x02]) }
        #expect(throws: DecodingError.self) { try codec.decode(Int.self, from: [0x03, 0x02, 0x00]) }
    }

    /// The binary codec is the smaller: the figure behind the default (Docs/TABLES.md).
    @Test func binaryIsSmallerThanJSON() throws {
        struct User: Codable { var id: UInt64; var email: String; var name: String; var age: Int; var bio: String }
        let user = User(id: 123_456, email: "ada@example.com", name: "Ada Lovelace", age: 36, bio: String(repeating: "b", count: 100))
        let binary = try BinaryRecordCodec().encode(user)
        let json = try JSONRecordCodec().encode(user)
        #expect(binary.count < json.count)
    }
}
