/// Key-range arithmetic shared by the API, the CLI and the server: every range in Strata is
/// half-open, `[from, to)`, with `nil` meaning unbounded.
public enum KeyRange {
    /// The exclusive upper bound of the keys that start with `prefix`: the prefix with its last
    /// byte that is not `0xFF` incremented and everything after it dropped. `nil` when no key
    /// bounds them (an empty prefix, or one of only `0xFF` bytes): the range is unbounded above.
    ///
    /// `prefixEnd([0x61, 0x62])` is `[0x61, 0x63]`; `prefixEnd([0x61, 0xFF])` is `[0x62]`.
    public static func prefixEnd(_ prefix: [UInt8]) -> [UInt8]? {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }

    /// `[from, to)` narrowed to the keys that start with `prefix` (`nil` bounds unbounded). When
    /// the bounds lie outside the prefix the result is empty (`to` equals `from`), not an error.
    public static func narrowed(from lower: [UInt8]?, to upper: [UInt8]?, toPrefix prefix: [UInt8]) -> (from: [UInt8]?, to: [UInt8]?) {
        var lower = lower
        var upper = upper
        if lower.map({ BytewiseComparator.compare($0, prefix) < 0 }) ?? true { lower = prefix }
        if let end = prefixEnd(prefix), upper.map({ BytewiseComparator.compare(end, $0) < 0 }) ?? true { upper = end }
        if let low = lower, let high = upper, BytewiseComparator.compare(low, high) > 0 { upper = low }
        return (lower, upper)
    }
}
