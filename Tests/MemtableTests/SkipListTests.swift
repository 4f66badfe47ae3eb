import Testing
import Encoding
import Memtable
import VFS

@Suite struct SkipListTests {
    /// An encoded internal key for `user` at `sequence`.
    func key(_ user: String, _ sequence: UInt64) -> [UInt8] {
        InternalKey(userKey: Array(user.utf8), sequence: SequenceNumber(rawValue: sequence), kind: .put).encoded
    }

    func keys(_ list: SkipList) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var node = list.first()
        while node != 0 {
            result.append(Array(list.key(node)))
            node = list.next(node, 0)
        }
        return result
    }

    @Test func insertionsInAnyOrderIterateInInternalKeyOrder() throws {
        let list = try SkipList(arena: try Arena(capacity: 4 << 20), seed: 42)
        var generator = SplitMix64(seed: 7)
        var expected: [[UInt8]] = []
        for index in 0..<5_000 {
            let user = "k\(generator.next() % 1_000)"
            let encoded = key(user, UInt64(index + 1))
            let value = Array("v\(index)".utf8)
            let inserted = encoded.withUnsafeBytes { k in value.withUnsafeBytes { list.insert(key: k, value: $0) } }
            #expect(inserted)
            expected.append(encoded)
        }
        expected.sort { InternalKeyComparator.compareArrays($0, $1) < 0 }
        #expect(list.count == 5_000)
        #expect(keys(list) == expected)
        // Newest version of a user key first: (user ASC, sequence DESC).
        let first = try InternalKey(decoding: keys(list)[0])
        let second = try InternalKey(decoding: keys(list)[1])
        if first.userKey == second.userKey { #expect(first.sequence > second.sequence) }
    }

    @Test func seekFindsTheFirstKeyAtOrAfterAndSeekLessThanTheLastBefore() throws {
        let list = try SkipList(arena: try Arena(capacity: 1 << 20))
        for (index, user) in ["b", "d", "f"].enumerated() {
            let encoded = key(user, UInt64(index + 1))
            _ = encoded.withUnsafeBytes { k in [UInt8]().withUnsafeBytes { list.insert(key: k, value: $0) } }
        }
        func seek(_ user: String) -> String? {
            let node = key(user, SequenceNumber.max.rawValue).withUnsafeBytes { list.seek($0) }
            return node == 0 ? nil : String(decoding: InternalKey.userKey(of: list.key(node)), as: UTF8.self)
        }
        func before(_ user: String) -> String? {
            let node = key(user, SequenceNumber.max.rawValue).withUnsafeBytes { list.seekLessThan($0) }
            return node == 0 ? nil : String(decoding: InternalKey.userKey(of: list.key(node)), as: UTF8.self)
        }
        #expect(seek("a") == "b" && seek("b") == "b" && seek("c") == "d" && seek("f") == "f" && seek("g") == nil)
        #expect(before("a") == nil && before("b") == nil && before("c") == "b" && before("z") == "f")
        #expect(String(decoding: InternalKey.userKey(of: list.key(list.last())), as: UTF8.self) == "f")
    }

    @Test func anEmptyListHasNoFirstOrLast() throws {
        let list = try SkipList(arena: try Arena(capacity: 4096))
        #expect(list.first() == 0 && list.last() == 0 && list.count == 0)
    }

    @Test func aFullArenaRefusesTheInsertAndKeepsTheListIntact() throws {
        let list = try SkipList(arena: try Arena(capacity: 2048))
        var inserted = 0
        while true {
            let encoded = key("key\(1_000 + inserted)", UInt64(inserted + 1))
            let ok = encoded.withUnsafeBytes { k in [UInt8](repeating: 1, count: 40).withUnsafeBytes { list.insert(key: k, value: $0) } }
            if !ok { break }
            inserted += 1
        }
        #expect(inserted > 0 && list.count == inserted)
        #expect(keys(list).count == inserted)
    }

    @Test func valuesAreStoredBesideTheirKeys() throws {
        let list = try SkipList(arena: try Arena(capacity: 1 << 20))
        for index in 0..<100 {
            let encoded = key("k\(index)", 1)
            let value = [UInt8](repeating: UInt8(index), count: index)
            _ = encoded.withUnsafeBytes { k in value.withUnsafeBytes { list.insert(key: k, value: $0) } }
        }
        var node = list.first()
        while node != 0 {
            let user = String(decoding: InternalKey.userKey(of: list.key(node)), as: UTF8.self)
            let index = Int(user.dropFirst())!
            #expect(Array(list.value(node)) == [UInt8](repeating: UInt8(index), count: index))
            node = list.next(node, 0)
        }
    }
}
