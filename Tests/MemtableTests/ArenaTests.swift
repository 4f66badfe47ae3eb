import Testing
import Encoding
import Memtable

@Suite struct ArenaTests {
    @Test func allocationsAreAlignedDisjointAndNeverOffsetZero() throws {
        let arena = try Arena(capacity: 4096)
        var previousEnd = 0
        for (size, alignment) in [(1, 1), (3, 4), (8, 8), (5, 1), (16, 8), (2, 4)] {
            let offset = try #require(arena.allocate(size, alignment: alignment))
            #expect(offset != 0)  // offset 0 means "none"
            #expect(Int(offset) % alignment == 0)
            #expect(Int(offset) >= previousEnd)
            previousEnd = Int(offset) + size
            // The memory is writable and stays put.
            arena.pointer(offset).initializeMemory(as: UInt8.self, repeating: 0xAB, count: size)
        }
        #expect(arena.used == previousEnd)
        #expect(arena.remaining == 4096 - previousEnd)
    }

    @Test func aFullArenaRefusesWithoutChangingItsState() throws {
        let arena = try Arena(capacity: 256)
        var total = 0
        while let _ = arena.allocate(24, alignment: 8) { total += 1 }
        let used = arena.used
        #expect(total > 0 && used <= 256)
        #expect(arena.allocate(24, alignment: 8) == nil)
        #expect(arena.used == used)
        // A smaller allocation may still fit in the tail.
        if arena.remaining >= 1 { #expect(arena.allocate(1, alignment: 1) != nil) }
    }

    @Test func capacitiesOutsideOneByteToFourGiBAreRefused() {
        #expect(throws: StrataError.self) { try Arena(capacity: 0) }
        #expect(throws: StrataError.self) { try Arena(capacity: Int(UInt32.max) + 1) }
    }

    @Test func memoryUsageIsTheArenaHighWaterMark() throws {
        let memtable = try Memtable(capacity: 1 << 20)
        let before = memtable.approximateMemoryUsage
        try memtable.put([UInt8](repeating: 7, count: 100), [UInt8](repeating: 8, count: 1000), sequence: SequenceNumber(rawValue: 1))
        let grown = memtable.approximateMemoryUsage - before
        // One node: 12-byte header, 4 bytes per level, 108-byte internal key, 1000-byte value.
        #expect(grown >= 12 + 4 + 108 + 1000 && grown <= 12 + 48 + 108 + 1000 + 3)
    }
}
