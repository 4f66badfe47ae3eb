#!/usr/bin/env python3
"""Crash test: run strata-stress, SIGKILL it at random moments, reopen, verify, repeat.

    python3 Benchmarks/Stress/crash_test.py [--duration 600] [--keys 100000] [--threads 4]
                                            [--min-interval 5] [--max-interval 30]

Each cycle verifies the database against the expected state (strata-stress --verify: every key
shows its last acknowledged version, or the version being written at the kill; a full scan
agrees), then starts the workload again and kills it after a random interval — sometimes within
half a second of starting, while the database is still opening and writing its new manifest.
Small buffers make flushes, compactions and WAL rotations happen constantly, and the last
heartbeat the workload left in the expected-state file tells what the kill interrupted.
Writes are synced in one cycle out of three. Exits 1 at the first failure.
"""
import argparse
import os
import random
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time


def parse_result(output):
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return dict(field.split("=", 1) for field in line.split()[1:])
    return None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", "600")))
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--min-interval", type=float, default=5)
    parser.add_argument("--max-interval", type=float, default=30)
    parser.add_argument("--early-fraction", type=float, default=0.15, help="share of kills within 0.5 s of a start")
    parser.add_argument("--binary", default=".build/release/strata-stress")
    parser.add_argument("--db", help="database directory (default: a fresh temporary one, removed at the end)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()

    rng = random.Random(args.seed)
    scratch = None
    if args.db:
        db = args.db
    else:
        scratch = tempfile.mkdtemp(prefix="strata-crash-")
        db = os.path.join(scratch, "db")
    state = db + ".expected"
    common = [args.binary, "--db", db, "--keys", str(args.keys)]
    print(f"crash test: {args.duration:.0f} s, {args.keys} keys, {args.threads} threads, kills every "
          f"{args.min_interval}-{args.max_interval} s, seed {args.seed}, database {db}", flush=True)

    kills = 0
    early = 0
    during = {"flush": 0, "compaction": 0, "writes in flight": 0}
    open_ms = []
    verified = 0
    pending_resolved = 0
    account_checks = 0
    operations = 0
    start = time.monotonic()

    def verify():
        nonlocal verified, pending_resolved, account_checks
        run = subprocess.run(common + ["--verify"], capture_output=True, text=True, timeout=600)
        result = parse_result(run.stdout)
        if run.returncode != 0 or result is None or result.get("failures") != "0":
            print(run.stdout[-4000:], run.stderr[-4000:], sep="\n")
            sys.exit(f"crash test FAILED after {kills} kills (seed {args.seed}); database kept at {db}")
        open_ms.append(float(result["open_ms"]))
        verified += int(result["verified"])
        pending_resolved += int(result["pending"])
        if int(result.get("accounts", "0")) > 0:
            account_checks += 1

    cycle = 0
    while time.monotonic() - start < args.duration:
        verify()
        remaining = args.duration - (time.monotonic() - start)
        if remaining <= 0:
            break
        is_early = rng.random() < args.early_fraction
        interval = rng.uniform(0.05, 0.5) if is_early else rng.uniform(args.min_interval, args.max_interval)
        interval = min(interval, max(remaining, 0.05))
        sync = "1" if cycle % 3 == 2 else "0"
        stress = subprocess.Popen(
            common + ["--threads", str(args.threads), "--sync", sync, "--seed", str(rng.randrange(1 << 62))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(interval)
        if stress.poll() is not None:
            print(stress.stdout.read()[-4000:])
            sys.exit(f"strata-stress stopped by itself (exit {stress.returncode}) before the kill; database kept at {db}")
        stress.send_signal(signal.SIGKILL)
        stress.wait()
        stress.stdout.close()
        kills += 1
        cycle += 1
        if is_early:
            early += 1
        # The last heartbeat says what was running when the process died.
        with open(state, "rb") as handle:
            header = handle.read(32)
        flags, done = struct.unpack_from("<IQ", header, 12)
        operations += done
        if flags & 1:
            during["flush"] += 1
        if flags & 2:
            during["compaction"] += 1
        if flags & 4:
            during["writes in flight"] += 1

    verify()
    elapsed = time.monotonic() - start
    print(f"crash test passed: {kills} kills in {elapsed:.0f} s — during a flush {during['flush']}, "
          f"during a compaction {during['compaction']}, with writes in flight {during['writes in flight']}, "
          f"within 0.5 s of opening (recovery, new manifest) {early}")
    print(f"reopen time ms: p50 {percentile(open_ms, 0.5):.1f}, p95 {percentile(open_ms, 0.95):.1f}, "
          f"p99 {percentile(open_ms, 0.99):.1f}, max {max(open_ms):.1f} over {len(open_ms)} opens")
    print(f"keys verified: {verified} ({len(open_ms)} full verifications of {args.keys} keys); "
          f"writes in flight at a kill resolved: {pending_resolved}; workload operations before kills: {operations}; failures: 0")
    print(f"bank: the accounts' total was intact at {account_checks} of {len(open_ms)} verifications "
          f"(transfers are synced transactions; before the first transfer there are no accounts yet)")
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
