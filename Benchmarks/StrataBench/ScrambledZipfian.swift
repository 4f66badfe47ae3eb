#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VFS

/// YCSB's key choosers: a Zipfian distribution over `[0, itemCount)` (constant 0.99, after Gray
/// et al., "Quickly Generating Billion-Record Synthetic Databases"), the scrambled variant that
/// spreads the popular items over the key space with an FNV-1a hash, and the "latest" variant
/// that favours the most recently inserted items (workload D).
struct ZipfianGenerator {
    /// The skew YCSB uses.
    static let theta = 0.99
    let itemCount: UInt64
    private let alpha: Double
    private let zetaN: Double
    private let eta: Double
    private let halfPowTheta: Double

    /// Precomputes the constants for `itemCount` items (O(itemCount), once per run).
    init(itemCount: UInt64) {
        let items = max(itemCount, 2)
        self.itemCount = items
        let theta = ZipfianGenerator.theta
        var zeta = 0.0
        for index in 1...items { zeta += 1.0 / pow(Double(index), theta) }
        let zeta2 = 1.0 + 1.0 / pow(2.0, theta)
        zetaN = zeta
        alpha = 1.0 / (1.0 - theta)
        eta = (1.0 - pow(2.0 / Double(items), 1.0 - theta)) / (1.0 - zeta2 / zeta)
        halfPowTheta = 1.0 + pow(0.5, theta)
    }

    /// The next item: 0 is the most popular.
    func next(_ random: inout SplitMix64) -> UInt64 {
        let u = Double(random.next() >> 11) * 0x1.0p-53
        let uz = u * zetaN
        if uz < 1.0 { return 0 }
        if uz < halfPowTheta { return 1 }
        let item = UInt64(Double(itemCount) * pow(eta * u - eta + 1.0, alpha))
        return min(item, itemCount - 1)
    }
}

/// A Zipfian chooser whose popular items are scattered over the key space (YCSB's default).
struct ScrambledZipfian {
    let zipfian: ZipfianGenerator

    init(itemCount: UInt64) {
        zipfian = ZipfianGenerator(itemCount: itemCount)
    }

    func next(_ random: inout SplitMix64) -> UInt64 {
        ScrambledZipfian.fnv1a(zipfian.next(&random)) % zipfian.itemCount
    }

    /// FNV-1a over the eight bytes of `value`.
    static func fnv1a(_ value: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var remaining = value
        for _ in 0..<8 {
            hash ^= remaining & 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
            remaining >>= 8
        }
        return hash
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    // exp(y·ln x) without Foundation; inputs here are positive.
    exp(exponent * log(base))
}
