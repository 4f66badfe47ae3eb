import Testing
import Encoding

@Suite struct ChecksumTests {
    // Reference values computed with libxxhash's own XXH3_64bits from C, not with this code.
    @Test func matchesKnownXXH3Vectors() {
        #expect(Checksum.xxh3([] as [UInt8]) == 0x2D06_8005_38D3_94C2)
        #expect(Checksum.xxh3(Array("strata".utf8)) == 0x4B61_A189_7BFC_215F)
        #expect(Checksum.xxh3(Array("strata".utf8), seed: 2) == 0xED6F_AC04_BB0A_C5DF)
        #expect(Checksum.xxh3Low32(Array("strata".utf8)) == 0x7BFC_215F)
    }

    @Test func everySingleBitFlipChangesTheChecksum() {
        let data = (0..<257).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let original = Checksum.xxh3(data)
        for index in data.indices {
            for bit in 0..<8 {
                var damaged = data
                damaged[index] ^= 1 << bit
                #expect(Checksum.xxh3(damaged) != original)
            }
        }
    }
}
