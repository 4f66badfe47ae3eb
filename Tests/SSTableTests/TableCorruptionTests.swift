import Testing
import Encoding
import SSTable
import StrataTestSupport
import VFS

@Suite struct TableCorruptionTests {
    /// A table of several compressed blocks with tombstones, and its reference data.
    func makeTable() throws -> (MemoryFileSystem, TableTestData, [UInt8]) {
        let data = TableTestData.generate(targetEntries: 3_000, tombstoneCount: 5, seed: 5)
        let fileSystem = try memoryDirectory()
        var options = TableBuilderOptions()
        options.blockSize = 1024
        options.compression = .lz4
        _ = try data.build(fileSystem: fileSystem, fileNumber: 1, options: options)
        return (fileSystem, data, try #require(fileSystem.contents(of: "/db/000001.sst")))
    }

    /// Opens the table and reads everything; returns how it ended. Any value read must be right.
    func readEverything(
        _ fileSystem: any FileSystem, _ data: TableTestData, path: String = "/db/000001.sst"
    ) -> (corruption: Bool, wrongData: Bool, otherError: String?) {
        do {
            let reader = try TableReader.open(path: path, fileNumber: 1, fileSystem: fileSystem)
            var iterator = reader.makeIterator()
            try iterator.seekToFirst()
            var index = 0
            while iterator.isValid {
                guard index < data.entries.count, Array(iterator.key) == data.internalKey(index),
                    Array(iterator.value) == data.value(ofEntry: index)
                else { return (false, true, nil) }
                index += 1
                try iterator.next()
            }
            guard index == data.entries.count else { return (false, true, nil) }
            for keyIndex in stride(from: 0, to: data.userKeyCount, by: 7) {
                let key = data.userKey(keyIndex)
                if try reader.get(key) != data.expected(key, at: UInt64.max >> 8) { return (false, true, nil) }
            }
            guard reader.rangeTombstones.sorted(by: { $0.sequence < $1.sequence }) == data.tombstones.sorted(by: { $0.sequence < $1.sequence }) else {
                return (false, true, nil)
            }
            return (false, false, nil)
        } catch let error as StrataError {
            return error.isCorruption || { if case .incompatible = error { return true }; return false }()
                ? (true, false, nil) : (false, false, error.description)
        } catch {
            return (false, false, "\(error)")
        }
    }

    @Test func everyFlippedByteIsDetectedAndNothingWrongIsReturned() throws {
        let (fileSystem, data, clean) = try makeTable()
        var offsets = Set<Int>()
        // The last 4 KiB (meta blocks, index, footer) byte by byte; the rest sampled.
        for offset in max(0, clean.count - 4096)..<clean.count { offsets.insert(offset) }
        var random = SplitMix64(seed: 3)
        while offsets.count < 5_000 { offsets.insert(Int(random.next() % UInt64(clean.count))) }
        var undetected: [Int] = []
        for offset in offsets.sorted() {
            var damaged = clean
            damaged[offset] ^= 1 << UInt8(offset % 8)
            fileSystem.setContents(of: "/db/000001.sst", to: damaged)
            let outcome = readEverything(fileSystem, data)
            #expect(!outcome.wrongData, "byte \(offset): wrong data returned")
            #expect(outcome.otherError == nil, "byte \(offset): \(outcome.otherError ?? "")")
            if !outcome.corruption { undetected.append(offset) }
        }
        // Every byte of the file is covered by a checksum (or is the footer's magic).
        #expect(undetected.isEmpty, "undetected flips at \(undetected.prefix(10))")
    }

    @Test func truncationAtAnyLengthFailsCleanlyAtOpen() throws {
        let (fileSystem, _, clean) = try makeTable()
        var lengths = Set([0, 1, 47, 48, 49, clean.count - 1, clean.count - 48, clean.count - 49])
        var random = SplitMix64(seed: 4)
        while lengths.count < 600 { lengths.insert(Int(random.next() % UInt64(clean.count))) }
        for length in lengths.sorted() {
            fileSystem.setContents(of: "/db/000001.sst", to: Array(clean[0..<length]))
            let error = #expect(throws: StrataError.self, "length \(length)") {
                try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
            }
            #expect(error?.isCorruption == true, "length \(length): \(String(describing: error))")
        }
    }

