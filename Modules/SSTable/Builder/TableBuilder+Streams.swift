import Encoding
import Memtable
import VFS

extension TableBuilder {
    /// Builds a table from a frozen memtable's flush streams — every point entry and every range
    /// tombstone, all versions — with no translation between the two layers.
    public static func build(
        from source: FlushSource, fileSystem: any FileSystem, directory: String, fileNumber: UInt64,
        options: TableBuilderOptions = TableBuilderOptions()
    ) throws -> TableMetadata {
        var points = source.points
        var tombstones = source.rangeTombstones
        return try build(points: &points, rangeTombstones: &tombstones, fileSystem: fileSystem, directory: directory, fileNumber: fileNumber, options: options)
    }

    /// Builds a table from any sorted internal-key stream of point entries and any stream of
    /// range tombstones (keys `(start, sequence, .rangeDelete)`, values the end keys). Both
    /// streams are read from their first entry to the end.
    ///
    /// - Throws: read errors of the streams, write errors; the partial file is deleted.
    public static func build<Points: InternalIterator, Tombstones: InternalIterator>(
        points: inout Points, rangeTombstones: inout Tombstones, fileSystem: any FileSystem, directory: String,
        fileNumber: UInt64, options: TableBuilderOptions = TableBuilderOptions()
    ) throws -> TableMetadata {
        let builder = try TableBuilder(fileSystem: fileSystem, directory: directory, fileNumber: fileNumber, options: options)
        do {
            try points.seekToFirst()
            while points.isValid {
                try builder.add(key: points.key, value: points.value)
                try points.next()
            }
            try rangeTombstones.seekToFirst()
            while rangeTombstones.isValid {
                try builder.addRangeTombstone(try RangeTombstone(internalKey: rangeTombstones.key, end: rangeTombstones.value))
                try rangeTombstones.next()
            }
            return try builder.finish()
        } catch {
            builder.abandon()
            throw error
        }
    }
}

extension RangeTombstone {
    /// Decodes a tombstone stored as internal key `(start, sequence, .rangeDelete)` → end.
    package init(internalKey: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, file: String = "<memory>", offset: Int = 0) throws {
        let key = try InternalKey(decoding: internalKey, file: file, offset: offset)
        guard key.kind == .rangeDelete else {
            throw StrataError.corruption(file: file, offset: offset, reason: "range tombstone entry has kind \(key.kind)")
        }
        self.init(start: key.userKey, end: Array(end), sequence: key.sequence)
    }
}
