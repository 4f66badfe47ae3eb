// strata-bench: a db_bench-compatible benchmark for Strata. See `strata-bench --help`.
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import StrataTool

/// The `strata-bench` command: db_bench's flags, workloads and output format.
struct StrataBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata-bench",
        abstract: "Benchmark Strata with RocksDB db_bench's flags, workloads and output format.",
        discussion: """
            Benchmarks: \(BenchRunner.known.joined(separator: ",")).
            Each prints `name : X micros/op N ops/sec S seconds N operations; M MB/s (F of N found)`.
            fillseq, fillrandom, fillbatch and fillsync start from an empty database.
            ycsba ... ycsbf run YCSB's core workloads over --num loaded records (run a fill first),
            --reads operations per thread, with a scrambled Zipfian key chooser.
            With --server HOST:PORT the workloads run through strata-server, --threads clients at once.
            """)

    @OptionGroup var flags: BenchFlags

    func run() throws {
        do {
            if let server = flags.server {
                try RemoteBenchRunner(flags: flags, server: server, tokenFile: flags.tokenFile).run()
            } else {
                try BenchRunner(flags: flags).run()
            }
        } catch let error as BenchError {
            writeError("strata-bench: \(error.description)\n")
            throw ExitCode(1)
        } catch {
            writeError("strata-bench: \(error)\n")
            throw ExitCode(1)
        }
    }
}

StrataBenchCommand.main()
