import Synchronization
import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct SeparatorTests {
    @Test func separatorsAreShortAndBetweenTheirNeighbours() throws {
        // Through the public path: a table with one-entry blocks, then seeks between keys.
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.blockSize = 1
        let keys = ["abc", "abcd", "abe", "abzzzz", "b", "b\u{FF}\u{FF}", "c", "\u{FF}\u{FF}"].map { Array($0.utf8) }
        let builder = try TableBuilder(fileSystem: fileSystem, directory: "/db", fileNumber: 1, options: options)
        for (index, key) in keys.enumerated() {
            for version in (1...3).reversed() {
                try builder.add(key: InternalKey(userKey: key, sequence: SequenceNumber(rawValue: UInt64(index * 10 + version)), kind: .put).encoded, value: [UInt8(index)])
            }
        }
        _ = try builder.finish()
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        #expect(reader.properties.dataBlocks == UInt64(keys.count * 3))
        for (index, key) in keys.enumerated() {
            #expect(try reader.get(key) == .value([UInt8(index)]))
            #expect(try reader.get(key + [0]) == .notFound)
        }
        #expect(try reader.get(Array("ab".utf8)) == .notFound)
        #expect(try reader.get([0xFF, 0xFF, 0xFF]) == .notFound)
    }
}
