#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding

/// A whole file mapped read-only (`FileSystem.openMappedReadable`), for immutable files such as
/// tables: `mappedBytes` lets readers verify and parse blocks in place, with no system call and
/// no copy; `read(at:into:)` copies out of the mapping.
///
/// The file must not shrink while mapped (tables never do): touching a page past a truncated end
/// would raise `SIGBUS`. Its size is the size at open.
///
/// Thread safety: `@unchecked Sendable` because the mapping is read-only and never changes
/// while this object lives; it is unmapped when the last reference goes, so blocks that borrow
/// it (holding this object) stay valid.
final class PosixMappedReadableFile: ReadableFile, @unchecked Sendable {
    let path: String
    private let mapping: UnsafeRawPointer
    private let length: Int

    init(mapping: UnsafeRawPointer, size: Int, path: String) {
        self.mapping = mapping
        self.length = size
        self.path = path
    }

    deinit {
        _ = munmap(UnsafeMutableRawPointer(mutating: mapping), length)
    }

    var mappedBytes: UnsafeRawBufferPointer? { UnsafeRawBufferPointer(start: mapping, count: length) }

    func releaseResidentPages() {
        // The mapping is read-only over a file that does not change: after MADV_DONTNEED a
        // concurrent or later read faults the same bytes back in from the page cache (the
        // mapping keeps the file alive even once it is unlinked), so readers never notice.
        _ = madvise(UnsafeMutableRawPointer(mutating: mapping), length, MADV_DONTNEED)
    }

    func prefetch(at offset: UInt64, count: Int) {
        guard count > 0, offset < UInt64(length) else { return }
        // madvise needs a page-aligned start; the range is clipped to the mapping.
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(offset) / pageSize * pageSize
        let end = min(length, Int(offset) + count)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: mapping + start), end - start, MADV_WILLNEED)
    }

    func size() throws -> UInt64 { UInt64(length) }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let destination = buffer.baseAddress, buffer.count > 0, offset < UInt64(length) else { return 0 }
        let count = min(buffer.count, length - Int(offset))
        destination.copyMemory(from: mapping + Int(offset), byteCount: count)
        return count
    }
}
