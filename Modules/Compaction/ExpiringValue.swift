import Encoding

/// A value with an optional expiry time, as stored by layers that expire keys (the RESP front
/// door): one flag byte, the expiry when the flag says so, then the payload. The byte layout is
/// in `Docs/formats/expiring-value.md`:
///
/// ```
/// 0x00 payload…                          no expiry
/// 0x01 expiry (8 bytes, big-endian,      expires at that many milliseconds after the Unix epoch
///      milliseconds) payload…
/// ```
public enum ExpiringValue {
    /// The flag byte of a value without an expiry.
    public static let persistentFlag: UInt8 = 0
    /// The flag byte of a value with an expiry.
    public static let expiringFlag: UInt8 = 1
    /// The bytes before the payload of a value with an expiry.
    public static let expiringHeaderSize = 9

    /// The stored form of `payload`, expiring at `expiresAt` (Unix milliseconds) when given.
    public static func encode(_ payload: some Collection<UInt8>, expiresAt: UInt64?) -> [UInt8] {
        var bytes: [UInt8] = []
        if let expiresAt {
            bytes.reserveCapacity(expiringHeaderSize + payload.count)
            bytes.append(expiringFlag)
            withUnsafeBytes(of: expiresAt.bigEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.reserveCapacity(1 + payload.count)
            bytes.append(persistentFlag)
        }
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// The expiry (Unix milliseconds) of the stored value `stored`, `nil` when it has none.
    ///
    /// - Throws: `StrataError.corruption` when `stored` is not in this format (empty, an unknown
    ///   flag, or a truncated expiry).
    public static func expiry(of stored: UnsafeRawBufferPointer) throws -> UInt64? {
        guard let flag = stored.first else { throw StrataError.corruption(file: "expiring value", offset: 0, reason: "empty (no flag byte)") }
        switch flag {
        case persistentFlag:
            return nil
        case expiringFlag:
            guard stored.count >= expiringHeaderSize else {
                throw StrataError.corruption(file: "expiring value", offset: 0, reason: "\(stored.count) bytes, too short for its 8-byte expiry")
            }
            var expiry: UInt64 = 0
            for index in 1..<expiringHeaderSize { expiry = expiry << 8 | UInt64(stored[index]) }
            return expiry
        default:
            throw StrataError.corruption(file: "expiring value", offset: 0, reason: "unknown flag byte \(flag)")
        }
    }

    /// The offset of the payload in `stored` (1 or 9). Call after `expiry(of:)` succeeded.
    public static func payloadOffset(of stored: UnsafeRawBufferPointer) -> Int {
        stored.first == expiringFlag ? expiringHeaderSize : 1
    }

    /// Decodes `stored`: its payload and expiry.
    ///
    /// - Throws: as `expiry(of:)`.
    public static func decode(_ stored: [UInt8]) throws -> (payload: ArraySlice<UInt8>, expiresAt: UInt64?) {
        try stored.withUnsafeBytes { bytes in
            let expiry = try expiry(of: bytes)
            return (stored[payloadOffset(of: bytes)...], expiry)
        }
    }
}

/// Removes, in compaction, the values of keys starting with `keyPrefix` whose expiry time (in
/// the `ExpiringValue` format) has passed by `now()`. Values that are not in that format are
/// kept (a filter never deletes what it cannot read).
public struct ExpiryCompactionFilter: CompactionFilter {
    /// Only keys with this prefix hold values in the `ExpiringValue` format.
    public let keyPrefix: [UInt8]
    /// The current time in Unix milliseconds.
    public let now: @Sendable () -> UInt64

    /// A filter for the keys under `keyPrefix`, reading the time from `now`.
    public init(keyPrefix: [UInt8], now: @escaping @Sendable () -> UInt64) {
        self.keyPrefix = keyPrefix
        self.now = now
    }

    /// A filter for the keys under `keyPrefix`, reading the time from the wall clock.
    public init(keyPrefix: [UInt8]) {
        self.init(keyPrefix: keyPrefix, now: { WallClock.microsecondsSinceEpoch() / 1000 })
    }

    /// `true` when `userKey` is under the prefix and `value` expired at or before now.
    public func removes(userKey: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        guard userKey.count >= keyPrefix.count else { return false }
        for index in keyPrefix.indices where userKey[index] != keyPrefix[index] { return false }
        guard value.first == ExpiringValue.expiringFlag, let expiry = try? ExpiringValue.expiry(of: value) else { return false }
        return expiry <= now()
    }
}
