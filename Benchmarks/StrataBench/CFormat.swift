#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `printf`-style formatting through the C library, so figures print exactly as db_bench
/// prints them (`%11.3f`, `%6.1f`, `%ld`). Arguments must be numbers: Swift strings are padded
/// with `padRight` instead.
func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
    var capacity = 256
    while true {
        var buffer = [CChar](repeating: 0, count: capacity)
        // A va_list is consumed by one call, so each attempt makes a fresh one.
        let needed = withVaList(arguments) { list in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, capacity, format, list) }
        }
        if needed < 0 { return format }
        if Int(needed) < capacity {
            return String(decoding: buffer.prefix(Int(needed)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        capacity = Int(needed) + 1
    }
}

extension String {
    /// `self` followed by spaces up to `width` characters (`%-Ns`).
    func padRight(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
