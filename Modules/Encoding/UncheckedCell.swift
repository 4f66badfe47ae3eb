/// A heap cell for a value whose accesses the owner already serialises — under a lock, or by a
/// handover such as the commit queue's one leader at a time.
///
/// A `var` stored in a class costs a dynamic exclusivity check on every access (about 75
/// instructions each, measured with callgrind on the commit path, where a write made a dozen of
/// them). The value here lives behind a pointer, which the runtime does not track, so the caller
/// must guarantee what the check would have: no two accesses overlap, and at most one thread
/// touches the cell at a time.
@usableFromInline
package final class UncheckedCell<Value>: @unchecked Sendable {
    // Owned by this cell: initialised in `init`, deinitialised and freed in `deinit`.
    @usableFromInline let pointer: UnsafeMutablePointer<Value>

    @inlinable
    package init(_ value: Value) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: value)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }

    /// The value, read or modified in place (callers serialise; see the type's comment).
    @inlinable
    package var value: Value {
        _read { yield pointer.pointee }
        _modify { yield &pointer.pointee }
    }
}
