#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints `line` to stdout and flushes it.
func emit(_ line: String) {
    print(line)
    fflush(nil)  // flushes stdout without naming the (non-Sendable) C global
}

/// Writes `text` to stderr, unbuffered (no `FILE` buffering: a progress bar shows at once).
public func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(2, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { break }
            offset += written
        }
    }
}
