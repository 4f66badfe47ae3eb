#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Strata
import VFS

/// Options for tests: in memory, tiny buffers and levels so flushes and compactions happen all
/// the time, logs silenced.
func testOptions(_ fileSystem: any FileSystem, background: Bool = true) -> Options {
    var options = Options()
    options.fileSystem = fileSystem
    options.writeBufferSize = 32 << 10
    options.blockSize = 512
    options.targetFileSize = 16 << 10
    options.maxBytesForLevelBase = 64 << 10
    options.levelMultiplier = 4
    options.level0CompactionTrigger = 3
    options.level0SlowdownTrigger = 8
    options.level0StopTrigger = 12
    options.blockCacheSize = 256 << 10
    options.backgroundWork = background
    options.logger.logLevel = .critical
    return options
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A reference model of the database over a fixed key space, with full history so reads at any
/// snapshot can be answered. Range deletes are applied eagerly to every key of the space they
/// cover, which is exact because the space is fixed.
struct ReferenceDatabase {
    let keys: [[UInt8]]
    /// For each key, its versions in sequence order: (sequence, value or nil for deleted).
    private(set) var history: [[(sequence: UInt64, value: [UInt8]?)]]
    private(set) var sequence: UInt64 = 0

    init(keyCount: Int) {
        keys = (0..<keyCount).map { Array("key\(String($0).leftPadded(to: 5))".utf8) }  // sorted
        history = Array(repeating: [], count: keyCount)
    }

    mutating func put(_ index: Int, _ value: [UInt8]) {
        sequence += 1
        history[index].append((sequence, value))
    }

    mutating func delete(_ index: Int) {
        sequence += 1
        history[index].append((sequence, nil))
    }

    /// Deletes key indices `[from, to)`.
    mutating func deleteRange(_ from: Int, _ to: Int) {
        sequence += 1
        for index in from..<to { history[index].append((sequence, nil)) }
    }

    /// The value of key `index` at `snapshot`.
    func value(_ index: Int, at snapshot: UInt64) -> [UInt8]? {
        history[index].last { $0.sequence <= snapshot }?.value ?? nil
    }

    /// The visible entries with key indices in `[from, to)` at `snapshot`.
    func entries(from: Int, to: Int, at snapshot: UInt64) -> [(key: [UInt8], value: [UInt8])] {
        (from..<to).compactMap { index in value(index, at: snapshot).map { (keys[index], $0) } }
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; its last answer.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = WallClock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    while WallClock.monotonicNanoseconds() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
