// See Docs/formats/manifest.md ("Keyspaces").

/// What the manifest records about one named keyspace: its number, its name and its options
/// (opaque bytes the engine encodes; the manifest only stores them).
///
/// The default keyspace (number 0) has no descriptor: it is what a database without keyspaces
/// holds, so databases written before keyspaces existed open unchanged.
public struct KeyspaceDescriptor: Sendable, Hashable {
    /// The default keyspace's number.
    public static let defaultID: UInt32 = 0

    /// The keyspace's number: unique in the database, never reused after a drop, never 0.
    public var id: UInt32
    /// The name callers open it by.
    public var name: String
    /// The engine's encoding of the keyspace's options.
    public var options: [UInt8]

    /// Creates a descriptor.
    public init(id: UInt32, name: String, options: [UInt8] = []) {
        self.id = id
        self.name = name
        self.options = options
    }
}
