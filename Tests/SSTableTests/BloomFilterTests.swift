import Synchronization
import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct BloomFilterTests {
    @Test func bloomFalsePositiveRateAtTenBitsPerKeyIsAboutOnePercent() throws {
        let fileSystem = try memoryDirectory()
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1)
        let count = 200_000
        for index in 0..<count {
            try builder.add(key: InternalKey(userKey: Array("key\(String(index).leftPadded(to: 8))".utf8), sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: [])
        }
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        var falsePositives = 0
        var negatives = 0
        for index in 0..<count {
            let present = Array("key\(String(index).leftPadded(to: 8))".utf8)
            if try !present.withUnsafeBytes({ try reader.mayContain($0) }) { negatives += 1 }
            let absent = Array("absent\(index)".utf8)
            if try absent.withUnsafeBytes({ try reader.mayContain($0) }) { falsePositives += 1 }
        }
        let rate = Double(falsePositives) / Double(count)
        print("bloom filter at 10 bits/key: false-positive rate \(rate * 100)% over \(count) absent keys")
        #expect(negatives == 0)  // never a false negative
        #expect(rate >= 0.005 && rate <= 0.015)
    }

    @Test func noFilterWhenBitsPerKeyIsZero() throws {
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.bloomBitsPerKey = 0
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1, options: options)
        try builder.add(key: InternalKey(userKey: [1], sequence: SequenceNumber(rawValue: 1), kind: .put).encoded, value: [2])
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        #expect(reader.properties.filterBitsPerKey == 0)
        #expect(try [9].withUnsafeBytes { try reader.mayContain($0) })
        #expect(try reader.get([1]) == .value([2]))
    }

    @Test func aBuiltFilterNeverMissesItsKeysAndRejectsMostOthers() throws {
        let hashes = (0..<10_000).map { index in Array("member\(index)".utf8).withUnsafeBytes { BloomFilter.hash($0) } }
        let bytes = BloomFilter.build(hashes: hashes, bitsPerKey: 10)
        let reader = try BloomOwner(bytes).reader()
        #expect(hashes.allSatisfy { reader.mayContain(hash: $0) })
        let falsePositives = (0..<10_000).filter { index in
            Array("stranger\(index)".utf8).withUnsafeBytes { reader.mayContain($0) }
        }.count
        #expect(falsePositives < 300, "\(falsePositives) of 10,000")
        #expect(reader.byteCount == bytes.count)
    }

    @Test func aFilterWithAnUnknownFormatOrTruncatedIsCorruption() throws {
        var bytes = BloomFilter.build(hashes: [1, 2, 3], bitsPerKey: 10)
        bytes[bytes.count - 1] = 99  // the format byte
        #expect(throws: StrataError.self) { try BloomOwner(bytes).reader() }
        let short = Array(BloomFilter.build(hashes: [1, 2, 3], bitsPerKey: 10).suffix(6))
        #expect(throws: StrataError.self) { try BloomOwner(short).reader() }
        #expect(throws: StrataError.self) { try BloomOwner([1, 2, 3]).reader() }
    }
}

/// Holds a filter's bytes at a stable address for as long as a reader of them lives.
final class BloomOwner: @unchecked Sendable {
    // Immutable after init; freed in deinit, when no reader references the owner any more.
    let base: UnsafeMutableRawPointer
    let count: Int

    init(_ bytes: [UInt8]) {
        count = bytes.count
        base = .allocate(byteCount: max(count, 1), alignment: 8)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { base.copyMemory(from: source, byteCount: count) } }
    }

    deinit { base.deallocate() }

    func reader() throws -> BloomFilterReader {
        try BloomFilterReader(base: base, size: count, owner: self, file: "<test>", offset: 0)
    }
}
