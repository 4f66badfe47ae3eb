import Testing
import StrataTestSupport
import VFS

/// `strata-bench` prints db_bench's line format, so db_bench tooling can parse it.
@Suite struct StrataBenchTests {
    /// `name : X micros/op N ops/sec S seconds N operations; [M MB/s] [(F of N found)]`
    var pattern: Regex<(Substring, Substring, Substring, Substring, Substring, Substring, Substring?, Substring?, Substring?, Substring?)> { #/^([a-z0-9]+) +: +([0-9]+\.[0-9]{3}) micros/op ([0-9]+) ops/sec ([0-9]+\.[0-9]{3}) seconds ([0-9]+) operations;( +[0-9]+\.[0-9] MB/s)?( \(([0-9]+) of ([0-9]+) found\))?$/# }

    struct Line {
        var name: String
        var operations: Int
        var found: Int?
        var lookups: Int?
    }

    func results(_ output: String) -> [Line] {
        output.split(separator: "\n").compactMap { line in
            guard let match = try? pattern.wholeMatch(in: String(line)) else { return nil }
            return Line(name: String(match.1), operations: Int(match.5)!, found: match.8.map { Int($0)! }, lookups: match.9.map { Int($0)! })
        }
    }

    @Test func linesParseInDbBenchFormat() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let run = try runTool("strata-bench", ["--benchmarks=fillrandom,readrandom", "--num=20000", "--db=\(scratch.path)/db"])
        #expect(run.status == 0, "\(run.errors)")
        let lines = results(run.output)
        #expect(lines.map(\.name) == ["fillrandom", "readrandom"], "\(run.output)")
        #expect(lines.allSatisfy { $0.operations == 20_000 })
        // Random fills repeat some keys, so not every random read finds one.
        let read = try #require(lines.last)
        #expect(read.lookups == 20_000 && (read.found ?? 0) > 10_000 && (read.found ?? 0) < 20_000)
        #expect(run.output.contains("Peak RSS:") && run.output.contains("write amplification"))
    }

    @Test func readrandomFindsEveryKeyFillseqWrote() throws {
        let scratch = try TemporaryDirectory()
        defer { withExtendedLifetime(scratch) {} }  // the directory is removed when released
        let run = try runTool("strata-bench", ["--benchmarks=fillseq,readrandom,readseq,seekrandom", "--num=20000", "--write_buffer_size=65536", "--histogram=1", "--db=\(scratch.path)/db"])
        #expect(run.status == 0, "\(run.errors)")
        let lines = results(run.output)
        #expect(lines.map(\.name) == ["fillseq", "readrandom", "readseq", "seekrandom"], "\(run.output)")
        #expect(lines[1].found == 20_000 && lines[1].lookups == 20_000)
        #expect(lines[2].operations == 20_000)
        #expect(lines[3].found == 20_000)
        #expect(run.output.contains("Percentiles: P50: ") && run.output.contains(" P99.9: "))
    }

    @Test func badFlagsAndUnknownBenchmarksFail() throws {
        let unknown = try runTool("strata-bench", ["--benchmarks=fillseq,teleport", "--num=10"])
        #expect(unknown.status != 0 && unknown.errors.contains("unknown benchmark 'teleport'"))
        let badNumber = try runTool("strata-bench", ["--num=0"])
        #expect(badNumber.status != 0)
        let badCodec = try runTool("strata-bench", ["--compression_type=snappy"])
        #expect(badCodec.status != 0)
    }
}
