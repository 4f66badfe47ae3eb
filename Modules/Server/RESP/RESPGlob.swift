/// Redis' glob patterns (`KEYS`, `SCAN … MATCH`, `CONFIG GET`): `*` any run of bytes, `?` one
/// byte, `[abc]`, `[^a]`, `[a-z]` a set, `\x` the byte `x` itself. Matches bytes, not
/// characters, like Redis.
///
/// Iterative, backtracking only to the last `*` (enough for globs, since a later star can
/// absorb whatever an earlier one would), so the work is at most pattern length × string
/// length, whatever a client sends.
package enum RESPGlob {
    /// Whether `string` matches `pattern`.
    package static func matches(_ pattern: [UInt8], _ string: [UInt8]) -> Bool {
        var p = 0
        var s = 0
        var starP = -1
        var starS = 0
        while s < string.count {
            if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
                if p == pattern.count { return true }
                starP = p
                starS = s
                continue
            }
            if p < pattern.count, let next = single(pattern, p, string[s]) {
                p = next
                s += 1
                continue
            }
            // Mismatch: let the last star absorb one more byte, or fail.
            guard starP >= 0 else { return false }
            starS += 1
            s = starS
            p = starP
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// When the pattern element at `p` (not a star) matches `byte`, the index after it.
    private static func single(_ pattern: [UInt8], _ start: Int, _ byte: UInt8) -> Int? {
        var p = start
        switch pattern[p] {
        case UInt8(ascii: "?"):
            return p + 1
        case UInt8(ascii: "\\") where p + 1 < pattern.count:
            return pattern[p + 1] == byte ? p + 2 : nil
        case UInt8(ascii: "["):
            p += 1
            let negate = p < pattern.count && pattern[p] == UInt8(ascii: "^")
            if negate { p += 1 }
            var matched = false
            while p < pattern.count && pattern[p] != UInt8(ascii: "]") {
                if pattern[p] == UInt8(ascii: "\\") && p + 1 < pattern.count {
                    p += 1
                    if pattern[p] == byte { matched = true }
                } else if p + 2 < pattern.count && pattern[p + 1] == UInt8(ascii: "-") && pattern[p + 2] != UInt8(ascii: "]") {
                    let low = min(pattern[p], pattern[p + 2])
                    let high = max(pattern[p], pattern[p + 2])
                    if byte >= low && byte <= high { matched = true }
                    p += 2
                } else if pattern[p] == byte {
                    matched = true
                }
                p += 1
            }
            if negate { matched.toggle() }
            // An unterminated set runs to the end of the pattern (as in Redis).
            return matched ? min(p + 1, pattern.count) : nil
        default:
            return pattern[p] == byte ? p + 1 : nil
        }
    }
}
