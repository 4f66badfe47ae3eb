#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Engine

/// The exit codes of `strata`, documented in `strata --help`.
public enum ToolExit: Int32, Sendable {
    /// Success.
    case ok = 0
    /// `get` found no value.
    case notFound = 1
    /// Bad command line or input.
    case usage = 2
    /// Damaged data.
    case corruption = 3
    /// An I/O failure, or the database is locked or read-only.
    case io = 4

    /// The exit code for an engine error.
    public static func code(for error: StrataError) -> ToolExit {
        switch error {
        case .corruption, .incompatible: return .corruption
        case .io, .locked, .closed, .readOnly: return .io
        case .invalidArgument: return .usage
        }
    }
}

/// Thrown by commands to end with a specific exit code (after printing what they had to say).
public struct ToolFailure: Error, Sendable {
    /// The exit code.
    public var exit: ToolExit
    /// A one-line message for stderr (empty: nothing to add).
    public var message: String

    /// Creates a failure.
    public init(_ exit: ToolExit, _ message: String = "") {
        self.exit = exit
        self.message = message
    }
}

/// Keys and values on the command line and in output: UTF-8 text, or hex with `--hex`.
public struct ByteText: Sendable {
    /// Whether hex is used.
    public var hex: Bool

    /// Creates a codec.
    public init(hex: Bool) {
        self.hex = hex
    }

    /// Decodes an argument.
    ///
    /// - Throws: `ToolFailure(.usage)` for malformed hex.
    public func decode(_ text: Substring) throws -> [UInt8] {
        guard hex else { return Array(text.utf8) }
        guard text.utf8.count % 2 == 0 else { throw ToolFailure(.usage, "hex \"\(text)\" has an odd number of digits") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8? = nil
        for character in text.utf8 {
            guard let digit = ByteText.hexValue(character) else { throw ToolFailure(.usage, "\"\(text)\" is not hex") }
            if let pending = high {
                bytes.append(pending << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        return bytes
    }

    /// Decodes an argument.
    public func decode(_ text: String) throws -> [UInt8] { try decode(Substring(text)) }

    /// Encodes bytes for output.
    public func encode(_ bytes: some Collection<UInt8>) -> String {
        if hex {
            let digits = Array("0123456789abcdef".utf8)
            var out = [UInt8]()
            out.reserveCapacity(bytes.count * 2)
            for byte in bytes {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            }
            return String(decoding: out, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Options every command shares: where the database is and how to tune it.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Database directory (default: $STRATA_DB or ./strata-data).")
    public var db: String?

    @Flag(name: .customLong("create-if-missing"), help: "Create the database if it does not exist (default for write commands).")
    public var createIfMissing = false

    @Flag(name: .customLong("no-create-if-missing"), help: "Never create the database, even for writes.")
    public var noCreateIfMissing = false

    @Flag(name: .long, help: "Keys and values are given and printed as hex.")
    public var hex = false

    @Option(name: .customLong("write-buffer-size"), help: "Memtable size in bytes before a flush.")
    public var writeBufferSize: Int?

    @Option(name: .customLong("block-size"), help: "Table data block size in bytes.")
    public var blockSize: Int?

    @Option(name: .long, help: "Table compression: none, lz4 or zstd.")
    public var compression: String?

    @Option(name: .customLong("bloom-bits"), help: "Bloom filter bits per key (0 disables filters).")
    public var bloomBits: Int?

    @Option(name: .customLong("target-file-size"), help: "Compaction output file size in bytes.")
    public var targetFileSize: UInt64?

    @Option(name: .customLong("level0-compaction-trigger"), help: "Level-0 files that trigger a compaction.")
    public var level0CompactionTrigger: Int?

    @Option(name: .customLong("block-cache-size"), help: "Block cache capacity in bytes.")
    public var blockCacheSize: Int?

    @Flag(name: .customLong("sync-writes"), help: "Sync every write to disk before acknowledging it.")
    public var syncWrites = false

    @Flag(name: .long, help: "Log engine activity (flushes, compactions) to stderr.")
    public var verbose = false

    public init() {}

    /// The database directory.
    public var path: String {
        if let db { return db }
        if let environment = getenv("STRATA_DB") { return String(cString: environment) }
        return "./strata-data"
    }

    /// Engine options from the flags.
    public func options(forWriting writing: Bool) throws -> Options {
        var options = Options()
        options.createIfMissing = writing ? !noCreateIfMissing : createIfMissing
        options.logger.logLevel = verbose ? .info : .warning
        if let writeBufferSize { options.writeBufferSize = writeBufferSize }
        if let blockSize { options.blockSize = blockSize }
        if let bloomBits { options.bloomBitsPerKey = bloomBits }
        if let targetFileSize { options.targetFileSize = targetFileSize }
        if let level0CompactionTrigger {
            options.level0CompactionTrigger = level0CompactionTrigger
            options.level0SlowdownTrigger = max(options.level0SlowdownTrigger, level0CompactionTrigger)
            options.level0StopTrigger = max(options.level0StopTrigger, options.level0SlowdownTrigger)
        }
        if let blockCacheSize { options.blockCacheSize = blockCacheSize }
        options.syncWrites = syncWrites
        switch compression?.lowercased() {
        case nil: break
        case "none": options.compression = .none
        case "lz4": options.compression = .lz4
        case "zstd": options.compression = .zstd(level: 1)
        case let other?: throw ToolFailure(.usage, "unknown compression \"\(other)\" (none, lz4, zstd)")
        }
        return options
    }

    /// Opens the database.
    public func open(forWriting writing: Bool) throws -> Database {
        try Database.open(at: path, options: options(forWriting: writing))
    }

    /// The key/value codec.
    public var text: ByteText { ByteText(hex: hex) }
}

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

    /// The next line without its newline, or `nil` at the end.
    func next() -> Substring? {
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else { return nil }
        var length = count
        while length > 0 && (buffer[length - 1] == 10 || buffer[length - 1] == 13) { length -= 1 }
        return UnsafeRawBufferPointer(start: buffer, count: length).withMemoryRebound(to: UInt8.self) {
            Substring(String(decoding: $0, as: UTF8.self))
        }
    }

    /// Bytes read so far from a file (for progress), or 0 for stdin.
    var position: UInt64 { ownsFile ? UInt64(max(0, ftell(file))) : 0 }
}

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
