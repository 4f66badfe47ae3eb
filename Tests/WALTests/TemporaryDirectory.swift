#if canImport(Glibc)
import Glibc
#endif
import VFS

/// A fresh directory under /tmp, removed (with its files) when deinitialised.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/strata-test-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXFailure()
        }
        path = String(cString: created)
    }

    deinit {
        let fileSystem = PosixFileSystem()
        for name in (try? fileSystem.listDirectory(path)) ?? [] {
            try? fileSystem.removeFile(Path.join(path, name))
        }
        rmdir(path)
    }

    struct POSIXFailure: Error {}
}
