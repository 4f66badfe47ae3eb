#if canImport(Glibc)
import Glibc
#endif

/// The expected state of every key, in a file mapped `MAP_SHARED` so that it survives the
/// process being killed: stores into it land in the page cache at once.
///
/// Layout (little-endian):
///
///     0   magic "STRSTAT1"                 8 bytes
///     8   key count                        UInt32
///     12  activity flags at the last beat  UInt32 (1 flushing, 2 compacting, 4 writes in flight)
///     16  operations done                  UInt64
///     24  heartbeat count                  UInt64
///     32  reserved                         32 bytes
///     64  per key: acknowledged state, pending state    UInt32 + UInt32
///
/// A state is 0 for "never written", else `version << 1 | deleted`. `pending` is the state a
/// write in flight will give the key (0 when none): it is stored before the write is submitted
/// and cleared after the engine acknowledges it, when `acknowledged` takes its value. After a
/// kill a key may therefore show its acknowledged state or, if a write was in flight, its
/// pending one — nothing else.
///
/// Thread safety: a key's entries are written only while its stripe lock is held
/// (`KeyLocks`); the header by the heartbeat thread.
final class ExpectedState: @unchecked Sendable {
    static let magic: [UInt8] = Array("STRSTAT1".utf8)
    static let headerSize = 64

    let keyCount: Int
    private let base: UnsafeMutableRawPointer
    private let length: Int

    /// Opens (or creates, zeroed) the state file for `keyCount` keys.
    init(path: String, keyCount: Int) throws {
        self.keyCount = keyCount
        length = ExpectedState.headerSize + keyCount * 8
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StressError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        fstat(descriptor, &info)
        let fresh = info.st_size == 0
        if !fresh && Int(info.st_size) != length {
            throw StressError("\(path) holds \(info.st_size) bytes, expected \(length) for \(keyCount) keys")
        }
        if fresh {
            guard ftruncate(descriptor, off_t(length)) == 0 else { throw StressError("cannot size \(path)") }
        }
        guard let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapping != MAP_FAILED else {
            throw StressError("cannot map \(path)")
        }
        base = mapping
        if fresh {
            for (index, byte) in ExpectedState.magic.enumerated() { base.storeBytes(of: byte, toByteOffset: index, as: UInt8.self) }
            base.storeBytes(of: UInt32(keyCount), toByteOffset: 8, as: UInt32.self)
        } else {
            let magic = (0..<8).map { base.load(fromByteOffset: $0, as: UInt8.self) }
            guard magic == ExpectedState.magic, Int(base.load(fromByteOffset: 8, as: UInt32.self)) == keyCount else {
                throw StressError("\(path) is not an expected-state file for \(keyCount) keys")
            }
        }
    }

    deinit { munmap(base, length) }

    /// The acknowledged state of `key`.
    func acknowledged(_ key: Int) -> UInt32 { base.load(fromByteOffset: ExpectedState.headerSize + key * 8, as: UInt32.self) }

    /// The state of the write in flight on `key` (0: none).
    func pending(_ key: Int) -> UInt32 { base.load(fromByteOffset: ExpectedState.headerSize + key * 8 + 4, as: UInt32.self) }

    /// Records that a write giving `key` the state `state` is about to be submitted.
    func begin(_ key: Int, _ state: UInt32) {
        base.storeBytes(of: state, toByteOffset: ExpectedState.headerSize + key * 8 + 4, as: UInt32.self)
    }

    /// Records that the engine acknowledged the pending write of `key`.
    func commit(_ key: Int) {
        let state = pending(key)
        base.storeBytes(of: state, toByteOffset: ExpectedState.headerSize + key * 8, as: UInt32.self)
        base.storeBytes(of: 0, toByteOffset: ExpectedState.headerSize + key * 8 + 4, as: UInt32.self)
    }

    /// Records that the pending write of `key` failed (nothing was written).
    func abandon(_ key: Int) {
        base.storeBytes(of: 0, toByteOffset: ExpectedState.headerSize + key * 8 + 4, as: UInt32.self)
    }

    /// After a restart: the key holds `state` (its acknowledged or its pending one).
    func settle(_ key: Int, to state: UInt32) {
        base.storeBytes(of: state, toByteOffset: ExpectedState.headerSize + key * 8, as: UInt32.self)
        base.storeBytes(of: 0, toByteOffset: ExpectedState.headerSize + key * 8 + 4, as: UInt32.self)
    }

    /// Writes the heartbeat header.
    func beat(flags: UInt32, operations: UInt64) {
        base.storeBytes(of: flags, toByteOffset: 12, as: UInt32.self)
        base.storeBytes(of: operations, toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: base.load(fromByteOffset: 24, as: UInt64.self) &+ 1, toByteOffset: 24, as: UInt64.self)
    }

    /// The state after a write to `key` whose acknowledged state is `current`.
    static func next(after current: UInt32, deleted: Bool) -> UInt32 {
        ((current >> 1) + 1) << 1 | (deleted ? 1 : 0)
    }
}

/// Striped locks over the key space: a key's expected state and its writes are serialised by
/// its stripe; multi-key operations take their stripes in ascending order (no deadlock).
final class KeyLocks: @unchecked Sendable {
    // @unchecked: the mutexes are pthread mutexes, used only through lock/unlock.
    let stripes: Int
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>

    init(stripes: Int = 1024) {
        self.stripes = stripes
        mutexes = .allocate(capacity: stripes)
        for index in 0..<stripes { pthread_mutex_init(mutexes + index, nil) }
    }

    deinit {
        for index in 0..<stripes { pthread_mutex_destroy(mutexes + index) }
        mutexes.deallocate()
    }

    /// Runs `body` holding the stripes of every key in `keys`.
    func withLocks<Result>(_ keys: some Sequence<Int>, _ body: () throws -> Result) rethrows -> Result {
        let chosen = Set(keys.map { $0 % stripes }).sorted()
        for stripe in chosen { pthread_mutex_lock(mutexes + stripe) }
        defer { for stripe in chosen.reversed() { pthread_mutex_unlock(mutexes + stripe) } }
        return try body()
    }
}

/// A stress failure, printed as one line.
struct StressError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
