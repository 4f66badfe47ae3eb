/// Small helpers for `/`-separated path strings.
package enum Path {
    /// `directory` and `name` joined with one `/`.
    package static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        if directory.hasSuffix("/") { return directory + name }
        return directory + "/" + name
    }

    /// The directory part of `path` (`"."` when there is none, `"/"` for a root entry).
    package static func directory(of path: String) -> String {
        let trimmed = normalized(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// The last component of `path`.
    package static func lastComponent(of path: String) -> String {
        let trimmed = normalized(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `path` without trailing slashes (except for `/` itself) and with repeated slashes folded.
    package static func normalized(_ path: String) -> String {
        var result = ""
        var previousWasSlash = false
        for character in path {
            if character == "/" {
                if previousWasSlash { continue }
                previousWasSlash = true
            } else {
                previousWasSlash = false
            }
            result.append(character)
        }
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
