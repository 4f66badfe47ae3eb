#!/usr/bin/env python3
"""Runs the standard db_bench suite against Strata, RocksDB and LevelDB, interleaved.

    python3 Benchmarks/Peers/bench_peers.py [--reps N] [--num N] [--out DIR]

Each repetition runs strata-bench, RocksDB's db_bench (Debian's rocksdb-tools) and the
project's LevelDB driver (Benchmarks/LevelDBDriver/leveldb_bench.c over libleveldb) one after
the other, each on a fresh database, with identical flags. The machine is shared and noisy, so
what matters are medians over the repetitions and the ratios between engines measured in the
same run. Prints a table and writes it, with every raw line, to the output directory.

Ratios are peer µs/op divided by Strata µs/op, i.e. Strata's throughput relative to the peer:
above 1.0 Strata is faster.
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

WORKLOADS = ["fillseq", "fillrandom", "overwrite", "readrandom", "readseq", "seekrandom"]
LINE = re.compile(r"^(\w+)\s+:\s+([\d.]+) micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;")


def suite_flags(num):
    return [
        "--benchmarks=" + ",".join(WORKLOADS),
        f"--num={num}",
        "--value_size=100",
        "--key_size=16",
        "--compression_type=none",
        "--cache_size=8388608",
        "--write_buffer_size=4194304",
        "--bloom_bits=10",
        "--threads=1",
    ]


def run_engine(name, command, db):
    """Runs one engine's suite on a fresh database; returns {workload: µs/op}, peak RSS, output."""
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
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match.group(1) in WORKLOADS:
            results[match.group(1)] = float(match.group(2))
    missing = [w for w in WORKLOADS if w not in results]
    if missing:
        sys.exit(f"{name} printed no result for {missing}:\n{text}")
    return results, usage.ru_maxrss * 1024, text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=int(os.environ.get("REPS", "3")))
    parser.add_argument("--num", type=int, default=1_000_000)
    parser.add_argument("--strata", default=".build/release/strata-bench")
    parser.add_argument("--rocksdb", default=shutil.which("db_bench") or "/usr/bin/db_bench")
    parser.add_argument("--leveldb", default="bench-results/bin/leveldb_bench")
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), f"strata-peers-{os.getuid()}"))
    args = parser.parse_args()

    engines = [("strata", args.strata), ("rocksdb", args.rocksdb), ("leveldb", args.leveldb)]
    for name, binary in engines:
        if not os.access(binary, os.X_OK):
            sys.exit(f"{name}: {binary} is not an executable (run `make bench-peers`, which builds and installs them)")

    flags = suite_flags(args.num)
    samples = {name: {w: [] for w in WORKLOADS} for name, _ in engines}
    peak_rss = {name: [] for name, _ in engines}
    raw = []
    for rep in range(1, args.reps + 1):
        for name, binary in engines:
            print(f"[{rep}/{args.reps}] {name} ...", file=sys.stderr, flush=True)
            results, rss, text = run_engine(name, [binary] + flags, os.path.join(args.scratch, name))
            for workload, micros in results.items():
                samples[name][workload].append(micros)
            peak_rss[name].append(rss)
            raw.append({"rep": rep, "engine": name, "results": results, "peak_rss": rss, "output": text})

    median = {name: {w: statistics.median(samples[name][w]) for w in WORKLOADS} for name, _ in engines}
    rss = {name: statistics.median(peak_rss[name]) for name, _ in engines}
    lines = []
    lines.append(f"Command: {' '.join(['<engine>'] + flags)}; {args.reps} interleaved repetitions, fresh database each")
    lines.append("")
    lines.append("| workload | strata µs/op | rocksdb µs/op | leveldb µs/op | strata/rocksdb | strata/leveldb |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        s, r, l = median["strata"][w], median["rocksdb"][w], median["leveldb"][w]
        lines.append(f"| {w} | {s:.3f} | {r:.3f} | {l:.3f} | {r / s:.2f} | {l / s:.2f} |")
    lines.append(
        f"| peak RSS (MB) | {rss['strata'] / 1e6:.1f} | {rss['rocksdb'] / 1e6:.1f} | {rss['leveldb'] / 1e6:.1f} "
        f"| {rss['strata'] / rss['rocksdb']:.2f}× | {rss['strata'] / rss['leveldb']:.2f}× |")
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
        json.dump({"flags": flags, "reps": args.reps, "median_micros": median, "peak_rss": rss,
                   "samples": samples, "runs": raw}, handle, indent=1)
    print(f"\nwritten to {args.out}/peers-{stamp}.md and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
