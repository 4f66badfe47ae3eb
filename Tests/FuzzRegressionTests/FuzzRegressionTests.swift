#if canImport(Glibc)
import Glibc
#endif
import Testing
import StrataFuzzHarness

/// Every saved fuzz input — the corpus `make fuzz` keeps under `Tests/Fuzz/corpus/<harness>/`
/// and every input that once crashed, under `Tests/Fuzz/regressions/<harness>/` — replayed
/// through its harness in the ordinary test run, so a fixed crash can never come back unseen.
@Suite struct FuzzRegressionTests {
    /// `Tests/Fuzz`, found from this source file.
    static var fuzzDirectory: String {
        // …/Tests/FuzzRegressionTests/FuzzRegressionTests.swift → …/Tests/Fuzz
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz"
    }

    static func files(in directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if !name.hasPrefix(".") { names.append(directory + "/" + name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8] {
        guard let handle = fopen(path, "rb") else { return [] }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = fread(&chunk, 1, chunk.count, handle)
            if got <= 0 { break }
            bytes += chunk[0..<got]
        }
        return bytes
    }

    @Test(arguments: FuzzHarness.allCases)
    func savedInputsRunCleanly(harness: FuzzHarness) throws {
        let saved = Self.files(in: Self.fuzzDirectory + "/corpus/" + harness.rawValue)
            + Self.files(in: Self.fuzzDirectory + "/regressions/" + harness.rawValue)
        for path in saved {
            Self.read(path).withUnsafeBytes { harness.run($0) }
        }
        // The seeds are always there: the harness reaches its decoders.
        #expect(saved.contains { $0.contains("/seed-") }, "no seed inputs for \(harness.rawValue)")
    }

    @Test(arguments: FuzzHarness.allCases)
    func generatedSeedsRunCleanly(harness: FuzzHarness) throws {
        for (_, bytes) in try FuzzSeeds.seeds(for: harness) {
            bytes.withUnsafeBytes { harness.run($0) }
        }
    }
}