    @Test func theErrorNamesTheFileAndTheDamagedBlock() throws {
        let (fileSystem, data, clean) = try makeTable()
        var damaged = clean
        damaged[100] ^= 0xFF  // inside the first data block
        fileSystem.setContents(of: "/db/000001.sst", to: damaged)
        let reader = try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem)
        let error = #expect(throws: StrataError.self) { try reader.get(data.userKey(0)) }
        #expect(error == .corruption(file: "/db/000001.sst", offset: 0, reason: "block checksum mismatch"))
    }

    @Test func aTableFromANewerFormatIsIncompatible() throws {
        let (fileSystem, _, clean) = try makeTable()
        var newer = clean
        let footer = newer.count - 48
        newer[footer + 32] = 9  // format version 9
        let checksum = newer[footer..<(footer + 36)].withUnsafeBytes { Checksum.xxh3Low32(UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: checksum.littleEndian) { for index in 0..<4 { newer[footer + 36 + index] = $0[index] } }
        fileSystem.setContents(of: "/db/000001.sst", to: newer)
        let error = #expect(throws: StrataError.self) { try TableReader.open(path: "/db/000001.sst", fileNumber: 1, fileSystem: fileSystem) }
        guard case .incompatible(_, let reason) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(reason.contains("newer version"))
    }

    /// The same guarantee when the table is read in place through a read-only mapping
    /// (`PosixFileSystem`, the default `useMappedReads`): uncompressed and compressed tables,
    /// damage anywhere is an error or harmless, never wrong data.
    @Test(arguments: [Compression.none, .lz4])
    func mappedReadsDetectDamageToo(compression: Compression) throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let data = TableTestData.generate(targetEntries: 3_000, tombstoneCount: 5, seed: 9)
        var options = TableBuilderOptions()
        options.blockSize = 1024
        options.compression = compression
        let memory = try memoryDirectory()
        _ = try data.build(fileSystem: memory, fileNumber: 1, options: options)
        let clean = try #require(memory.contents(of: "/db/000001.sst"))
        let path = Path.join(scratch.path, "000001.sst")
        try fileSystem.writeFile(path, clean, sync: false)
        #expect(readEverything(fileSystem, data, path: path) == (false, false, nil))
        #expect(try fileSystem.openMappedReadable(path).mappedBytes != nil)

        var offsets = Set<Int>()
        for offset in max(0, clean.count - 600)..<clean.count { offsets.insert(offset) }
        var random = SplitMix64(seed: 11)
        while offsets.count < 1_200 { offsets.insert(Int(random.next() % UInt64(clean.count))) }
        for offset in offsets.sorted() {
            var damaged = clean
            damaged[offset] ^= 1 << UInt8(offset % 8)
            try fileSystem.writeFile(path, damaged, sync: false)
            let outcome = readEverything(fileSystem, data, path: path)
            #expect(!outcome.wrongData && outcome.otherError == nil, "flipped byte at \(offset): \(outcome)")
        }
    }

    /// Blocks read in place are verified on first use and then trusted (`VerifiedBlockMemo`), but
    /// a block that failed its checksum is never remembered as verified: every read of it fails,
    /// while the table's healthy blocks keep answering, however often they are read.
    @Test func aDamagedMappedBlockFailsOnEveryReadAndHealthyOnesKeepAnswering() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let fileSystem = PosixFileSystem()
        let data = TableTestData.generate(targetEntries: 3_000, tombstoneCount: 0, seed: 13)
        var options = TableBuilderOptions()
        options.blockSize = 1024
        options.compression = .none
        let memory = try memoryDirectory()
        _ = try data.build(fileSystem: memory, fileNumber: 1, options: options)
        var bytes = try #require(memory.contents(of: "/db/000001.sst"))
        // The first data block starts at offset 0 and holds the smallest key.
        bytes[100] ^= 0x40
        let path = Path.join(scratch.path, "000001.sst")
        try fileSystem.writeFile(path, bytes, sync: false)
        let reader = try TableReader.open(path: path, fileNumber: 1, fileSystem: fileSystem)
        #expect(reader.file.mappedBytes != nil)

        let damagedKey = data.userKey(0)
        let healthyKey = data.userKey(data.userKeyCount - 1)
        for _ in 0..<3 {
            #expect(throws: StrataError.self) { _ = try reader.get(damagedKey) }
            #expect(try reader.get(healthyKey) == data.expected(healthyKey, at: UInt64.max >> 8))
        }
        var iterator = reader.makeIterator()
        #expect(throws: StrataError.self) { try iterator.seekToFirst() }
    }
}
