#!/usr/bin/env python3
"""The Query RPC from an independent client: Python grpcio with stubs generated at run time from
the committed Protos/, against a strata-server whose database holds the table ServerQueryTests
writes (500 users: id, email "u<id>@x", name "name<id % 37>", age 20 + id % 50, tags ["three"]
when id % 3 == 0; indexes byEmail, byAge (age, name), byTag), then the KV calls in its keyspace
"archive". Decodes the big-endian primary
keys itself. Exit status 0 only when every answer matched.

    query_check.py --port PORT
"""
import argparse
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from kv_model_check import generate_stubs  # noqa: E402
import grpc  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    stubs = tempfile.mkdtemp(prefix="strata-pystubs-")
    generate_stubs(stubs)
    from strata.v1 import strata_pb2 as pb, strata_pb2_grpc as pbg

    kv = pbg.KVStub(grpc.insecure_channel(f"127.0.0.1:{args.port}"))
    users = [{"id": i, "email": f"u{i}@x", "name": f"name{i % 37}", "age": 20 + i % 50, "tags": ["three"] if i % 3 == 0 else []}
             for i in range(500)]

    def rows(**request):
        return [row for chunk in kv.Query(pb.QueryRequest(table="users", **request)) for row in chunk.rows]

    def ident(row):
        # UInt64 keys: 8 bytes big-endian (Docs/formats/ordered-keys.md).
        assert len(row.primary_key) == 8, row.primary_key
        return struct.unpack(">Q", row.primary_key)[0]

    def fields(row):
        def value(v):
            kind = v.WhichOneof("kind")
            if kind == "list":
                return [value(item) for item in v.list.items]
            if kind == "object":
                return {f.name: value(f.value) for f in v.object.fields}
            return getattr(v, kind)
        return value(row.record)

    failures = []

    def expect(condition, what):
        if not condition:
            failures.append(what)

    everything = rows()
    expect([ident(r) for r in everything] == list(range(500)), "primary key order")
    expect(all(fields(r) == {k: v for k, v in users[ident(r)].items() if k != "id"} for r in everything), "records decode exactly")

    # age in [30, 33) (the index's leading field), names ending in "7", first 10, reversed.
    got = rows(index="byAge", start=[pb.KeyPart(int64=30)], end=[pb.KeyPart(int64=33)],
               filters=[pb.FieldFilter(field="name", comparison=pb.FieldFilter.HAS_SUFFIX, value=pb.Value(string="7"))],
               reverse=True, limit=10, fields=["age", "name"])
    want = sorted((u for u in users if 30 <= u["age"] < 33 and u["name"].endswith("7")),
                  key=lambda u: (u["age"], u["name"].encode(), u["id"]), reverse=True)[:10]
    expect([ident(r) for r in got] == [u["id"] for u in want], f"byAge range: {[ident(r) for r in got]} != {[u['id'] for u in want]}")
    expect(all(list(fields(r).keys()) == ["age", "name"] for r in got), "projection")

    got = rows(index="byEmail", prefix=[pb.KeyPart(string="u123@x")])
    expect([ident(r) for r in got] == [123], "unique index lookup")
    got = rows(index="byTag", prefix=[pb.KeyPart(string="three")],
               filters=[pb.FieldFilter(field="age", comparison=pb.FieldFilter.GREATER_OR_EQUAL, value=pb.Value(int=60))])
    expect(sorted(ident(r) for r in got) == [u["id"] for u in users if "three" in u["tags"] and u["age"] >= 60], "multi-valued index + filter")

    # Pages of 7 through the primary key cover it once.
    seen, after = [], b""
    while True:
        page = rows(limit=7, after=after)
        if not page:
            break
        seen += [ident(r) for r in page]
        after = page[-1].position
    expect(seen == list(range(500)), "pages")

    try:
        rows(index="missing")
        failures.append("a missing index was accepted")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT, f"missing index: {error.code()}")

    # The KV calls in a keyspace ("archive", which the table's fixture created): plain keys
    # beside its table, a Write spanning keyspaces, a transaction, and NOT_FOUND for a keyspace
    # the database does not have.
    kv.Put(pb.PutRequest(key=b"py", value=b"archived", keyspace="archive"))
    kv.Write(pb.WriteRequest(mutations=[
        pb.Mutation(put=pb.KeyValue(key=b"py2", value=b"a"), keyspace="archive"),
        pb.Mutation(put=pb.KeyValue(key=b"py", value=b"default")),
    ]))
    expect(kv.Get(pb.GetRequest(key=b"py", keyspace="archive")).value == b"archived", "get in a keyspace")
    expect(kv.Get(pb.GetRequest(key=b"py")).value == b"default", "get in the default keyspace")
    scanned = [e.key for chunk in kv.Scan(pb.ScanRequest(prefix=b"py", keyspace="archive")) for e in chunk.entries]
    expect(scanned == [b"py", b"py2"], f"scan in a keyspace: {scanned}")
    answers = list(kv.Transact(iter([
        pb.TransactRequest(begin=pb.Begin()),
        pb.TransactRequest(put=pb.KeyValue(key=b"py3", value=b"t"), keyspace="archive"),
        pb.TransactRequest(get=b"py3", keyspace="archive"),
        pb.TransactRequest(get=b"py3"),
        pb.TransactRequest(commit=pb.Commit()),
    ])))
    expect(answers[2].value.found and answers[2].value.value == b"t" and not answers[3].value.found, "transaction across keyspaces")
    expect(kv.Get(pb.GetRequest(key=b"py3", keyspace="archive")).value == b"t", "committed in its keyspace")
    for call in (lambda: kv.Get(pb.GetRequest(key=b"py", keyspace="nope")),
                 lambda: kv.Write(pb.WriteRequest(mutations=[pb.Mutation(delete=b"py", keyspace="archive"),
                                                             pb.Mutation(delete=b"py", keyspace="nope")])),
                 lambda: rows(keyspace="nope")):
        try:
            call()
            failures.append("an unknown keyspace was accepted")
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.NOT_FOUND, f"unknown keyspace: {error.code()}")
    expect(kv.Get(pb.GetRequest(key=b"py", keyspace="archive")).found, "a refused Write deleted nothing")

    if failures:
        print("FAILED:", *failures, sep="\n  ")
        sys.exit(1)
    print("ok: queries, keyspaces")


if __name__ == "__main__":
    main()
