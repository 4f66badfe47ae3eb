import VFS

/// Saved fuzz inputs on disk: the corpus and crash inputs `make fuzz` keeps, replayed by
/// `strata-fuzz` (without the fuzzer) and by `FuzzRegressionTests`.
public enum FuzzInputs {
    /// The input files at `path`: the file itself, or every visible file of the directory
    /// (sorted, so replays are repeatable); nothing when `path` does not exist.
    public static func files(at path: String) -> [String] {
        let fileSystem = PosixFileSystem()
        guard fileSystem.exists(path) else { return [] }
        guard fileSystem.isDirectory(path) else { return [path] }
        let names = (try? fileSystem.listDirectory(path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { Path.join(path, $0) }
    }

    /// The bytes of input file `path` (empty when it cannot be read: a vanished input is skipped).
    public static func read(_ path: String) -> [UInt8] {
        (try? PosixFileSystem().readFile(path)) ?? []
    }
}
