import Encoding
import Synchronization

/// Counters of a block cache; totals since creation.
public struct BlockCacheStatistics: Sendable, Equatable {
    /// Lookups that found the block.
    public var hits: UInt64 = 0
    /// Lookups that did not.
    public var misses: UInt64 = 0
    /// Blocks inserted.
    public var inserts: UInt64 = 0
    /// Blocks evicted to make room.
    public var evictions: UInt64 = 0
    /// Bytes currently held.
    public var usage: Int = 0
    /// The configured capacity in bytes.
    public var capacity: Int = 0

    /// Hits divided by lookups (0 when there were none).
    public var hitRate: Double {
        hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses)
    }
}

/// A cache of decompressed blocks shared by every table reader: sharded (16 shards by default,
/// each with its own lock, so threads rarely contend), bounded in bytes, LRU eviction per shard.
///
/// Keys are (cache id, block offset); every opened table reader takes a fresh cache id, so blocks
/// of a deleted or reopened file are never served for another.
///
/// Thread safety: every method may be called from any thread.
public final class BlockCache: Sendable {
    /// Identifies a block: the reader's cache id and the block's file offset.
    package struct Key: Hashable, Sendable {
        /// The table reader's cache id.
        package var cacheID: UInt64
        /// The block's offset in its file.
        package var offset: UInt64
    }

    /// Bytes counted per entry on top of the block (map and list bookkeeping).
    static let entryOverhead = 96

    struct Slot {
        var key: Key
        var block: Block?
        var charge: Int
        var newer: Int
        var older: Int
    }

    /// One shard: a map to slots, and the slots in a doubly linked LRU list by index.
    struct Shard {
        var map: [Key: Int] = [:]
        var slots: [Slot] = []
        var free: [Int] = []
        var newest = -1
        var oldest = -1
        var usage = 0
        var evictions: UInt64 = 0

        mutating func unlink(_ index: Int) {
            // Read the two links only: copying the whole slot would retain and release its block.
            let newer = slots[index].newer
            let older = slots[index].older
            if newer >= 0 { slots[newer].older = older } else { newest = older }
            if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        }

        mutating func pushNewest(_ index: Int) {
            slots[index].older = newest
            slots[index].newer = -1
            if newest >= 0 { slots[newest].newer = index }
            newest = index
            if oldest < 0 { oldest = index }
        }

        mutating func remove(_ index: Int) {
            unlink(index)
            map.removeValue(forKey: slots[index].key)
            usage -= slots[index].charge
            slots[index].block = nil
            free.append(index)
        }
    }

    /// One shard's lock and state, boxed: an array cannot hold noncopyable mutexes, and separate
    /// allocations keep shards off each other's cache lines.
    final class ShardBox: Sendable {
        let state = Locked(Shard())
    }

    private let shards: [ShardBox]
    private let shardCapacity: Int
    /// The configured capacity in bytes.
    public let capacity: Int
    private let hits = Atomic<UInt64>(0)
    private let misses = Atomic<UInt64>(0)
    private let inserts = Atomic<UInt64>(0)
    private static let nextCacheID = Atomic<UInt64>(1)

    /// Creates a cache holding up to `capacity` bytes of blocks in `shardCount` shards (a power of two).
    public init(capacity: Int, shardCount: Int = 16) {
        precondition(shardCount > 0 && shardCount & (shardCount - 1) == 0, "shard count must be a power of two")
        self.capacity = max(0, capacity)
        self.shardCapacity = max(0, capacity) / shardCount
        self.shards = (0..<shardCount).map { _ in ShardBox() }
    }

    /// A cache id no other reader has used.
    package static func newCacheID() -> UInt64 {
        nextCacheID.add(1, ordering: .relaxed).newValue
    }

    @inline(__always)
    private func shard(for key: Key) -> Int {
        let mixed = (key.cacheID &* 0x9E37_79B9_7F4A_7C15) ^ (key.offset &* 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: mixed >> 40) & (shards.count - 1)
    }

    /// The cached block for `key`, refreshing its recency; `nil` on a miss.
    package func lookup(_ key: Key) -> Block? {
        let block: Block? = shards[shard(for: key)].state.withLock { shard in
            guard let index = shard.map[key] else { return nil }
            shard.unlink(index)
            shard.pushNewest(index)
            return shard.slots[index].block
        }
        if block == nil { misses.add(1, ordering: .relaxed) } else { hits.add(1, ordering: .relaxed) }
        return block
    }

    /// Caches `block` under `key`, evicting the least recently used blocks of the shard as
    /// needed. A block larger than a shard's share of the capacity is not cached.
    package func insert(_ key: Key, _ block: Block) {
        let charge = block.charge + BlockCache.entryOverhead
        guard charge <= shardCapacity else { return }
        inserts.add(1, ordering: .relaxed)
        shards[shard(for: key)].state.withLock { shard in
            if let existing = shard.map[key] { shard.remove(existing) }
            while shard.usage + charge > shardCapacity, shard.oldest >= 0 {
                shard.remove(shard.oldest)
                shard.evictions += 1
            }
            let slot = Slot(key: key, block: block, charge: charge, newer: -1, older: -1)
            let index: Int
            if let reused = shard.free.popLast() {
                shard.slots[reused] = slot
                index = reused
            } else {
                shard.slots.append(slot)
                index = shard.slots.count - 1
            }
            shard.map[key] = index
            shard.pushNewest(index)
            shard.usage += charge
        }
    }

    /// Drops every block of `cacheID` (a deleted table's reader).
    package func erase(cacheID: UInt64) {
        for shard in shards {
            shard.state.withLock { shard in
                for index in shard.map.values where shard.slots[index].key.cacheID == cacheID {
                    shard.remove(index)
                }
            }
        }
    }

    /// Counters and current usage.
    public var statistics: BlockCacheStatistics {
        var result = BlockCacheStatistics()
        result.hits = hits.load(ordering: .relaxed)
        result.misses = misses.load(ordering: .relaxed)
        result.inserts = inserts.load(ordering: .relaxed)
        result.capacity = capacity
        for shard in shards {
            shard.state.withLock { shard in
                result.usage += shard.usage
                result.evictions += shard.evictions
            }
        }
        return result
    }
}
