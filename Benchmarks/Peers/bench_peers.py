#!/usr/bin/env python3
"""Runs db_bench workloads against Strata, RocksDB and LevelDB, interleaved.

    python3 Benchmarks/Peers/bench_peers.py [--suite standard|matrix|transactions|all] [--reps N] [--num N] [--out DIR]

Each repetition runs every configuration of the chosen suites on every engine that supports it,
one after the other, each on a fresh database, with identical flags: strata-bench, RocksDB's
db_bench (`--rocksdb`, default $DB_BENCH, else Debian's `db_bench`) and the project's LevelDB
driver (Benchmarks/LevelDBDriver/leveldb_bench.c over libleveldb). The machine is shared and
noisy, so what matters are medians over the repetitions and the ratios between engines measured
in the same run. Prints a table per suite and writes it, with every raw line, to --out.

Suites:
- standard: fillseq, fillrandom, overwrite, readrandom, readseq, seekrandom; 16 B keys, 100 B
  values, no compression, 8 MiB cache, 4 MiB write buffer, 10 Bloom bits; all three engines.
- matrix (issue 17's table): the standard workloads' reads in both read modes — tables through
  mmap (Strata and RocksDB `--mmap_read=1`; LevelDB's only mode) and through pread + the 8 MiB
  block cache (`--mmap_read=0`, Strata and RocksDB); 1 KB values over NUM/2 keys; 2 threads
  (fillseq, readwhilewriting, readrandom) and 4-thread fillrandom; fillsync with 1 and 4
  threads; lz4 and zstd (Strata and RocksDB: LevelDB has only snappy); and, when LARGE_NUM is set
  (e.g. 10000000), fillrandom, readrandom and seekrandom at that size. Every row also reports
  p99 latency (`--histogram=1`) and peak RSS per engine.
- transactions: db_bench's randomtransaction (two sets) with optimistic and with pessimistic
  transactions, 1 and 4 threads; Strata and RocksDB (LevelDB has no transactions).

Ratios are peer µs/op divided by Strata µs/op, i.e. Strata's throughput relative to the peer:
above 1.0 Strata is faster. For multi-threaded rows µs/op is db_bench's per-thread figure, so the
ratio compares throughput the same way.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"^(\w+)\s+:\s+([\d.]+) micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;")
# A histogram's percentile line (db_bench and strata-bench with --histogram=1), after its workload's line.
P99 = re.compile(r"^Percentiles:.*\bP99: ([\d.]+)")
STANDARD = ["fillseq", "fillrandom", "overwrite", "readrandom", "readseq", "seekrandom"]


def standard_configurations(num):
    flags = [
        "--benchmarks=" + ",".join(STANDARD), f"--num={num}", "--value_size=100", "--key_size=16",
        "--compression_type=none", "--cache_size=8388608", "--write_buffer_size=4194304",
        "--bloom_bits=10", "--threads=1",
    ]
    return [{"suite": "standard", "label": "", "workloads": STANDARD, "flags": flags,
             "engines": ["strata", "rocksdb", "leveldb"]}]


def common_flags(num, value_size=100, compression="none", threads=1):
    return [f"--num={num}", f"--value_size={value_size}", "--key_size=16", f"--compression_type={compression}",
            "--cache_size=8388608", "--write_buffer_size=4194304", "--bloom_bits=10", f"--threads={threads}", "--histogram=1"]


def matrix_configurations(num, large_num):
    """Issue 17's table: one configuration per row group; engine_flags are per-engine extras."""
    def configuration(label, workloads, flags, engines, engine_flags=None):
        return {"suite": "matrix", "label": label, "workloads": workloads, "engines": engines,
                "flags": ["--benchmarks=" + ",".join(workloads)] + flags, "engine_flags": engine_flags or {}}

    reads = ["fillrandom", "readrandom", "readseq", "seekrandom"]
    rows = [
        configuration("mmap reads", reads, common_flags(num), ["strata", "rocksdb", "leveldb"],
                      {"strata": ["--mmap_read=1"], "rocksdb": ["--mmap_read=1"]}),
        configuration("pread + block cache", reads, common_flags(num), ["strata", "rocksdb"],
                      {"strata": ["--mmap_read=0"], "rocksdb": ["--mmap_read=0"]}),
        configuration("1 KB values", ["fillrandom", "overwrite", "readrandom", "seekrandom"], common_flags(max(1, num // 2), value_size=1000),
                      ["strata", "rocksdb", "leveldb"]),
        configuration("2 threads", ["fillseq", "readwhilewriting", "readrandom"], common_flags(num, threads=2), ["strata", "rocksdb"]),
        configuration("4 threads", ["fillrandom"], common_flags(num, threads=4), ["strata", "rocksdb"]),
        configuration("fillsync, 1 thread", ["fillsync"], common_flags(num), ["strata", "rocksdb", "leveldb"]),
        configuration("fillsync, 4 threads", ["fillsync"], common_flags(num, threads=4), ["strata", "rocksdb"]),
        configuration("lz4", ["fillrandom", "readrandom", "seekrandom"], common_flags(num, compression="lz4"), ["strata", "rocksdb"]),
        configuration("zstd", ["fillrandom", "readrandom", "seekrandom"], common_flags(num, compression="zstd"), ["strata", "rocksdb"]),
    ]
    if large_num:
        rows.append(configuration(f"{large_num:,} keys", ["fillrandom", "readrandom", "seekrandom"],
                                  common_flags(large_num) + [f"--reads={max(1, num)}"], ["strata", "rocksdb", "leveldb"]))
    return rows


def transaction_configurations(num):
    configurations = []
    for mode, flag in [("optimistic", "--optimistic_transaction_db=1"), ("pessimistic", "--transaction_db=1")]:
        for threads in [1, 4]:
            flags = [
                "--benchmarks=randomtransaction", f"--num={num}", f"--reads={max(1, num // 10)}",
                "--transaction_sets=2", "--value_size=100", "--key_size=16", "--compression_type=none",
                "--cache_size=8388608", "--write_buffer_size=4194304", "--bloom_bits=10",
                # Both engines' transactions read at a snapshot taken at begin (Strata always does;
                # RocksDB 11.8's release db_bench also crashes without it, logging a null snapshot).
                "--transaction_set_snapshot=1", f"--threads={threads}", flag,
            ]
            configurations.append({"suite": "transactions", "label": f"{mode}, {threads} thread{'s' if threads > 1 else ''}",
                                   "workloads": ["randomtransaction"], "flags": flags, "engines": ["strata", "rocksdb"]})
    return configurations


def run_engine(name, command, db, workloads):
    """Runs one engine on a fresh database; returns {workload: µs/op}, peak RSS, output."""
    shutil.rmtree(db, ignore_errors=True)
    os.makedirs(os.path.dirname(db), exist_ok=True)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command + [f"--db={db}"], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        errors = err.read().decode("utf-8", "replace")
    shutil.rmtree(db, ignore_errors=True)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed ({os.waitstatus_to_exitcode(status)}):\n{text}\n{errors[-2000:]}")
    results = {}
    p99 = {}
    current = None
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match.group(1) in workloads:
            current = match.group(1)
            results[current] = float(match.group(2))
            continue
        percentile = P99.match(line)
        if percentile and current is not None and current not in p99:
            p99[current] = float(percentile.group(1))
    missing = [w for w in workloads if w not in results]
    if missing:
        sys.exit(f"{name} printed no result for {missing}:\n{text}")
    return results, p99, usage.ru_maxrss * 1024, text


def describe_rocksdb(binary):
    """Which RocksDB ran: its version line, and whether it is a release build."""
    try:
        text = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        text = "unknown version"
    kind = "release build" if os.environ.get("DB_BENCH") and os.path.realpath(binary) == os.path.realpath(os.environ["DB_BENCH"]) \
        else "Debian's rocksdb-tools (built with assertions)" if binary.startswith("/usr/") else "as given"
    return f"{binary} ({text}; {kind})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default=os.environ.get("SUITE", "standard"), choices=["standard", "matrix", "transactions", "all"])
    parser.add_argument("--reps", type=int, default=int(os.environ.get("REPS", "3")))
    parser.add_argument("--num", type=int, default=int(os.environ.get("NUM", "1000000")))
    parser.add_argument("--large-num", type=int, default=int(os.environ.get("LARGE_NUM", "0")),
                        help="matrix: also run fillrandom, readrandom, seekrandom at this many keys (0: not)")
    parser.add_argument("--strata", default=".build/release/strata-bench")
    parser.add_argument("--rocksdb", default=os.environ.get("DB_BENCH") or shutil.which("db_bench") or "/usr/bin/db_bench")
    parser.add_argument("--leveldb", default="bench-results/bin/leveldb_bench")
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), f"strata-peers-{os.getuid()}"))
    parser.add_argument("--exclude", default=os.environ.get("EXCLUDE", ""),
                        help="semicolon-separated configuration labels to leave out, e.g. 'fillsync, 4 threads;zstd'")
    args = parser.parse_args()

    binaries = {"strata": args.strata, "rocksdb": args.rocksdb, "leveldb": args.leveldb}
    configurations = []
    if args.suite in ("standard", "all"):
        configurations += standard_configurations(args.num)
    if args.suite in ("matrix", "all"):
        configurations += matrix_configurations(args.num, args.large_num)
    if args.suite in ("transactions", "all"):
        configurations += transaction_configurations(args.num)
    excluded = {label.strip() for label in args.exclude.split(";") if label.strip()}
    configurations = [configuration for configuration in configurations if configuration["label"] not in excluded]
    needed = sorted({engine for configuration in configurations for engine in configuration["engines"]})
    for name in needed:
        if not os.access(binaries[name], os.X_OK):
            sys.exit(f"{name}: {binaries[name]} is not an executable (run `make bench-peers`, which builds and installs them)")
    print(f"RocksDB: {describe_rocksdb(args.rocksdb)}", file=sys.stderr)

    samples = {}  # (configuration index, engine, workload) -> [µs/op]
    p99_samples = {}  # (configuration index, engine, workload) -> [p99 µs]
    peak_rss = {}  # (configuration index, engine) -> [bytes]
    raw = []
    for rep in range(1, args.reps + 1):
        for index, configuration in enumerate(configurations):
            for name in configuration["engines"]:
                print(f"[{rep}/{args.reps}] {configuration['suite']} {configuration['label']} {name} ...", file=sys.stderr, flush=True)
                command = [binaries[name]] + configuration["flags"] + configuration.get("engine_flags", {}).get(name, [])
                results, p99, rss, text = run_engine(name, command, os.path.join(args.scratch, name), configuration["workloads"])
                for workload, micros in results.items():
                    samples.setdefault((index, name, workload), []).append(micros)
                for workload, micros in p99.items():
                    p99_samples.setdefault((index, name, workload), []).append(micros)
                peak_rss.setdefault((index, name), []).append(rss)
                raw.append({"rep": rep, "configuration": configuration, "engine": name, "results": results,
                            "peak_rss": rss, "output": text})

    lines = [f"RocksDB: {describe_rocksdb(args.rocksdb)}", f"{args.reps} interleaved repetitions, fresh database each", ""]
    median = {}
    for index, configuration in enumerate(configurations):
        engines = configuration["engines"]
        peers = [engine for engine in engines if engine != "strata"]
        extras = "; ".join(f"{engine}: {' '.join(flags)}" for engine, flags in configuration.get("engine_flags", {}).items())
        lines.append(f"Command: {' '.join(['<engine>'] + configuration['flags'])}" + (f" (plus {extras})" if extras else ""))
        lines.append("")
        header = "| workload | " + " | ".join(f"{engine} µs/op" for engine in engines) + " | " + " | ".join(f"strata/{peer}" for peer in peers) + " |"
        lines.append(header)
        lines.append("|---|" + "---:|" * (len(engines) + len(peers)))
        for workload in configuration["workloads"]:
            values = {engine: statistics.median(samples[(index, engine, workload)]) for engine in engines}
            for engine, value in values.items():
                median[f"{configuration['suite']} {configuration['label']} {engine} {workload}"] = value
            label = workload + (f" ({configuration['label']})" if configuration["label"] else "")
            lines.append(f"| {label} | " + " | ".join(f"{values[engine]:.3f}" for engine in engines) + " | "
                         + " | ".join(f"{values[peer] / values['strata']:.2f}" for peer in peers) + " |")
            tails = {engine: p99_samples.get((index, engine, workload)) for engine in engines}
            if any(tails.values()):
                lines.append(f"| {label} p99 µs | " + " | ".join(f"{statistics.median(tails[engine]):.2f}" if tails[engine] else "–" for engine in engines)
                             + " | " + " | ".join("" for _ in peers) + " |")
        rss = {engine: statistics.median(peak_rss[(index, engine)]) for engine in engines}
        lines.append("| peak RSS (MB) | " + " | ".join(f"{rss[engine] / 1e6:.1f}" for engine in engines) + " | "
                     + " | ".join(f"{rss['strata'] / rss[peer]:.2f}×" for peer in peers) + " |")
        lines.append("")
    lines.append("Ratios: peer µs/op ÷ Strata µs/op (Strata's relative throughput; above 1.0 Strata is faster). "
                 "The RSS row gives Strata's peak as a multiple of the peer's.")
    table = "\n".join(lines)
    print(table)

    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(args.out, f"peers-{stamp}.md"), "w") as handle:
        handle.write(table + "\n")
    with open(os.path.join(args.out, f"peers-{stamp}.json"), "w") as handle:
        json.dump({"configurations": configurations, "reps": args.reps, "median_micros": median,
                   "samples": {f"{k[0]} {k[1]} {k[2]}": v for k, v in samples.items()}, "runs": raw}, handle, indent=1)
    print(f"\nwritten to {args.out}/peers-{stamp}.md and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
