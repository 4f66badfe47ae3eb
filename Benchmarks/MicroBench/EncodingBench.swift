import Encoding

/// Throughput of the Encoding primitives every other layer leans on.
enum EncodingBench {
    static func run() {
        print("== encoding (release build; median of 3) ==")
        varints()
        comparisons()
        checksums()
        codecs()
    }

    static func varints() {
        var random = BenchRandom(seed: 1)
        // Two distributions: 1-byte values (the lengths and shared-prefix counts that fill
        // blocks), and lengths spread uniformly over 1-10 bytes (a branch-predictor worst case).
        let small = (0..<1_000_000).map { _ in random.next() & 0x7F }
        let mixed = (0..<1_000_000).map { _ in random.next() >> (8 * (random.next() % 8) + 1) }
        for (name, values) in [("1-byte", small), ("mixed-length", mixed)] {
            let encodeTime = median { blackHole(encodeAll(values)) }
            let bytes = encodeAll(values)
            let averageLength = format(Double(bytes.count) / Double(values.count), 1)
            report("varint64 encode, \(name)", format(encodeTime * 1e9 / Double(values.count)), "ns/value", "avg \(averageLength) B")
            let decodeTime = median { blackHole(decodeAll(bytes)) }
            report("varint64 decode, \(name)", format(decodeTime * 1e9 / Double(values.count)), "ns/value")
        }
    }

    @inline(never)
    static func encodeAll(_ values: [UInt64]) -> [UInt8] {
        var writer = ByteWriter(capacity: values.count * 10)
        for value in values { writer.appendVarint64(value) }
        return writer.bytes
    }

    @inline(never)
    static func decodeAll(_ bytes: [UInt8]) -> UInt64 {
        var sum: UInt64 = 0
        bytes.withUnsafeBytes { raw in
            var cursor = raw.baseAddress!
            let end = cursor + raw.count
            while let (value, length) = Varint.decode64(cursor, end: end) {
                sum &+= value
                cursor += length
            }
        }
        return sum
    }

    static func comparisons() {
        // 16-byte keys sharing a 12-byte prefix: the case the guide measured.
        var random = BenchRandom(seed: 2)
        let prefix = Array("user00000000".utf8)
        let keys = (0..<4096).map { _ in prefix + (0..<4).map { _ in UInt8.random(in: 0...255, using: &random) } }
        let pairs = 4_000_000
        let fast = median {
            var total = 0
            for index in 0..<pairs {
                total &+= BytewiseComparator.compare(keys[index & 4095], keys[(index &* 7) & 4095])
            }
            blackHole(total)
        }
        let slow = median {
            var total = 0
            for index in 0..<pairs where keys[index & 4095].lexicographicallyPrecedes(keys[(index &* 7) & 4095]) {
                total &+= 1
            }
            blackHole(total)
        }
        report("compare 16B keys (8-byte BE loads)", format(fast * 1e9 / Double(pairs)), "ns/compare")
        report("compare 16B keys (lexicographicallyPrecedes)", format(slow * 1e9 / Double(pairs)), "ns/compare")
    }

    static func checksums() {
        let data = [UInt8](repeating: 0xA5, count: 64 << 20)
        let seconds = median { blackHole(Checksum.xxh3(data)) }
        report("xxh3-64 over 64 MiB", format(Double(data.count) / seconds / 1e9), "GB/s")
    }

    static func codecs() {
        // Text-like 4 KiB blocks, compressible to roughly half like db_bench's values.
        var random = BenchRandom(seed: 3)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var corpus = [UInt8]()
        while corpus.count < 16 << 20 {
            let run = Int.random(in: 4...32, using: &random)
            let literal = (0..<run).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            corpus += literal + literal.prefix(run / 2 + 1)
        }
        let blockSize = 4096
        let blocks = corpus.count / blockSize
        for compression in [Compression.lz4, .zstd(level: 1), .zstd(level: 3)] {
            let compressor = BlockCompressor(compression)
            var stored = [(CodecID, [UInt8])]()
            var compressedBytes = 0
            let compressTime = median {
                stored.removeAll(keepingCapacity: true)
                compressedBytes = 0
                corpus.withUnsafeBytes { raw in
                    for block in 0..<blocks {
                        let slice = UnsafeRawBufferPointer(rebasing: raw[(block * blockSize)..<((block + 1) * blockSize)])
                        let (codec, payload) = compressor.compress(slice)
                        compressedBytes += payload.count
                        stored.append((codec, Array(payload)))
                    }
                }
            }
            let decompressor = BlockDecompressor()
            let decompressTime = median {
                for (codec, payload) in stored {
                    let block = payload.withUnsafeBytes {
                        try? decompressor.decompress($0, codecByte: codec.rawValue, file: "bench", offset: 0)
                    }
                    blackHole(block)
                }
            }
            let total = Double(blocks * blockSize)
            report("\(compression) compress 4 KiB blocks", format(total / compressTime / 1e9), "GB/s",
                   "ratio \(format(Double(compressedBytes) / total))")
            report("\(compression) decompress 4 KiB blocks", format(total / decompressTime / 1e9), "GB/s")
        }
    }
}
