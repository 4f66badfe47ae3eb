import Encoding

// See Docs/formats/sstable.md ("Block format").

/// Allocation-free searching of one block, used by seeks and by point lookups.
///
/// Restart entries store their keys whole (`shared = 0`), so a binary search over restart points
/// compares keys where they lie in the block, without copying them anywhere.
extension Block {
    /// A decoded entry header.
    struct EntryHeader {
        var shared: Int
        var unshared: Int
        var valueLength: Int
        /// Offset of the key suffix (the value follows it).
        var keyStart: Int

        var end: Int { keyStart + unshared + valueLength }
    }

    /// Decodes and bounds-checks the entry header at `offset` (which must be < `restartsOffset`).
    @inline(__always)
    func entryHeader(at offset: Int) throws -> EntryHeader {
        try Block.entryHeader(base: base, limit: restartsOffset, at: offset) { corruption(at: offset, $0) }
    }

    /// `entryHeader(at:)` on raw values, for iterators that keep the block's layout in their own
    /// fields (calling a method of the block from a mutating method costs a retain and release).
    /// `failure` builds the error for a malformed header.
    @inline(__always)
    static func entryHeader(base: UnsafeRawPointer, limit: Int, at offset: Int, failure: (String) throws -> StrataError) throws -> EntryHeader {
        var cursor = offset
        let shared: Int, unshared: Int, valueLength: Int
        if cursor + 3 <= limit,
            case let b0 = base.load(fromByteOffset: cursor, as: UInt8.self),
            case let b1 = base.load(fromByteOffset: cursor + 1, as: UInt8.self),
            case let b2 = base.load(fromByteOffset: cursor + 2, as: UInt8.self),
            (b0 | b1 | b2) < 0x80
        {
            // Fast path: all three lengths fit in one byte each.
            shared = Int(b0)
            unshared = Int(b1)
            valueLength = Int(b2)
            cursor += 3
        } else {
            let end = base + limit
            guard let (s, sLength) = Varint.decode32(base + cursor, end: end) else { throw try failure("malformed shared length") }
            cursor += sLength
            guard let (u, uLength) = Varint.decode32(base + cursor, end: end) else { throw try failure("malformed key length") }
            cursor += uLength
            guard let (v, vLength) = Varint.decode32(base + cursor, end: end) else { throw try failure("malformed value length") }
            cursor += vLength
            shared = Int(s)
            unshared = Int(u)
            valueLength = Int(v)
        }
        guard unshared <= limit - cursor, valueLength <= limit - cursor - unshared else {
            throw try failure("entry of \(unshared)+\(valueLength) bytes runs past the block")
        }
        return EntryHeader(shared: shared, unshared: unshared, valueLength: valueLength, keyStart: cursor)
    }

    /// The key of restart point `index`, in place.
    @inline(__always)
    func restartKey(_ index: Int, internalKeys: Bool) throws -> UnsafeRawBufferPointer {
        let offset = restart(index)
        guard offset < restartsOffset else { throw corruption(at: offset, "restart point holds no entry") }
        let header = try entryHeader(at: offset)
        guard header.shared == 0 else { throw corruption(at: offset, "restart entry shares \(header.shared) bytes with a previous key") }
        guard !internalKeys || header.unshared >= InternalKey.trailerSize else {
            throw corruption(at: offset, "internal key of \(header.unshared) bytes is shorter than its trailer")
        }
        return UnsafeRawBufferPointer(start: base + header.keyStart, count: header.unshared)
    }

    /// The last restart point whose key is < `target` (0 when none is).
    func lastRestart(before target: UnsafeRawBufferPointer, internalKeys: Bool) throws -> Int {
        var left = 0
        var right = restartCount - 1
        while left < right {
            let middle = (left + right + 1) / 2
            let key = try restartKey(middle, internalKeys: internalKeys)
            let order = internalKeys ? InternalKeyComparator.compare(key, target) : BytewiseComparator.compare(key, target)
            if order < 0 { left = middle } else { right = middle - 1 }
        }
        return left
    }

    /// Finds the first entry whose (internal) key is ≥ `target` and calls `body` with its key and
    /// value (`.found` with what `body` returned); returns `.pastEnd` without calling it when
    /// every entry is smaller.
    ///
    /// Keys are rebuilt in `scratch` (a caller-provided buffer, typically on the stack). Returns
    /// `.needsLargerScratch` when a key does not fit.
    func firstEntry<Result>(
        atOrAfter target: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Result
    ) throws -> SearchOutcome<Result> {
        let restartIndex = try lastRestart(before: target, internalKeys: true)
        var offset = restart(restartIndex)
        var keyLength = 0
        let base = self.base
        while offset < restartsOffset {
            let header = try entryHeader(at: offset)
            guard header.shared <= keyLength else {
                throw corruption(at: offset, "entry shares \(header.shared) bytes with a \(keyLength)-byte previous key")
            }
            let length = header.shared + header.unshared
            guard length <= scratch.count else { return .needsLargerScratch }
            if header.unshared > 0 {
                (scratch.baseAddress! + header.shared).copyMemory(from: base + header.keyStart, byteCount: header.unshared)
            }
            keyLength = length
            guard keyLength >= InternalKey.trailerSize else {
                throw corruption(at: offset, "internal key of \(keyLength) bytes is shorter than its trailer")
            }
            let key = UnsafeRawBufferPointer(start: scratch.baseAddress!, count: keyLength)
            if InternalKeyComparator.compare(key, target) >= 0 {
                let value = UnsafeRawBufferPointer(start: base + header.keyStart + header.unshared, count: header.valueLength)
                return .found(try body(key, value))
            }
            offset = header.end
        }
        return .pastEnd
    }

    /// The outcome of `firstEntry(atOrAfter:scratch:_:)`.
    enum SearchOutcome<Result> {
        /// An entry ≥ the target was found; the body's result.
        case found(Result)
        /// Every entry of the block is smaller than the target.
        case pastEnd
        /// A key was longer than the scratch buffer; retry with a larger one.
        case needsLargerScratch
    }

    func corruption(at offset: Int, _ reason: String) -> StrataError {
        .corruption(file: file, offset: fileOffset + offset, reason: reason)
    }
}
