import Encoding
import VFS
// See Docs/formats/wal.md.

/// Constants shared by the WAL writer and reader.
public enum WALFormat {
    /// Records are framed in blocks of this size; fragments never cross a block boundary.
    package static let blockSize = 32 * 1024
    /// checksum (4) + length (2) + type (1).
    package static let fragmentHeaderSize = 7
    /// The fixed segment header at the start of every segment file.
    package static let segmentHeaderSize = 64
    /// The segment header's magic: ASCII "STRATWAL".
    package static let magic: [UInt8] = Array("STRATWAL".utf8)
    /// The format version this build writes and the newest it reads.
    package static let formatVersion: UInt16 = 1
    /// The default largest record a writer accepts.
    public static let defaultMaxRecordSize = 64 << 20
    /// The user-space buffer a segment writer fills before calling `write`.
    package static let defaultBufferSize = 64 * 1024

    /// The checksum stored in a fragment header: covers the payload, the type and the length.
    @inlinable
    package static func fragmentChecksum(_ payload: UnsafeRawBufferPointer, type: UInt8) -> UInt32 {
        Checksum.xxh3Low32(payload, seed: UInt64(type) | UInt64(payload.count) << 8)
    }
}

/// The type byte of a fragment. Raw values are on disk: never reuse a retired number.
package enum FragmentType: UInt8, Sendable {
    /// A whole record.
    case full = 1
    /// The first fragment of a record that continues in later fragments.
    case first = 2
    /// An interior fragment.
    case middle = 3
    /// The last fragment of a record.
    case last = 4
}
