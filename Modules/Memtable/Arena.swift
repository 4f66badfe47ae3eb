#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding
import Synchronization

/// One contiguous bump-allocated region that holds a memtable's nodes, keys and values.
///
/// The region is reserved up front with `mmap(MAP_NORESERVE)`: the operating system commits
/// pages only as they are first touched, so reserving the maximum costs address space, not
/// memory. Because the region never moves, an allocation is named by a 32-bit **offset** from the
/// base (offset 0 is reserved to mean "none"), which halves the size of skiplist links compared
/// with pointers and keeps every node reachable from any thread without reference counting.
///
/// Thread safety: only the single writer allocates. `used` is published with a relaxed atomic so
/// other threads can read the memory usage; they never read allocation state otherwise.
package final class Arena: @unchecked Sendable {
    /// The start of the reserved region.
    let base: UnsafeMutableRawPointer
    /// The reserved size in bytes (at most 4 GiB, the reach of a 32-bit offset).
    package let capacity: Int
    /// Bytes handed out so far, including the reserved first 8 and alignment padding.
    private let usedBytes: Atomic<Int>
    /// The writer's own copy of `usedBytes` (no atomic load on the allocation path).
    private var next: Int

    /// The largest capacity an arena can have.
    static let maxCapacity = Int(UInt32.max)

    /// Reserves `capacity` bytes.
    ///
    /// - Throws: `StrataError.invalidArgument` for a capacity over 4 GiB; `.io` when the system
    ///   refuses the reservation.
    package init(capacity: Int) throws {
        guard capacity > 0, capacity <= Arena.maxCapacity else {
            throw StrataError.invalidArgument("memtable arena capacity \(capacity) must be between 1 byte and 4 GiB")
        }
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        guard let region = mmap(nil, capacity, PROT_READ | PROT_WRITE, flags, -1, 0), region != MAP_FAILED else {
            throw StrataError.io(path: "<memtable arena>", errno: errno, operation: "mmap \(capacity) bytes")
        }
        self.base = region
        self.capacity = capacity
        // Offset 0 means "no node"; start allocating at 8 so no allocation has offset 0.
        self.next = 8
        self.usedBytes = Atomic(8)
    }

    deinit {
        munmap(base, capacity)
    }

    /// Bytes allocated so far (exact: the arena's high-water mark).
    package var used: Int { usedBytes.load(ordering: .relaxed) }

    /// Bytes still available.
    package var remaining: Int { capacity - next }

    /// Allocates `size` bytes aligned to `alignment` (a power of two).
    ///
    /// - Returns: the offset of the allocation, or `nil` when the arena is full.
    /// - Precondition: Called only by the single writer.
    @inline(__always)
    package func allocate(_ size: Int, alignment: Int) -> UInt32? {
        let start = (next + alignment - 1) & ~(alignment - 1)
        guard start + size <= capacity else { return nil }
        next = start + size
        usedBytes.store(next, ordering: .relaxed)
        return UInt32(truncatingIfNeeded: start)
    }

    /// The address of `offset`.
    @inline(__always)
    package func pointer(_ offset: UInt32) -> UnsafeMutableRawPointer {
        base + Int(offset)
    }
}
