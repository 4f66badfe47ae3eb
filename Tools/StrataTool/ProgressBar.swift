#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress bar on stderr, drawn only when stderr is a terminal.
public struct ProgressBar {
    let total: UInt64
    let label: String
    let enabled: Bool
    private var lastPercent = -1

    /// Creates a bar for `total` units.
    public init(total: UInt64, label: String) {
        self.total = max(1, total)
        self.label = label
        self.enabled = isatty(2) != 0
    }

    /// Shows `done` of `total`.
    public mutating func update(_ done: UInt64) {
        guard enabled else { return }
        let percent = Int(min(100, done * 100 / total))
        guard percent != lastPercent else { return }
        lastPercent = percent
        let filled = percent / 4
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 25 - filled)
        writeError("\r\(label) [\(bar)] \(percent)%")
    }

    /// Clears the bar.
    public func finish() {
        guard enabled else { return }
        writeError("\r" + String(repeating: " ", count: label.count + 35) + "\r")
    }
}
