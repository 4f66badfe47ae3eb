import Encoding

// See Docs/formats/sstable.md ("Block format").

/// Builds one block: entries with shared-prefix key compression, then the restart array.
///
/// Keys must be added in strictly increasing order of `order` (the caller's responsibility;
/// checked in builds with `STRATA_INTERNAL_CHECKS`).
struct BlockBuilder {
    /// How a block's keys are ordered: encoded internal keys (data, index and range-tombstone
    /// blocks) or plain bytes (the metaindex).
    enum KeyOrder {
        case internalKeys
        case bytewise
    }

    let restartInterval: Int
    let order: KeyOrder
    private(set) var buffer: [UInt8] = []
    private var restarts: [UInt32] = [0]
    private var sinceRestart = 0
    private var lastKey: [UInt8] = []
    private(set) var entryCount = 0

    init(restartInterval: Int, capacity: Int = 4096, order: KeyOrder = .internalKeys) {
        precondition(restartInterval >= 1, "restart interval must be at least 1")
        self.restartInterval = restartInterval
        self.order = order
        buffer.reserveCapacity(capacity + capacity / 4)
    }

    /// `true` when no entry has been added since the last reset.
    var isEmpty: Bool { entryCount == 0 }

    /// The block's size if it were finished now.
    var estimatedSize: Int { buffer.count + restarts.count * 4 + 4 }

    /// The last key added.
    var lastAddedKey: [UInt8] { lastKey }

    mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        // Invariant: keys strictly increase (readers binary-search the restart points).
        InternalChecks.check(entryCount == 0 || lastKey.withUnsafeBytes { last in
            (order == .internalKeys ? InternalKeyComparator.compare(last, key) : BytewiseComparator.compare(last, key)) < 0
        }, "block keys out of order")
        var shared = 0
        if sinceRestart < restartInterval {
            shared = lastKey.withUnsafeBytes { BytewiseComparator.sharedPrefixLength($0, key) }
        } else {
            restarts.append(UInt32(buffer.count))
            sinceRestart = 0
        }
        let unshared = key.count - shared
        appendVarint(shared)
        appendVarint(unshared)
        appendVarint(value.count)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: key[shared...]))
        buffer.append(contentsOf: value)
        lastKey.removeSubrange(shared...)
        lastKey.append(contentsOf: UnsafeRawBufferPointer(rebasing: key[shared...]))
        sinceRestart += 1
        entryCount += 1
    }

    @inline(__always)
    private mutating func appendVarint(_ value: Int) {
        if value < 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: value))
        } else {
            var writer = ByteWriter()
            swap(&writer.bytes, &buffer)
            writer.appendVarint64(UInt64(value))
            swap(&writer.bytes, &buffer)
        }
    }

    /// Appends the restart array and returns the finished block's bytes (valid until the next
    /// mutation).
    mutating func finish() -> [UInt8] {
        for restart in restarts {
            withUnsafeBytes(of: restart.littleEndian) { buffer.append(contentsOf: $0) }
        }
        withUnsafeBytes(of: UInt32(restarts.count).littleEndian) { buffer.append(contentsOf: $0) }
        return buffer
    }

    /// Empties the builder for the next block, keeping its capacity.
    mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        restarts.removeAll(keepingCapacity: true)
        restarts.append(0)
        sinceRestart = 0
        lastKey.removeAll(keepingCapacity: true)
        entryCount = 0
    }
}
