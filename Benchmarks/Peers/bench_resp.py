#!/usr/bin/env python3
"""redis-benchmark against strata-server's RESP front door and against redis-server, interleaved.

    python3 Benchmarks/Peers/bench_resp.py [--reps N] [--requests N] [--clients N] [--server PATH]

Each repetition starts, on fresh data directories and free loopback ports, strata-server
(`--resp-listen`, default `--resp-fsync everysec`) and Debian's redis-server with
`appendonly yes`, `appendfsync everysec` (the closest durability to Strata's default), then runs
`redis-benchmark -t ping,set,get,incr,mset -n N -r 1000000 -c 50 --csv` with `-P 1` and `-P 16`
against each, one after the other. Prints, per test and pipeline depth, the median requests/s and
p50/p99 latency of each server, and Strata's throughput over Redis' (above 1.0: Strata faster).
The machine is shared and noisy: read medians and ratios, not single runs.
"""
import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TESTS = "ping,set,get,incr,mset"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server on port %d did not answer PING" % port)


def start_strata(binary, directory, fsync):
    port = free_port()
    process = subprocess.Popen([binary, "--db", os.path.join(directory, "db"), "--listen", "127.0.0.1:0",
                                "--resp-listen", "127.0.0.1:%d" % port, "--resp-fsync", fsync, "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port


def start_redis(directory):
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                                "--logfile", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port


def run_benchmark(port, requests, clients, pipeline):
    output = subprocess.run(["redis-benchmark", "-p", str(port), "-t", TESTS, "-n", str(requests), "-r", "1000000",
                             "-c", str(clients), "-P", str(pipeline), "--csv"], capture_output=True, text=True, check=True).stdout
    rows = {}
    for row in csv.reader(io.StringIO(output)):
        if not row or row[0] == "test":
            continue
        # test, rps, avg, min, p50, p95, p99, max
        rows[row[0]] = (float(row[1]), float(row[4]), float(row[6]))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--fsync", default="everysec")
    parser.add_argument("--server", default=".build/release/strata-server")
    args = parser.parse_args()
    for tool in ("redis-server", "redis-benchmark"):
        if shutil.which(tool) is None:
            raise SystemExit("%s is missing (apt install redis-server redis-tools)" % tool)
    results = {}  # (engine, pipeline, test) -> [(rps, p50, p99)]
    for rep in range(args.reps):
        for engine in ("strata", "redis"):
            directory = tempfile.mkdtemp(prefix="bench-resp-")
            process, port = start_strata(args.server, directory, args.fsync) if engine == "strata" else start_redis(directory)
            try:
                for pipeline in (1, 16):
                    for test, figures in run_benchmark(port, args.requests, args.clients, pipeline).items():
                        results.setdefault((engine, pipeline, test), []).append(figures)
                        print("rep %d %-6s -P %-2d %-16s %10.0f req/s  p50 %.3f ms  p99 %.3f ms" % ((rep + 1, engine, pipeline, test) + figures), flush=True)
            finally:
                process.terminate()
                process.wait(timeout=60)
                shutil.rmtree(directory, ignore_errors=True)
    print()
    print("| test | -P | Strata req/s | p50 / p99 ms | Redis (AOF everysec) req/s | p50 / p99 ms | Strata / Redis |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    tests = sorted({key[2] for key in results}, key=lambda t: TESTS.split(",").index(t.split(" ")[0].lower().replace("_inline", "").replace("_mbulk", "")) if t.split(" ")[0].lower().replace("_inline", "").replace("_mbulk", "") in TESTS else 99)
    for pipeline in (1, 16):
        for test in tests:
            s = results.get(("strata", pipeline, test))
            r = results.get(("redis", pipeline, test))
            if not s or not r:
                continue
            med = lambda values, i: statistics.median(v[i] for v in values)
            print("| %s | %d | %.0f | %.3f / %.3f | %.0f | %.3f / %.3f | %.2f |" % (
                test, pipeline, med(s, 0), med(s, 1), med(s, 2), med(r, 0), med(r, 1), med(r, 2), med(s, 0) / med(r, 0)))


if __name__ == "__main__":
    sys.exit(main())
