import Encoding
import SSTable

// See Docs/formats/manifest.md ("Keyspaces": the options bytes).

/// The table options of one named keyspace. A `nil` field takes the database's setting
/// (`Options`), as it is at each open.
///
/// They are recorded in the manifest with the keyspace, so flushes and compactions use them
/// even before the keyspace is opened again after a restart; opening it with other options
/// records those, and tables written from then on use them (existing tables keep theirs until
/// compaction rewrites them).
public struct KeyspaceOptions: Sendable, Hashable {
    /// Block compression of the keyspace's tables.
    public var compression: Compression?
    /// Bloom filter bits per key (0: no filter).
    public var bloomBitsPerKey: Int?
    /// Data block size before compression.
    public var blockSize: Int?

    /// Options that take every setting from the database's `Options`.
    public init(compression: Compression? = nil, bloomBitsPerKey: Int? = nil, blockSize: Int? = nil) {
        self.compression = compression
        self.bloomBitsPerKey = bloomBitsPerKey
        self.blockSize = blockSize
    }

    /// Checks the settings' ranges (those of `Options`).
    func validate() throws {
        if let blockSize, !Options.blockSizeRange.contains(blockSize) {
            throw StrataError.invalidArgument("keyspace blockSize must be between 64 bytes and 64 MiB")
        }
        if let bloomBitsPerKey, !Options.bloomBitsPerKeyRange.contains(bloomBitsPerKey) {
            throw StrataError.invalidArgument("keyspace bloomBitsPerKey must be between 0 and 64")
        }
        if case .zstd(let level)? = compression, !(1...22).contains(level) {
            throw StrataError.invalidArgument("keyspace zstd level must be between 1 and 22")
        }
    }

    /// The table builder options these settings give over the database's `base`.
    func tableBuilderOptions(over base: TableBuilderOptions) -> TableBuilderOptions {
        var options = base
        if let compression { options.compression = compression }
        if let bloomBitsPerKey { options.bloomBitsPerKey = bloomBitsPerKey }
        if let blockSize { options.blockSize = blockSize }
        return options
    }

    // MARK: - Encoding (the manifest's opaque options bytes)

    private enum Field: UInt8 {
        case compression = 1
        case bloomBitsPerKey = 2
        case blockSize = 3
    }

    /// The format version written first.
    private static let formatVersion: UInt8 = 1

    /// The bytes the manifest stores: a version byte, then `field: u8 | value` for each set field
    /// (compression: codec id u8, then for zstd the level as varint32; others: varint32).
    var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.appendUInt8(KeyspaceOptions.formatVersion)
        if let compression {
            writer.appendUInt8(Field.compression.rawValue)
            writer.appendUInt8(compression.codecID.rawValue)
            if case .zstd(let level) = compression { writer.appendVarint32(UInt32(clamping: level)) }
        }
        if let bloomBitsPerKey {
            writer.appendUInt8(Field.bloomBitsPerKey.rawValue)
            writer.appendVarint32(UInt32(clamping: bloomBitsPerKey))
        }
        if let blockSize {
            writer.appendUInt8(Field.blockSize.rawValue)
            writer.appendVarint32(UInt32(clamping: blockSize))
        }
        return writer.bytes
    }

    /// Decodes the manifest's bytes for keyspace `name`.
    ///
    /// - Throws: `.incompatible` for a newer format version or field; `.corruption` for
    ///   malformed bytes.
    init(decoding bytes: [UInt8], keyspace name: String) throws {
        self.init()
        let file = "<options of keyspace \(name)>"
        try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, file: file, baseOffset: 0)
            guard !reader.isAtEnd else { return }
            let version = try reader.readUInt8("options version")
            guard version == KeyspaceOptions.formatVersion else {
                throw StrataError.incompatible(file: file, reason: "options format \(version) was written by a newer version of Strata")
            }
            while !reader.isAtEnd {
                let tag = try reader.readUInt8("options field")
                guard let field = Field(rawValue: tag) else {
                    throw StrataError.incompatible(file: file, reason: "options field \(tag) was written by a newer version of Strata")
                }
                switch field {
                case .compression:
                    let id = try reader.readUInt8("compression")
                    switch CodecID(rawValue: id) {
                    case .none?: compression = Compression.none
                    case .lz4?: compression = .lz4
                    case .zstd?: compression = .zstd(level: Int32(clamping: try reader.readVarint32("zstd level")))
                    case nil: throw reader.corruption("unknown compression \(id)")
                    }
                case .bloomBitsPerKey:
                    bloomBitsPerKey = Int(try reader.readVarint32("bloom bits per key"))
                case .blockSize:
                    blockSize = Int(try reader.readVarint32("block size"))
                }
            }
        }
        try validate()
    }
}
