import Encoding

/// Values of a binary record read in place, for field filters and the decoder's common scalars:
/// raw pointers, no reader values, coding paths or allocations (a filter tests every entry of a
/// range, a decode reads every field). Anything unexpected answers `nil`, and the caller takes
/// `BinaryRecordDecoder`'s checked path, which throws the precise error. Format: Docs/formats/record-values.md.
enum RecordFieldProbe {
    /// Where the value of field `wanted` (UTF-8) starts in the object `record`: `.some(nil)`
    /// when the field is absent or null, `nil` when the bytes are not a well-formed object.
    static func valueStart(of wanted: UnsafeRawBufferPointer, in record: UnsafeRawBufferPointer) -> Int?? {
        guard record.count > 0, record[0] == RecordTag.object.rawValue else { return nil }
        var position = 1
        guard let bodyLength = varint(record, &position), bodyLength <= UInt64(record.count - position) else { return nil }
        let end = position + Int(bodyLength)
        guard let count = varint(record, &position, end: end) else { return nil }
        for _ in 0..<count {
            guard let nameLength = varint(record, &position, end: end), nameLength <= UInt64(end - position) else { return nil }
            let length = Int(nameLength)
            var matches = length == wanted.count
            // Names are short: compared here rather than through a memcmp call.
            var index = 0
            while matches && index < length {
                matches = record[position + index] == wanted[index]
                index += 1
            }
            position += length
            guard position < end else { return nil }
            if matches { return record[position] == RecordTag.null.rawValue ? .some(nil) : .some(position) }
            guard skipValue(record, &position, end: end) else { return nil }
        }
        return .some(nil)
    }

    /// The string value at `start`; `nil` when it is not a string or not valid UTF-8.
    static func string(at start: Int, in record: UnsafeRawBufferPointer) -> String? {
        guard start < record.count, record[start] == RecordTag.string.rawValue else { return nil }
        var position = start + 1
        guard let length = varint(record, &position), length <= UInt64(record.count - position) else { return nil }
        // In bounds (checked just above); the bytes are a record's, so bound to UInt8 already.
        let utf8 = UnsafeRawBufferPointer(rebasing: record[position..<(position + Int(length))]).assumingMemoryBound(to: UInt8.self)
        return RecordText.string(utf8)
    }

    /// The integer at `start` as a `Value`; `nil` when it is not an integer or does not fit.
    static func integer<Value: FixedWidthInteger>(_ type: Value.Type, at start: Int, in record: UnsafeRawBufferPointer) -> Value? {
        guard start < record.count else { return nil }
        var position = start + 1
        switch record[start] {
        case RecordTag.signed.rawValue:
            guard let raw = varint(record, &position) else { return nil }
            return Value(exactly: Zigzag.decode(raw))
        case RecordTag.unsigned.rawValue:
            guard let raw = varint(record, &position) else { return nil }
            return Value(exactly: raw)
        default:
            return nil
        }
    }

    /// A varint at `position` (moved past it), read no further than `end` (the buffer's end
    /// when `nil`).
    @inline(__always)
    private static func varint(_ record: UnsafeRawBufferPointer, _ position: inout Int, end: Int? = nil) -> UInt64? {
        let limit = end ?? record.count
        guard position < limit, let base = record.baseAddress else { return nil }
        // In bounds: position < limit <= record.count, and decode64 reads no further than limit.
        guard let (value, length) = Varint.decode64(base + position, end: base + limit) else { return nil }
        position += length
        return value
    }

    /// Moves `position` past one value; `false` for bytes that are not one.
    private static func skipValue(_ record: UnsafeRawBufferPointer, _ position: inout Int, end: Int) -> Bool {
        guard position < end, let tag = RecordTag(rawValue: record[position]) else { return false }
        position += 1
        switch tag {
        case .null, .false, .true: return true
        case .signed, .unsigned: return varint(record, &position, end: end) != nil
        case .float, .double:
            let width = tag == .float ? 4 : 8
            guard end - position >= width else { return false }
            position += width
            return true
        case .string, .bytes, .array, .object:
            guard let length = varint(record, &position, end: end), length <= UInt64(end - position) else { return false }
            position += Int(length)
            return true
        }
    }
}
