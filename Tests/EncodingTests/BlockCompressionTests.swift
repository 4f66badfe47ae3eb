import Testing
import Encoding

@Suite struct BlockCompressionTests {
    static let codecs: [Compression] = [.none, .lz4, .zstd(level: 1), .zstd(level: 19)]
    static let sizes = [0, 1, 4096, 1 << 20]

    /// Text-like bytes that compress well.
    static func compressible(_ count: Int) -> [UInt8] {
        let words = ["strata", "level", "block", "key", "value", "compaction", "flush"].map { Array($0.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var index = 0
        while bytes.count < count {
            bytes.append(contentsOf: words[(index * 7 + index / 3) % words.count])
            bytes.append(UInt8(ascii: " "))
            index += 1
        }
        return Array(bytes.prefix(count))
    }

    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test(arguments: codecs, sizes)
    func roundTripsCompressibleAndRandomInputs(compression: Compression, size: Int) throws {
        let compressor = BlockCompressor(compression)
        let decompressor = BlockDecompressor()
        for input in [Self.compressible(size), Self.random(size)] {
            let (codec, payload) = input.withUnsafeBytes { raw in
                let result = compressor.compress(raw)
                return (result.codec, Array(result.payload))
            }
            let output = try decompressor.decompress(payload, codec: codec)
            #expect(output == input)
            if codec != .none {
                // Kept compressed only when it saves at least 12.5%.
                #expect(payload.count <= input.count - input.count / 8)
                #expect(codec == compression.codecID)
            }
        }
    }

    @Test(arguments: [Compression.lz4, .zstd(level: 3)])
    func compressibleBlocksAreCompressedAndIncompressibleOnesStoredRaw(compression: Compression) {
        let compressor = BlockCompressor(compression)
        let text = Self.compressible(4096)
        #expect(text.withUnsafeBytes { compressor.compress($0).codec } == compression.codecID)
        let noise = Self.random(4096)
        let stored = noise.withUnsafeBytes { raw in
            let result = compressor.compress(raw)
            return (result.codec, Array(result.payload))
        }
        #expect(stored.0 == .none)
        #expect(stored.1 == noise)
    }

    @Test(arguments: [Compression.lz4, .zstd(level: 1)])
    func corruptedCompressedBlocksAreReportedAsCorruption(compression: Compression) throws {
        let compressor = BlockCompressor(compression)
        let input = Self.compressible(4096)
        let payload = input.withUnsafeBytes { Array(compressor.compress($0).payload) }
        let decompressor = BlockDecompressor()
        var sawCorruption = 0
        // Damage every byte of the payload in turn. A decoder may occasionally produce the right
        // number of (wrong) bytes from damaged input — that is what the block checksum catches —
        // but it must never trap, and it must never return a block of the wrong size.
        for index in payload.indices {
            var damaged = payload
            damaged[index] ^= 0x5A
            do {
                let output = try decompressor.decompress(damaged, codec: compression.codecID, file: "t.sst", offset: 64)
                #expect(output.count == input.count)
            } catch let error as StrataError {
                #expect(error.isCorruption)
                if case .corruption(let file, let offset, _) = error {
                    #expect(file == "t.sst" && offset == 64)
                }
                sawCorruption += 1
            }
        }
        #expect(sawCorruption > 0)
        // Truncation always fails: the output cannot reach the declared size.
        for length in [0, 1, payload.count / 2, payload.count - 1] {
            #expect(throws: StrataError.self) {
                try decompressor.decompress(Array(payload[0..<length]), codec: compression.codecID)
            }
        }
    }

    @Test func declaredSizeMismatchIsCorruption() throws {
        let compressor = BlockCompressor(.lz4)
        let input = Self.compressible(4096)
        var payload = input.withUnsafeBytes { Array(compressor.compress($0).payload) }
        // Rewrite the varint size prefix (4096 = 0x80 0x20) to claim 4095 bytes.
        #expect(payload[0] == 0x80 && payload[1] == 0x20)
        payload[0] = 0xFF
        payload[1] = 0x1F
        let error = #expect(throws: StrataError.self) {
            try BlockDecompressor().decompress(payload, codec: .lz4, file: "f", offset: 0)
        }
        #expect(error?.isCorruption == true)
    }

    @Test func unknownCodecIdIsCorruption() {
        [1, 2, 3].withUnsafeBytes { raw in
            let error = #expect(throws: StrataError.self) {
                try BlockDecompressor().decompress(raw, codecByte: 9, file: "f.sst", offset: 5)
            }
            #expect(error == .corruption(file: "f.sst", offset: 5, reason: "unknown compression codec id 9"))
        }
    }
}
