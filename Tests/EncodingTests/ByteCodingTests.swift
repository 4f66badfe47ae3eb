import Testing
import Encoding

/// Runs `body` with a reader over `bytes`.
func reading<R>(_ bytes: [UInt8], file: String = "<memory>", baseOffset: Int = 0, _ body: (inout ByteReader) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw throws -> R in
        var reader = ByteReader(raw, file: file, baseOffset: baseOffset)
        return try body(&reader)
    }
}

/// Round trips and failure modes of `ByteWriter`, `ByteReader` and `Varint`.
@Suite struct ByteCodingTests {
    static let varintBoundaries: [UInt64] = [
        0, 1, 127, 128, 255, 256, 16_383, 16_384, 2_097_151, 2_097_152,
        UInt64(UInt32.max) - 1, UInt64(UInt32.max), UInt64(UInt32.max) + 1,
        1 << 56 - 1, 1 << 63, UInt64.max - 1, UInt64.max,
    ]

    @Test func fixedWidthIntegersRoundTripAtEveryBoundary() throws {
        var writer = ByteWriter()
        let values16: [UInt16] = [0, 1, 0x7F, 0x80, 0xFF, 0x100, .max]
        let values32: [UInt32] = [0, 1, 0xFF, 0x100, 0xFFFF, 0x1_0000, .max - 1, .max]
        let values64: [UInt64] = [0, 1, 0xFFFF_FFFF, 0x1_0000_0000, .max - 1, .max]
        values16.forEach { writer.appendFixed16($0) }
        values32.forEach { writer.appendFixed32($0) }
        values64.forEach { writer.appendFixed64($0) }
        #expect(writer.count == values16.count * 2 + values32.count * 4 + values64.count * 8)
        try reading(writer.bytes) { reader in
            var decoded16: [UInt16] = [], decoded32: [UInt32] = [], decoded64: [UInt64] = []
            for _ in values16 { decoded16.append(try reader.readFixed16()) }
            for _ in values32 { decoded32.append(try reader.readFixed32()) }
            for _ in values64 { decoded64.append(try reader.readFixed64()) }
            #expect(decoded16 == values16 && decoded32 == values32 && decoded64 == values64)
            #expect(reader.isAtEnd)
        }
    }

    @Test func fixedWidthIsLittleEndian() {
        var writer = ByteWriter()
        writer.appendFixed32(0x0403_0201)
        writer.appendFixed16(0x0605)
        #expect(writer.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test(arguments: varintBoundaries)
    func varint64RoundTripsAndHasTheDocumentedLength(value: UInt64) throws {
        var writer = ByteWriter()
        writer.appendVarint64(value)
        #expect(writer.count == Varint.encodedLength(value))
        let expectedLength = value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
        #expect(writer.count == expectedLength)
        let (decodedValue, atEnd) = try reading(writer.bytes) { reader in (try reader.readVarint64(), reader.isAtEnd) }
        #expect(decodedValue == value && atEnd)
        // The raw-pointer primitive agrees with the array writer.
        let decoded = writer.bytes.withUnsafeBytes { bytes in
            Varint.decode64(bytes.baseAddress!, end: bytes.baseAddress! + bytes.count)
        }
        #expect(decoded?.value == value && decoded?.length == writer.count)
        var raw = [UInt8](repeating: 0, count: Varint.maxLength64)
        let length = raw.withUnsafeMutableBytes { Varint.write(value, to: $0.baseAddress!) }
        #expect(Array(raw[0..<length]) == writer.bytes)
    }

    @Test func varintEncodingsMatchLEB128() {
        func encode(_ value: UInt64) -> [UInt8] {
            var writer = ByteWriter()
            writer.appendVarint64(value)
            return writer.bytes
        }
        #expect(encode(0) == [0x00])
        #expect(encode(127) == [0x7F])
        #expect(encode(128) == [0x80, 0x01])
        #expect(encode(300) == [0xAC, 0x02])
        #expect(encode(UInt64(UInt32.max)) == [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(encode(.max) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test(arguments: [UInt64(0), 127, 128, 16_384, UInt64(UInt32.max)])
    func varint32RoundTripsUpToUInt32Max(value: UInt64) throws {
        var writer = ByteWriter()
        writer.appendVarint32(UInt32(value))
        #expect(try reading(writer.bytes) { try $0.readVarint32() } == UInt32(value))
    }

    @Test func varint32RejectsValuesAbove32Bits() {
        var writer = ByteWriter()
        writer.appendVarint64(UInt64(UInt32.max) + 1)
        writer.bytes.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes, file: "t.bin", baseOffset: 100)
            let error = #expect(throws: StrataError.self) { try reader.readVarint32() }
            #expect(error == .corruption(file: "t.bin", offset: 100, reason: "truncated or malformed varint32"))
        }
    }

