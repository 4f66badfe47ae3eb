#!/usr/bin/env python3
"""An independent client (Python grpcio) against a primary strata-server and a replica
strata-server following the same object store: read-your-writes through min_sequence, writes
refused by the replica, the replica's health. Exit status 0 only when everything held.

    replica_check.py --primary PORT --replica PORT [--writes 50]
"""
import argparse
import os
import sys
import tempfile

import grpc

sys.path.insert(0, os.path.dirname(__file__))
from kv_model_check import generate_stubs  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--primary", type=int, required=True)
    parser.add_argument("--replica", type=int, required=True)
    parser.add_argument("--writes", type=int, default=50)
    args = parser.parse_args()

    generate_stubs(tempfile.mkdtemp(prefix="strata-pystubs-"))
    from strata.v1 import strata_pb2 as pb, strata_pb2_grpc as pbg
    from strata_health import health_pb2, health_pb2_grpc

    primary = pbg.KVStub(grpc.insecure_channel(f"127.0.0.1:{args.primary}"))
    replica_channel = grpc.insecure_channel(f"127.0.0.1:{args.replica}")
    replica = pbg.KVStub(replica_channel)
    health = health_pb2_grpc.HealthStub(replica_channel)
    failures = []

    # Each write, then at once a read of it on the replica naming the write's sequence.
    for index in range(args.writes):
        key, value = b"ryw%04d" % index, b"value%04d" % index
        written = primary.Put(pb.PutRequest(key=key, value=value), timeout=30)
        answer = replica.Get(pb.GetRequest(key=key, min_sequence=written.sequence), timeout=30)
        if not answer.found or answer.value != value:
            failures.append(f"replica read of {key!r} at sequence {written.sequence}: {answer}")
    batch = replica.BatchGet(pb.BatchGetRequest(keys=[b"ryw0000", b"absent"], min_sequence=written.sequence), timeout=30)
    if [r.found for r in batch.results] != [True, False]:
        failures.append(f"batch get on the replica: {batch}")
    entries = [e.key for response in replica.Scan(pb.ScanRequest(prefix=b"ryw", min_sequence=written.sequence), timeout=30)
               for e in response.entries]
    if len(entries) != args.writes:
        failures.append(f"scan on the replica found {len(entries)} of {args.writes}")

    # The replica refuses writes.
    try:
        replica.Put(pb.PutRequest(key=b"x", value=b"y"), timeout=30)
        failures.append("the replica accepted a write")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
            failures.append(f"a write to the replica answered {error.code()}: {error.details()}")

    # A sequence the primary never reached: the read ends at the deadline.
    try:
        replica.Get(pb.GetRequest(key=b"ryw0000", min_sequence=written.sequence + 1_000_000), timeout=1)
        failures.append("a read of a future sequence returned")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            failures.append(f"a read of a future sequence answered {error.code()}")

    status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
    if status.status != health_pb2.HealthCheckResponse.SERVING:
        failures.append(f"replica health: {status.status}")

    for failure in failures:
        print("FAIL:", failure)
    if failures:
        sys.exit(1)
    print(f"ok: {args.writes} writes read back from the replica at their sequences")


if __name__ == "__main__":
    main()
