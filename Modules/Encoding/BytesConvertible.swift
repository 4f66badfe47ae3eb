/// A value whose contents Strata can read as bytes in place: keys and values of every write,
/// lookup and range bound.
///
/// Conforming types: `[UInt8]`, `ArraySlice<UInt8>`, `ContiguousArray<UInt8>`,
/// `UnsafeRawBufferPointer`, `UnsafeBufferPointer<UInt8>`, `String` and `Substring` (their UTF-8
/// bytes), and — with `import Strata` — Foundation's `Data`.
///
/// ```swift
/// try db.put("user:1", "Ada")                     // String
/// try db.put(keyBytes, Data(json))                 // [UInt8], Data
/// try db.delete(buffer[4..<12])                    // ArraySlice<UInt8>
/// ```
///
/// Native Swift strings, arrays and buffers are read without a copy. (A bridged or lazily
/// decoded `String` is copied once into contiguous UTF-8.)
public protocol BytesConvertible {
    /// Calls `body` with the bytes. The buffer is valid only during the call.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension Array: BytesConvertible where Element == UInt8 {}
extension ArraySlice: BytesConvertible where Element == UInt8 {}
extension ContiguousArray: BytesConvertible where Element == UInt8 {}

extension UnsafeRawBufferPointer: BytesConvertible {
    /// Calls `body` with the buffer itself.
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(self)
    }
}

extension UnsafeBufferPointer: BytesConvertible where Element == UInt8 {
    /// Calls `body` with the buffer's bytes.
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(self))
    }
}

extension String: BytesConvertible {
    /// Calls `body` with the string's UTF-8 bytes (in place for native strings).
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
        return try Array(utf8).withUnsafeBytes(body)
    }
}

extension Substring: BytesConvertible {
    /// Calls `body` with the substring's UTF-8 bytes (in place when its base string is native).
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
        return try Array(utf8).withUnsafeBytes(body)
    }
}

/// A type a stored value (or key) can be read back as: `Database.get(_:as:)` and friends.
///
/// Conforming types: `[UInt8]`, `String` (strict UTF-8) and, with `import Strata`, `Data`.
public protocol BytesDecodable {
    /// Creates a value from stored bytes.
    ///
    /// - Throws: `StrataError.invalidArgument` when the bytes are not a valid encoding of the type
    ///   (for `String`: not valid UTF-8).
    init(strataBytes bytes: [UInt8]) throws
}

extension Array: BytesDecodable where Element == UInt8 {
    /// The bytes themselves.
    @inlinable
    public init(strataBytes bytes: [UInt8]) { self = bytes }
}

extension String: BytesDecodable {
    /// Decodes strict UTF-8: bytes that are not valid UTF-8 throw rather than turn into U+FFFD.
    public init(strataBytes bytes: [UInt8]) throws {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw StrataError.invalidArgument("stored bytes are not valid UTF-8 (\(bytes.count) bytes); read them as [UInt8]")
        }
        self = string
    }
}
