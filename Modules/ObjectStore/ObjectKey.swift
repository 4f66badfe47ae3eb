import Encoding

/// The rules every store applies to keys and arguments, so that data written to one store can
/// be copied to any other and every store refuses the same bad input with the same error.
public enum ObjectKey {
    /// Key segments starting with this are reserved for a store's own bookkeeping (the local
    /// store's staging and upload directories).
    public static let reservedSegmentPrefix = ".strata-"

    /// Checks a key: 1...1024 UTF-8 bytes of `/`-separated segments, each non-empty, not `.` or
    /// `..`, not starting with ``reservedSegmentPrefix``, and no control characters.
    ///
    /// - Throws: `StrataError.invalidArgument` naming the key and the rule it breaks.
    public static func validate(_ key: String) throws {
        let bytes = key.utf8
        guard !bytes.isEmpty else { throw StrataError.invalidArgument("object key is empty") }
        guard bytes.count <= ObjectStoreLimits.maximumKeyLength else {
            throw StrataError.invalidArgument("object key is \(bytes.count) bytes long; the limit is \(ObjectStoreLimits.maximumKeyLength)")
        }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw StrataError.invalidArgument("object key \(key.debugDescription) contains a control character")
        }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else {
                throw StrataError.invalidArgument("object key \(key.debugDescription) has an empty segment (a leading, trailing or doubled '/')")
            }
            guard segment != "." && segment != ".." else {
                throw StrataError.invalidArgument("object key \(key.debugDescription) has a '.' or '..' segment")
            }
            guard !segment.hasPrefix(reservedSegmentPrefix) else {
                throw StrataError.invalidArgument("object key \(key.debugDescription) uses the reserved segment prefix \(reservedSegmentPrefix)")
            }
        }
    }

    /// Checks a listing prefix: empty, or a key prefix by the same rules as a key (it may end
    /// with `/`).
    public static func validatePrefix(_ prefix: String) throws {
        guard !prefix.isEmpty else { return }
        let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard !trimmed.isEmpty else { throw StrataError.invalidArgument("listing prefix \"/\" matches no valid key") }
        try validate(trimmed)
    }

    /// Checks a listing's page size.
    public static func validateListLimit(_ limit: Int) throws {
        guard (1...ObjectStoreLimits.maximumListLimit).contains(limit) else {
            throw StrataError.invalidArgument("list limit \(limit) is outside 1...\(ObjectStoreLimits.maximumListLimit)")
        }
    }

    /// Checks a part number.
    public static func validatePartNumber(_ partNumber: Int) throws {
        guard (1...ObjectStoreLimits.maximumPartNumber).contains(partNumber) else {
            throw StrataError.invalidArgument("part number \(partNumber) is outside 1...\(ObjectStoreLimits.maximumPartNumber)")
        }
    }

    /// Checks the parts named when completing an upload: at least one, numbers valid and
    /// strictly ascending.
    public static func validateCompletedParts(_ parts: [CompletedPart]) throws {
        guard !parts.isEmpty else { throw StrataError.invalidArgument("a multipart upload needs at least one part") }
        var previous = 0
        for part in parts {
            try validatePartNumber(part.partNumber)
            guard part.partNumber > previous else {
                throw StrataError.invalidArgument("completed parts must be listed in ascending order without repeats (part \(part.partNumber) after \(previous))")
            }
            previous = part.partNumber
        }
    }

    /// Checks a byte range of a `get`.
    public static func validateRange(_ range: Range<UInt64>?) throws {
        if let range, range.isEmpty {
            throw StrataError.invalidArgument("byte range \(range.lowerBound)..<\(range.upperBound) is empty")
        }
    }
}
