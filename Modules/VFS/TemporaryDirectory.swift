#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Encoding

/// A fresh directory on the real file system (under `$STRATA_TMPDIR`, else `/tmp`), removed
/// with everything in it when the value is deinitialised. For tests, benchmarks and tools.
///
/// An optimised build may release a local reference right after its last use, long before the
/// end of its scope — removing a database a background thread or child process still writes.
/// Keep it with `defer { withExtendedLifetime(directory) {} }` where only its path is used.
package final class TemporaryDirectory: Sendable {
    /// The directory's path.
    package let path: String

    /// Creates the directory; its name starts with `prefix`.
    package init(prefix: String = "strata") throws {
        let base = getenv("STRATA_TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StrataError.io(path: base, errno: errno, operation: "mkdtemp")
        }
        path = String(cString: created)
    }

    deinit {
        TemporaryDirectory.removeTree(path)
    }

    /// Removes `path` and everything below it (best effort).
    package static func removeTree(_ path: String) {
        let fileSystem = PosixFileSystem()
        for name in (try? fileSystem.listDirectory(path)) ?? [] {
            let child = Path.join(path, name)
            if fileSystem.isDirectory(child) {
                removeTree(child)
            } else {
                try? fileSystem.removeFile(child)
            }
        }
        rmdir(path)
    }
}
