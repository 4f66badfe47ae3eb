import Encoding

extension Cursor {
    /// Whether any version of a key in `[from, to)` (`to == nil`: unbounded) — a put, a delete
    /// or a covering range tombstone — has a sequence above `sequence`. Reads every version, not
    /// just the visible ones: a transaction's commit-time validation, on a cursor of its own taken
    /// at the latest data. Moves the cursor's merge without updating its position: use the cursor
    /// for nothing else afterwards.
    func hasChange(above sequence: UInt64, from start: [UInt8], to end: [UInt8]?) throws -> Bool {
        if let end, BytewiseComparator.compare(start, end) >= 0 { return false }  // an empty range
        try InternalKey.seekKey(start, at: .max).withUnsafeBytes { try merged.seek(to: $0) }
        while merged.isValid {
            let key = merged.key
            if let end, end.withUnsafeBytes({ BytewiseComparator.compare(InternalKey.userKey(of: key), $0) }) >= 0 { break }
            if InternalKey.trailer(of: key) >> 8 > sequence { return true }
            try merged.next()
        }
        // Range tombstones: a fragment overlapping the range with a newer tombstone.
        for fragment in tombstones.fragments {
            if let end, BytewiseComparator.compare(fragment.start, end) >= 0 { break }
            guard BytewiseComparator.compare(fragment.end, start) > 0 else { continue }
            if let newest = fragment.sequences.first, newest > sequence { return true }
        }
        return false
    }
}
