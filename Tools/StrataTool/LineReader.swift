#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a file or stdin with `getline`, without Foundation.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity = 0

    /// Reads `path`, or standard input for `-`.
    init(path: String) throws {
        if path == "-" {
            // Our own stream over descriptor 0 (the C `stdin` global is not Sendable).
            guard let input = fdopen(0, "r") else { throw ToolFailure(.io, "cannot read standard input") }
            file = input
            ownsFile = false
        } else {
            guard let opened = fopen(path, "r") else { throw ToolFailure(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
            file = opened
            ownsFile = true
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    /// Lines read so far (the number of the line `next()` returned last).
    private(set) var lineNumber = 0

    /// The next line without its line ending (`\n` or `\r\n`), or `nil` at the end.
    ///
    /// - Throws: `ToolFailure(.usage)` naming the line when it is not valid UTF-8 (bytes are
    ///   never replaced); the reader has moved past it.
    func next() throws -> Substring? {
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else { return nil }
        lineNumber += 1
        var length = count
        if length > 0 && buffer[length - 1] == 10 { length -= 1 }
        if length > 0 && buffer[length - 1] == 13 { length -= 1 }
        let line = UnsafeRawBufferPointer(start: buffer, count: length).withMemoryRebound(to: UInt8.self) {
            String(validating: $0, as: UTF8.self)
        }
        guard let line else {
            throw ToolFailure(.usage, "line \(lineNumber) is not valid UTF-8; write such bytes as \\xHH escapes, or use --hex")
        }
        return Substring(line)
    }

    /// Bytes read so far from a file (for progress), or 0 for stdin.
    var position: UInt64 { ownsFile ? UInt64(max(0, ftell(file))) : 0 }
}
