/// Reads the few, flat XML documents S3 answers with (`ListBucketResult`, `Error`,
/// `InitiateMultipartUploadResult`, `CompleteMultipartUploadResult`).
///
/// It finds elements by name and decodes their text; it does not validate the document. Every
/// lookup works on string indices and returns `nil` or nothing for what it cannot find, so no
/// input can make it trap.
package enum S3XML {
    /// The raw contents of every `<name>…</name>` element, in document order (elements of the
    /// same name must not nest, which holds for S3's documents).
    package static func elements(_ name: String, in document: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = document[...]
        let open = "<\(name)>", openWithAttributes = "<\(name) ", close = "</\(name)>"
        while let start = firstOpening(open, openWithAttributes, in: rest) {
            guard let end = rest[start...].firstRange(of: close) else { break }
            found.append(rest[start..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<name>` element, or `nil`.
    package static func text(_ name: String, in document: Substring) -> String? {
        elements(name, in: document).first.map { decode($0) }
    }

    /// The index just after the opening tag `<name>` or `<name …>`, whichever comes first.
    private static func firstOpening(_ plain: String, _ withAttributes: String, in text: Substring) -> Substring.Index? {
        let a = text.firstRange(of: plain)
        var b: Substring.Index?
        if let range = text.firstRange(of: withAttributes), let close = text[range.upperBound...].firstIndex(of: ">") {
            b = text.index(after: close)
            if let a, a.lowerBound < range.lowerBound { return a.upperBound }
            return b
        }
        return a?.upperBound
    }

    /// Replaces the five predefined entities and numeric character references.
    package static func decode(_ raw: Substring) -> String {
        guard raw.contains("&") else { return String(raw) }
        var output = ""
        var rest = raw[...]
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";"),
                  rest.distance(from: amp, to: semicolon) <= 10 else {
                output += rest[amp...]
                return output
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": output += "&"
            case "lt": output += "<"
            case "gt": output += ">"
            case "quot": output += "\""
            case "apos": output += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init)
                }
                if let scalar { output.unicodeScalars.append(scalar) } else { output += rest[amp...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        output += rest
        return output
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped, for the bodies this client sends.
    package static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default: output.append(character)
            }
        }
        return output
    }
}
