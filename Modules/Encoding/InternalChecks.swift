/// Invariant checks that cost nothing in release builds: compiled in only with
/// `-DSTRATA_INTERNAL_CHECKS` (which `make test` sets), in the manner of Pebble's `invariants`
/// build tag and swift-collections' `COLLECTIONS_INTERNAL_CHECKS`.
///
/// A failed check is a bug in Strata, never bad input (input errors are thrown as
/// `StrataError`), so it traps with the message and the place.
package enum InternalChecks {
    /// Whether this build checks invariants.
    #if STRATA_INTERNAL_CHECKS
    package static let enabled = true
    #else
    package static let enabled = false
    #endif

    /// Traps with `message` when `condition` is false, in builds with internal checks; does
    /// nothing (and evaluates nothing) otherwise.
    @inlinable
    @inline(__always)
    package static func check(
        _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        #if STRATA_INTERNAL_CHECKS
        if !condition() { preconditionFailure("internal check failed: \(message())", file: file, line: line) }
        #endif
    }
}
