import Encoding

/// The entries of a key range, in order or reversed: `Database.scan(from:to:at:reverse:)`.
///
/// Iterate asynchronously (`for try await (key, value) in db.scan(…)`) or synchronously through
/// the iterator, whose `next()` is an ordinary throwing function:
///
/// ```swift
/// var entries = db.scan(from: start).makeAsyncIterator()
/// while let (key, value) = try entries.next() { … }
/// ```
///
/// The scan reads one consistent snapshot (the one given, or the latest data when iteration
/// starts). Errors (a damaged table, a closed database) are thrown by `next()`.
public struct ScanSequence: AsyncSequence, Sendable {
    /// A key and its value.
    public typealias Element = (key: [UInt8], value: [UInt8])

    let database: Database
    let options: ReadOptions
    let reverse: Bool

    public func makeAsyncIterator() -> Iterator {
        Iterator(database: database, options: options, reverse: reverse)
    }

    /// Calls `body` for every entry, in order.
    public func forEach(_ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) throws {
        var iterator = makeAsyncIterator()
        while let (key, value) = try iterator.next() { try body(key, value) }
    }

    /// Every entry, in order.
    public func collect() throws -> [Element] {
        var result: [Element] = []
        try forEach { result.append(($0, $1)) }
        return result
    }

    /// Iterates a scan; `next()` is synchronous (it also satisfies `AsyncIteratorProtocol`).
    public struct Iterator: AsyncIteratorProtocol {
        let database: Database
        let options: ReadOptions
        let reverse: Bool
        private var cursor: Cursor?

        init(database: Database, options: ReadOptions, reverse: Bool) {
            self.database = database
            self.options = options
            self.reverse = reverse
        }

        /// The next entry, or `nil` at the end.
        public mutating func next() throws -> Element? {
            if let cursor {
                guard cursor.isValid else { return nil }
                if reverse { try cursor.prev() } else { try cursor.next() }
            } else {
                let cursor = try database.cursor(options)
                if reverse { try cursor.seekToLast() } else { try cursor.seekToFirst() }
                self.cursor = cursor
            }
            guard let cursor, cursor.isValid else { return nil }
            return (cursor.key, cursor.value)
        }
    }
}
