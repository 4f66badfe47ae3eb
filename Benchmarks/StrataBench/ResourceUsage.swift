#if canImport(Glibc)
import Glibc
#endif

/// Process-wide resource figures printed after a run.
enum ResourceUsage {
    /// Peak resident set size in bytes (`getrusage`).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
    }

    /// Bytes this process caused to be written to storage (`write_bytes` in `/proc/self/io`),
    /// or `nil` where the kernel does not report it.
    static func storageBytesWritten() -> Int? {
        guard let file = fopen("/proc/self/io", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("write_bytes:") {
                return Int(text.dropFirst("write_bytes:".count).trimmingSpaces())
            }
        }
        return nil
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\n" || last == "\t" { text.removeLast() }
        return text
    }
}
