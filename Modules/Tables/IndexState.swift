import Encoding

/// Where a secondary index stands. A new index (declared on a table that did not have it) is
/// `building` until its backfill has covered every record that existed when it was added;
/// writes keep it up to date from the moment it is declared. Queries use `ready` indexes only.
public enum IndexState: Sendable, Equatable, CustomStringConvertible {
    /// Being backfilled; `progress` is the last record key covered (`nil`: not started).
    case building(progress: [UInt8]?)
    /// Complete: every record has its entries.
    case ready
    /// The backfill stopped for good (a unique index found two records with one value); the
    /// index is not used. Fix the records, then `Table.rebuildIndex(_:)`.
    case failed(reason: String)

    /// The state in words (`ready`, `building`, `failed: …`).
    public var description: String {
        switch self {
        case let .building(progress): return progress == nil ? "building (not started)" : "building"
        case .ready: return "ready"
        case let .failed(reason): return "failed: \(reason)"
        }
    }

    /// The stored form: `00` ++ progress key, `01`, or `02` ++ the reason in UTF-8, with the
    /// high bit of the first byte set for a unique index (so tools that know no schema can tell
    /// how its entries are laid out).
    func encoded(unique: Bool) -> [UInt8] {
        var bytes: [UInt8]
        switch self {
        case let .building(progress): bytes = [0] + (progress ?? [])
        case .ready: bytes = [1]
        case let .failed(reason): bytes = [2] + Array(reason.utf8)
        }
        if unique { bytes[0] |= IndexState.uniqueFlag }
        return bytes
    }

    static let uniqueFlag: UInt8 = 0x80

    /// Whether a stored state belongs to a unique index.
    static func isUnique(encoded bytes: [UInt8]) -> Bool { (bytes.first ?? 0) & uniqueFlag != 0 }

    init(encoded bytes: [UInt8], index: String) throws {
        switch bytes.first.map({ $0 & ~IndexState.uniqueFlag }) {
        case 0: self = .building(progress: bytes.count > 1 ? Array(bytes[1...]) : nil)
        case 1 where bytes.count == 1: self = .ready
        case 2: self = .failed(reason: String(decoding: bytes[1...], as: UTF8.self))
        default:
            throw StrataError.corruption(file: "index \(index) state", offset: 0, reason: "not a state encoding (\(bytes.count) bytes, first \(bytes.first.map(String.init) ?? "none"))")
        }
    }
}
