#!/usr/bin/env python3
"""An independent client of strata-server: Python grpcio with stubs generated at run time from
the committed Protos/. Drives random operations against the server and a dict model, and checks
every answer; then checks the health service. Exit status 0 only when everything matched.

    kv_model_check.py --port PORT [--ops 5000] [--seed 1] [--token TOKEN]
"""
import argparse
import os
import random
import shutil
import sys
import tempfile

from grpc_tools import protoc
import grpc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROTOS = os.path.join(ROOT, "Protos")


def generate_stubs(directory):
    """Python modules from the committed protos. The health proto is copied under another
    directory first: its own path would make a `grpc.health` module that shadows grpcio's
    `grpc` package (the proto package, and so the service name, stay grpc.health.v1)."""
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    sources = os.path.join(directory, "protos")
    os.makedirs(os.path.join(sources, "strata_health"))
    shutil.copy(os.path.join(PROTOS, "grpc", "health", "v1", "health.proto"), os.path.join(sources, "strata_health"))
    for root, proto in [(PROTOS, "strata/v1/strata.proto"), (sources, "strata_health/health.proto")]:
        status = protoc.main(["grpc_tools.protoc", f"-I{root}", f"-I{include}",
                              f"--python_out={directory}", f"--grpc_python_out={directory}", proto])
        if status != 0:
            sys.exit(f"protoc failed on {proto}")
    sys.path.insert(0, directory)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token")
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="strata-pystubs-")
    generate_stubs(stubs)
    from strata.v1 import strata_pb2 as pb, strata_pb2_grpc as pbg
    from strata_health import health_pb2, health_pb2_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{args.port}")
    kv = pbg.KVStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    rng = random.Random(args.seed)
    model = {}
    counts = {}

    def key():
        return b"k%04d" % rng.randrange(400)

    def value():
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))

    def expected_range(start, end, prefix=b"", reverse=False, limit=0):
        keys = sorted(k for k in model if (not start or k >= start) and (not end or k < end) and k.startswith(prefix))
        if reverse:
            keys.reverse()
        if limit:
            keys = keys[:limit]
        return [(k, model[k]) for k in keys]

    def fail(message):
        sys.exit(f"model check failed after {sum(counts.values())} operations: {message}")

    for step in range(args.ops):
        op = rng.choice(["put", "put", "put", "get", "get", "delete", "delete_range", "write", "scan", "batch_get", "bad"])
        counts[op] = counts.get(op, 0) + 1
        if op == "put":
            k, v = key(), value()
            kv.Put(pb.PutRequest(key=k, value=v, sync=rng.random() < 0.05), metadata=metadata)
            model[k] = v
        elif op == "get":
            k = key()
            answer = kv.Get(pb.GetRequest(key=k), metadata=metadata)
            if answer.found != (k in model) or (answer.found and answer.value != model[k]):
                fail(f"get {k!r}: server {answer.found, answer.value!r}, model {model.get(k)!r}")
        elif op == "delete":
            k = key()
            kv.Delete(pb.DeleteRequest(key=k), metadata=metadata)
            model.pop(k, None)
        elif op == "delete_range":
            first = rng.randrange(400)
            a, b = b"k%04d" % first, b"k%04d" % (first + rng.randrange(1, 20))
            kv.DeleteRange(pb.DeleteRangeRequest(start=a, end=b), metadata=metadata)
            for k in [k for k in model if a <= k < b]:
                del model[k]
        elif op == "write":
            mutations = []
            staged = dict(model)
            for _ in range(rng.randrange(1, 8)):
                choice = rng.random()
                if choice < 0.6:
                    k, v = key(), value()
                    mutations.append(pb.Mutation(put=pb.KeyValue(key=k, value=v)))
                    staged[k] = v
                elif choice < 0.9:
                    k = key()
                    mutations.append(pb.Mutation(delete=k))
                    staged.pop(k, None)
                else:
                    a, b = sorted([key(), key()])
                    if a == b:
                        continue
                    mutations.append(pb.Mutation(delete_range=pb.Range(start=a, end=b)))
                    for k in [k for k in staged if a <= k < b]:
                        del staged[k]
            kv.Write(pb.WriteRequest(mutations=mutations), metadata=metadata)
            model = staged
        elif op == "scan":
            start = key() if rng.random() < 0.5 else b""
            end = key() if rng.random() < 0.5 else b""
            if start and end and start > end:
                start, end = end, start
            prefix = b"k0%d" % rng.randrange(4) if rng.random() < 0.3 else b""
            reverse = rng.random() < 0.3
            limit = rng.choice([0, 0, 1, 5, 50])
            keys_only = rng.random() < 0.2
            got = []
            for chunk in kv.Scan(pb.ScanRequest(start=start, end=end, prefix=prefix, reverse=reverse, limit=limit,
                                                keys_only=keys_only), metadata=metadata):
                got.extend((e.key, e.value) for e in chunk.entries)
            want = expected_range(start, end, prefix, reverse, limit)
            if keys_only:
                want = [(k, b"") for k, _ in want]
            if got != want:
                fail(f"scan start={start!r} end={end!r} prefix={prefix!r} reverse={reverse} limit={limit}: "
                     f"server {len(got)} entries, model {len(want)}")
        elif op == "batch_get":
            keys = [key() for _ in range(rng.randrange(1, 10))]
            answer = kv.BatchGet(pb.BatchGetRequest(keys=keys), metadata=metadata)
            for k, result in zip(keys, answer.results):
                if result.found != (k in model) or (result.found and result.value != model[k]):
                    fail(f"batch_get {k!r}")
            if len(answer.results) != len(keys):
                fail("batch_get answered the wrong number of keys")
        elif op == "bad":
            # Bad input: INVALID_ARGUMENT, and nothing changes.
            kind = rng.randrange(3)
            try:
                if kind == 0:
                    kv.Put(pb.PutRequest(key=b"", value=b"x"), metadata=metadata)
                elif kind == 1:
                    kv.DeleteRange(pb.DeleteRangeRequest(start=b"k9", end=b"k1"), metadata=metadata)
                else:
                    kv.Get(pb.GetRequest(key=b"k0001", snapshot_id=424242), metadata=metadata)
                fail(f"bad input {kind} was accepted")
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    fail(f"bad input {kind}: {error.code()} instead of INVALID_ARGUMENT")

    # A last full comparison.
    got = []
    for chunk in kv.Scan(pb.ScanRequest(), metadata=metadata):
        got.extend((e.key, e.value) for e in chunk.entries)
    if got != expected_range(b"", b""):
        fail(f"final scan: server {len(got)} entries, model {len(model)}")

    # Health answers without a token.
    status = health.Check(health_pb2.HealthCheckRequest(service=""))
    if status.status != health_pb2.HealthCheckResponse.SERVING:
        fail(f"health: {status.status}")
    status = health.Check(health_pb2.HealthCheckRequest(service="strata.v1.KV"))
    if status.status != health_pb2.HealthCheckResponse.SERVING:
        fail(f"health of strata.v1.KV: {status.status}")
    try:
        health.Check(health_pb2.HealthCheckRequest(service="nope"))
        fail("health of an unknown service answered")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            fail(f"health of an unknown service: {error.code()}")

    total = sum(counts.values())
    print(f"ok: {total} operations matched the model ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
          f"{len(model)} keys at the end; health SERVING")


if __name__ == "__main__":
    main()
