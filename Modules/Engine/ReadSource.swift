import Compaction
import Encoding
import Memtable

/// One input of a cursor's merge: a memtable or a level of tables, boxed in a class so the merge
/// can hold different kinds side by side and mutate them in place (a struct enum would copy a
/// table iterator's references in and out on every step).
class ReadSource: InternalIterator {
    var isValid: Bool { fatalError("abstract") }
    var key: UnsafeRawBufferPointer { fatalError("abstract") }
    var value: UnsafeRawBufferPointer { fatalError("abstract") }
    func seekToFirst() throws { fatalError("abstract") }
    func seekToLast() throws { fatalError("abstract") }
    func seek(to target: UnsafeRawBufferPointer) throws { fatalError("abstract") }
    func seekForPrev(to target: UnsafeRawBufferPointer) throws { fatalError("abstract") }
    func next() throws { fatalError("abstract") }
    func prev() throws { fatalError("abstract") }
}

/// A memtable as a merge input.
final class MemtableReadSource: ReadSource {
    // Unchecked: a source belongs to one cursor, used by one thread at a time, and no access
    // to `iterator` overlaps another (each override is one call on it).
    @exclusivity(unchecked) private var iterator: MemtableIterator

    init(_ iterator: MemtableIterator) {
        self.iterator = iterator
    }

    override var isValid: Bool { iterator.isValid }
    override var key: UnsafeRawBufferPointer { iterator.key }
    override var value: UnsafeRawBufferPointer { iterator.value }
    override func seekToFirst() { iterator.seekToFirst() }
    override func seekToLast() { iterator.seekToLast() }
    override func seek(to target: UnsafeRawBufferPointer) { iterator.seek(to: target) }
    override func seekForPrev(to target: UnsafeRawBufferPointer) { iterator.seekForPrev(to: target) }
    override func next() { iterator.next() }
    override func prev() { iterator.prev() }
}

/// A level (or one level-0 table) as a merge input.
final class LevelReadSource: ReadSource {
    // Unchecked for the reason given on `MemtableReadSource.iterator`.
    @exclusivity(unchecked) private var iterator: LevelIterator

    init(_ iterator: LevelIterator) {
        self.iterator = iterator
    }

    override var isValid: Bool { iterator.isValid }
    override var key: UnsafeRawBufferPointer { iterator.key }
    override var value: UnsafeRawBufferPointer { iterator.value }
    override func seekToFirst() throws { try iterator.seekToFirst() }
    override func seekToLast() throws { try iterator.seekToLast() }
    override func seek(to target: UnsafeRawBufferPointer) throws { try iterator.seek(to: target) }
    override func seekForPrev(to target: UnsafeRawBufferPointer) throws { try iterator.seekForPrev(to: target) }
    override func next() throws { try iterator.next() }
    override func prev() throws { try iterator.prev() }
}