    @Test func overlongAndOverflowingVarintsAreMalformed() {
        // 11 continuation bytes: longer than any UInt64.
        let overlong = [UInt8](repeating: 0x80, count: 10) + [0x00]
        // 10 bytes whose last byte carries more than the single remaining bit.
        let overflowing = [UInt8](repeating: 0xFF, count: 9) + [0x02]
        for bytes in [overlong, overflowing] {
            bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw)
                #expect(throws: StrataError.self) { try reader.readVarint64() }
            }
        }
    }

    @Test func everyTruncationOfAnEncodedRecordThrowsCorruptionWithTheOffset() throws {
        var writer = ByteWriter()
        writer.appendFixed32(7)
        writer.appendVarint64(UInt64.max)
        writer.appendLengthPrefixed([1, 2, 3, 4, 5] as [UInt8])
        writer.appendFixed64(9)
        let full = writer.bytes
        func decode(_ bytes: [UInt8]) throws {
            try reading(bytes, file: "record.bin", baseOffset: 1000) { reader in
                _ = try reader.readFixed32()
                _ = try reader.readVarint64()
                _ = try reader.readLengthPrefixed()
                _ = try reader.readFixed64()
            }
        }
        try decode(full)
        for length in 0..<full.count {
            let error = #expect(throws: StrataError.self) { try decode(Array(full[0..<length])) }
            guard case .corruption(let file, let offset, _) = error else {
                Issue.record("truncation at \(length) gave \(String(describing: error))")
                continue
            }
            #expect(file == "record.bin")
            #expect(offset >= 1000 && offset <= 1000 + length)
        }
    }

    @Test func lengthPrefixLongerThanTheInputIsCorruptionNotATrap() {
        var writer = ByteWriter()
        writer.appendVarint64(UInt64.max)  // declares an impossible length
        writer.appendBytes([1, 2, 3] as [UInt8])
        writer.bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            #expect(throws: StrataError.self) { try reader.readLengthPrefixed() }
        }
    }

    @Test func readLengthEnforcesItsLimit() throws {
        var writer = ByteWriter()
        writer.appendVarint64(4097)
        #expect(throws: StrataError.self) { try reading(writer.bytes) { try $0.readLength(max: 4096) } }
        #expect(try reading(writer.bytes) { try $0.readLength(max: 4097) } == 4097)
    }

    @Test func resetKeepsCapacityAndForgetsContents() {
        var writer = ByteWriter(capacity: 64)
        writer.appendFixed64(1)
        writer.reset()
        #expect(writer.isEmpty)
        writer.appendUInt8(9)
        #expect(writer.bytes == [9])
    }

    @Test func setFixed32BackPatches() {
        var writer = ByteWriter()
        writer.appendFixed32(0)
        writer.appendUInt8(0xEE)
        writer.setFixed32(0xAABB_CCDD, at: 0)
        #expect(writer.bytes == [0xDD, 0xCC, 0xBB, 0xAA, 0xEE])
    }
}
