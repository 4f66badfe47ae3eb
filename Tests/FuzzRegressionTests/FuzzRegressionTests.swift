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

    @Test(arguments: FuzzHarness.allCases)
    func savedInputsRunCleanly(harness: FuzzHarness) throws {
        let saved = FuzzInputs.files(at: Self.fuzzDirectory + "/corpus/" + harness.rawValue)
            + FuzzInputs.files(at: Self.fuzzDirectory + "/regressions/" + harness.rawValue)
        for path in saved {
            FuzzInputs.read(path).withUnsafeBytes { harness.run($0) }
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
