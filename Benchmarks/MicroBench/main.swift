#if canImport(Glibc)
import Glibc
#endif

// strata-microbench: per-layer micro-benchmarks. Release builds only (`make bench`).
//
// Usage: strata-microbench [encoding] [wal] [memtable] [sstable] [compaction] ...

let suites: [String: () throws -> Void] = [
    "encoding": EncodingBench.run,
    "wal": WALBench.run,
    "wal-append": WALBench.appendOnly,
    "memtable": MemtableBench.run,
    "sstable": SSTableBench.run,
    "sstable-get": SSTableBench.getOnly,
    "compaction": CompactionBench.run,
]

var requested = Array(CommandLine.arguments.dropFirst())
if requested.isEmpty { requested = suites.keys.sorted() }
for name in requested {
    guard let suite = suites[name] else {
        print("unknown suite \(name); known: \(suites.keys.sorted().joined(separator: ", "))")
        exit(2)
    }
    try suite()
}
