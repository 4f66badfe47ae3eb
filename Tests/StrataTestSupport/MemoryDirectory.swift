import VFS

/// A fresh in-memory file system holding the empty directory `/db`.
public func memoryDirectory(_ path: String = "/db") throws -> MemoryFileSystem {
    let fileSystem = MemoryFileSystem()
    try fileSystem.createDirectory(path)
    return fileSystem
}
