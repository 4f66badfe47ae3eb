/// Keys and values of the stress test. A value encodes its key and version, with a filler
/// derived from both, so any value read can be checked on its own.
enum StressValues {
    /// The prefix of the bank accounts' keys (`acct:` + four digits), outside the `k` keys.
    static let accountPrefix = Array("acct:".utf8)
    /// Each account's balance when the accounts are created.
    static let initialBalance = 1_000

    /// The key of bank account `index`.
    static func account(_ index: Int) -> [UInt8] {
        accountPrefix + Array(String(index).leftPadded(to: 4).utf8)
    }

    /// `k` + the key index in 8 decimal digits.
    static func key(_ index: Int) -> [UInt8] {
        var bytes: [UInt8] = Array("k00000000".utf8)
        var remaining = index
        var position = bytes.count - 1
        while position > 0 {
            bytes[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        }
        return bytes
    }

    /// The key index of a key, or `nil` for a key the test never writes.
    static func index(of key: some Collection<UInt8>) -> Int? {
        guard key.count == 9, key.first == UInt8(ascii: "k") else { return nil }
        var value = 0
        for byte in key.dropFirst() {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The value of `key` at `version`: key (4 bytes), version (4 bytes), then 8–71 filler bytes.
    static func value(key: Int, version: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(key).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: version.littleEndian) { bytes.append(contentsOf: $0) }
        var state = UInt64(key) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(version) &* 0xC2B2_AE3D_27D4_EB4F
        let filler = 8 + Int(state % 64)
        for _ in 0..<filler {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return bytes
    }

    /// The version a value claims for `key`, or `nil` when the value is not exactly what the
    /// test writes for that key at that version (damage or a foreign value).
    static func version(of value: [UInt8], key: Int) -> UInt32? {
        guard value.count >= 16 else { return nil }
        let claimedKey = value.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        let version = value.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
        guard claimedKey == UInt32(key), version > 0, self.value(key: key, version: version) == value else { return nil }
        return version
    }

    /// The state (`version << 1 | deleted`, 0 = never written) a read result shows. For an absent
    /// key the version is unknown: `nil` means "absent".
    static func describe(_ state: UInt32) -> String {
        state == 0 ? "never written" : (state & 1 == 1 ? "deleted at v\(state >> 1)" : "v\(state >> 1)")
    }
}
