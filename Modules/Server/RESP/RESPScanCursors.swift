import Synchronization

/// SCAN cursors. A cursor names the next key to read, so a scan needs no server state and every
/// key present for the whole scan is returned exactly once. Clients parse cursors as unsigned
/// 64-bit integers (`redis-cli --scan` does), so:
///
/// - a key of up to 6 bytes is written into the cursor itself: "1" followed by three decimal
///   digits per byte (at most 19 digits, below 2⁶⁴);
/// - a longer key is kept here and the cursor is "2" followed by a number (below 3 × 10¹⁸):
///   the last `capacity` such keys are remembered (oldest forgotten first), so a scan over any
///   keys works with any client, as long as fewer than `capacity` long-key cursors were handed
///   out while its own was outstanding (an older one answers `invalid cursor`).
///
/// "0" starts a scan and marks its end.
package final class RESPScanCursors: Sendable {
    private struct State {
        var keys: [UInt64: [UInt8]] = [:]
        var order: [UInt64] = []
        var oldest = 0
        var next: UInt64
    }

    private let state: Mutex<State>
    private let capacity: Int
    /// Long-key cursors are `marker + n`.
    private static let marker: UInt64 = 2_000_000_000_000_000_000
    private static let span: UInt64 = 999_999_999_999_999_999

    /// Remembers up to `capacity` long-key cursors.
    package init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
        state = Mutex(State(next: UInt64.random(in: 1..<(Self.span / 2))))
    }

    /// The cursor that resumes a scan at `key`.
    package func cursor(resumingAt key: [UInt8]) -> String {
        if key.count <= 6 { return Self.inline(key) }
        let number = state.withLock { state -> UInt64 in
            let number = state.next
            state.next = state.next % Self.span + 1
            state.keys[number] = key
            state.order.append(number)
            if state.order.count - state.oldest > capacity {
                state.keys[state.order[state.oldest]] = nil
                state.oldest += 1
                // Compact the queue now and then.
                if state.oldest > capacity {
                    state.order.removeFirst(state.oldest)
                    state.oldest = 0
                }
            }
            return number
        }
        return String(Self.marker + number)
    }

    /// The key a cursor resumes at (empty for "0"), or `nil` for a malformed or forgotten one.
    package func key(for cursor: [UInt8]) -> [UInt8]? {
        if cursor == [UInt8(ascii: "0")] { return [] }
        guard let first = cursor.first else { return nil }
        if first == UInt8(ascii: "1") { return Self.decodeInline(cursor) }
        guard first == UInt8(ascii: "2"), cursor.count == 19, let value = UInt64(String(decoding: cursor, as: UTF8.self)), value > Self.marker else {
            return nil
        }
        return state.withLock { $0.keys[value - Self.marker] }
    }

    /// "1" and three digits per byte.
    static func inline(_ key: [UInt8]) -> String {
        var text = "1"
        text.reserveCapacity(1 + key.count * 3)
        for byte in key {
            text.append(Character(UnicodeScalar(48 + byte / 100)))
            text.append(Character(UnicodeScalar(48 + byte / 10 % 10)))
            text.append(Character(UnicodeScalar(48 + byte % 10)))
        }
        return text
    }

    static func decodeInline(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.first == UInt8(ascii: "1"), (bytes.count - 1) % 3 == 0, bytes.count > 1, bytes.count <= 19,
            bytes.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        var key: [UInt8] = []
        var index = 1
        while index < bytes.count {
            let value = Int(bytes[index] - 48) * 100 + Int(bytes[index + 1] - 48) * 10 + Int(bytes[index + 2] - 48)
            guard value <= 255 else { return nil }
            key.append(UInt8(value))
            index += 3
        }
        return key
    }
}
