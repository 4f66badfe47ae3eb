#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Strata

/// Changes for `StrataClient.write(_:sync:)`, applied atomically by the server in the order
/// added; each names its keyspace (`nil`: the default one; a named one must exist on the
/// server), so one batch may span keyspaces.
public struct RemoteWriteBatch: Sendable {
    /// The changes as the `Write` RPC carries them.
    public private(set) var mutations: [Strata_V1_Mutation] = []

    /// An empty batch.
    public init() {}

    /// Whether nothing was added.
    public var isEmpty: Bool { mutations.isEmpty }

    /// Adds a put of `key` → `value`.
    public mutating func put(_ key: some BytesConvertible, _ value: some BytesConvertible, keyspace: String? = nil) {
        mutations.append(.with {
            $0.put = .with { pair in pair.key = Data(bytes: key); pair.value = Data(bytes: value) }
            $0.keyspace = keyspace ?? ""
        })
    }

    /// Adds a delete of `key`.
    public mutating func delete(_ key: some BytesConvertible, keyspace: String? = nil) {
        mutations.append(.with {
            $0.delete = Data(bytes: key)
            $0.keyspace = keyspace ?? ""
        })
    }

    /// Adds a delete of every key in `[start, end)`.
    public mutating func deleteRange(from start: some BytesConvertible, to end: some BytesConvertible, keyspace: String? = nil) {
        mutations.append(.with {
            $0.deleteRange = .with { range in range.start = Data(bytes: start); range.end = Data(bytes: end) }
            $0.keyspace = keyspace ?? ""
        })
    }
}
