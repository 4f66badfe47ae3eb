#!/usr/bin/env python3
"""Checks strata-server's RESP front door with redis-py (an independent client) and raw sockets.

Modes (each exits 0 and prints "ok: ..." on success, exits 1 with the first disagreement):
  model     random commands, pipelined, binary keys and values, against a dict model with
            expiries on the server's manual clock (server started with --resp-manual-clock)
  incr      N clients x M INCR on one key: the final value is exact
  transfer  N clients moving money between accounts with WATCH/MULTI/EXEC: the total holds
  fuzz      random and truncated frames over raw sockets: the server keeps answering PING
  acked     SET unique keys until the server dies, appending each acknowledged key to a file
  verify    every key in that file is present with its value
"""
import argparse
import random
import socket
import sys
import threading
import time

import redis
from redis.exceptions import ResponseError


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def connection(port, protocol=2):
    conn = redis.Connection(host="127.0.0.1", port=port, protocol=protocol, socket_timeout=60)
    conn.connect()
    return conn


def call(conn, *args):
    conn.send_command(*args)
    try:
        return conn.read_response()
    except ResponseError as error:
        return error


def pipeline(conn, commands):
    conn.send_packed_command(conn.pack_commands(commands))
    replies = []
    for _ in commands:
        try:
            replies.append(conn.read_response())
        except ResponseError as error:
            replies.append(error)
    return replies


# ---------------------------------------------------------------------------------------------
# The model: what Redis answers, on a clock that moves only when told.

class Model:
    def __init__(self, now):
        self.now = now
        self.data = {}  # key -> (value bytes, expires_at ms or None)

    def live(self, key):
        entry = self.data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= self.now:
            del self.data[key]
            return None
        return entry

    def keys(self):
        return sorted(k for k in list(self.data) if self.live(k) is not None)

    def apply(self, args):
        name = args[0].upper()
        a = args[1:]
        live = self.live
        if name == "GET":
            e = live(a[0]); return e[0] if e else None
        if name == "SET":
            key, value, opts = a[0], a[1], [o.upper() if isinstance(o, str) else o for o in a[2:]]
            nx = "NX" in opts; xx = "XX" in opts; get = "GET" in opts; keep = "KEEPTTL" in opts
            expires = None
            for unit in ("EX", "PX"):
                if unit in opts:
                    amount = int(opts[opts.index(unit) + 1])
                    expires = self.now + (amount * 1000 if unit == "EX" else amount)
            old = live(key)
            if (nx and old) or (xx and not old):
                return (old[0] if old else None) if get else None
            if keep and old:
                expires = old[1]
            self.data[key] = (value, expires)
            return (old[0] if old else None) if get else b"OK"
        if name == "SETNX":
            if live(a[0]): return 0
            self.data[a[0]] = (a[1], None); return 1
        if name in ("SETEX", "PSETEX"):
            amount = int(a[1])
            self.data[a[0]] = (a[2], self.now + (amount * 1000 if name == "SETEX" else amount)); return b"OK"
        if name == "GETSET":
            old = live(a[0]); self.data[a[0]] = (a[1], None); return old[0] if old else None
        if name == "GETDEL":
            old = live(a[0])
            if old: del self.data[a[0]]
            return old[0] if old else None
        if name == "GETEX":
            old = live(a[0])
            if not old: return None
            opts = [o.upper() if isinstance(o, str) else o for o in a[1:]]
            if "PERSIST" in opts: self.data[a[0]] = (old[0], None)
            elif "EX" in opts: self.data[a[0]] = (old[0], self.now + int(opts[1]) * 1000)
            elif "PX" in opts: self.data[a[0]] = (old[0], self.now + int(opts[1]))
            return old[0]
        if name == "MGET":
            return [(live(k) or (None,))[0] for k in a]
        if name == "MSET":
            for i in range(0, len(a), 2): self.data[a[i]] = (a[i + 1], None)
            return b"OK"
        if name == "MSETNX":
            if any(live(a[i]) for i in range(0, len(a), 2)): return 0
            for i in range(0, len(a), 2): self.data[a[i]] = (a[i + 1], None)
            return 1
        if name in ("DEL", "UNLINK"):
            n = 0
            for k in set(a):
                if live(k): del self.data[k]; n += 1
            return n
        if name == "EXISTS":
            return sum(1 for k in a if live(k))
        if name in ("RENAME", "RENAMENX"):
            old = live(a[0])
            if not old: return "ERR no such key"
            if name == "RENAMENX":
                if a[0] == a[1] or live(a[1]): return 0
            elif a[0] == a[1]:
                return b"OK"
            del self.data[a[0]]; self.data[a[1]] = old
            return 1 if name == "RENAMENX" else b"OK"
        if name == "COPY":
            old = live(a[0])
            if not old: return 0
            if a[0] == a[1]: return "ERR source and destination objects are the same"
            if "REPLACE" not in a[2:] and live(a[1]): return 0
            self.data[a[1]] = old
            return 1
        if name in ("INCR", "DECR", "INCRBY", "DECRBY"):
            by = {"INCR": 1, "DECR": -1}.get(name)
            if by is None: by = int(a[1]) * (1 if name == "INCRBY" else -1)
            old = live(a[0])
            try:
                current = int(old[0]) if old else 0
                if old and (old[0] != str(current).encode()): raise ValueError
            except ValueError:
                return "ERR value is not an integer or out of range"
            result = current + by
            if not (-2**63 <= result < 2**63): return "ERR increment or decrement would overflow"
            self.data[a[0]] = (str(result).encode(), old[1] if old else None)
            return result
        if name == "INCRBYFLOAT":
            old = live(a[0])
            try:
                current = float(old[0]) if old else 0.0
            except ValueError:
                return "ERR value is not a valid float"
            result = current + float(a[1])
            text = (str(int(result)) if result == int(result) else repr(result)).encode()
            self.data[a[0]] = (text, old[1] if old else None)
            return text
        if name == "APPEND":
            old = live(a[0])
            value = (old[0] if old else b"") + a[1]
            self.data[a[0]] = (value, old[1] if old else None); return len(value)
        if name == "STRLEN":
            e = live(a[0]); return len(e[0]) if e else 0
        if name == "GETRANGE":
            e = live(a[0]); v = e[0] if e else b""
            start, end = int(a[1]), int(a[2])
            if start < 0 and end < 0 and start > end: return b""
            if start < 0: start = max(0, len(v) + start)
            if end < 0: end = max(0, len(v) + end)
            end = min(end, len(v) - 1)
            return v[start:end + 1] if len(v) and start <= end else b""
        if name == "SETRANGE":
            offset, patch = int(a[1]), a[2]
            old = live(a[0])
            if not patch: return len(old[0]) if old else 0
            v = bytearray(old[0] if old else b"")
            if len(v) < offset + len(patch): v += b"\0" * (offset + len(patch) - len(v))
            v[offset:offset + len(patch)] = patch
            self.data[a[0]] = (bytes(v), old[1] if old else None); return len(v)
        if name in ("EXPIRE", "PEXPIRE"):
            old = live(a[0])
            if not old: return 0
            at = self.now + (int(a[1]) * 1000 if name == "EXPIRE" else int(a[1]))
            if at <= self.now: del self.data[a[0]]
            else: self.data[a[0]] = (old[0], at)
            return 1
        if name == "PERSIST":
            old = live(a[0])
            if not old or old[1] is None: return 0
            self.data[a[0]] = (old[0], None); return 1
        if name in ("TTL", "PTTL"):
            old = live(a[0])
            if not old: return -2
            if old[1] is None: return -1
            remaining = old[1] - self.now
            return remaining if name == "PTTL" else (remaining + 500) // 1000
        if name == "TYPE":
            return b"string" if live(a[0]) else b"none"
        if name == "DBSIZE":
            return len(self.keys())
        raise AssertionError("model has no " + name)


def normalise(reply):
    if isinstance(reply, ResponseError):
        return str(reply)
    if isinstance(reply, str):
        return reply.encode()
    if isinstance(reply, list):
        return [normalise(r) for r in reply]
    return reply


def random_bytes(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def model_check(args):
    rng = random.Random(args.seed)
    conn = connection(args.port)
    now = call(conn, "STRATA.CLOCK")
    if not isinstance(now, int):
        fail("the server has no manual clock (start it with --resp-manual-clock): %r" % (now,))
    model = Model(now)
    call(conn, "FLUSHDB")
    keys = [b"k%d" % i for i in range(40)] + [random_bytes(rng, rng.randrange(1, 12)) for _ in range(10)] + [b"", b"\r\n", b"\x00\xff"]
    numeric = [b"n%d" % i for i in range(5)]

    def value():
        return random_bytes(rng, rng.choice([0, 1, 5, 20, 300])) if rng.random() < 0.4 else b"v%d" % rng.randrange(1000)

    def command():
        k = rng.choice(keys); n = rng.choice(numeric)
        c = rng.randrange(37)
        if c < 4: return ["GET", k]
        if c < 7:
            opts = []
            r = rng.random()
            if r < 0.2: opts += ["NX"]
            elif r < 0.35: opts += ["XX"]
            if rng.random() < 0.3: opts += ["GET"]
            r = rng.random()
            if r < 0.25: opts += ["EX", str(rng.randrange(1, 20))]
            elif r < 0.4: opts += ["PX", str(rng.randrange(1, 20000))]
            elif r < 0.5: opts += ["KEEPTTL"]
            return ["SET", k, value()] + opts
        if c == 7: return ["SETNX", k, value()]
        if c == 8: return ["SETEX", k, str(rng.randrange(1, 30)), value()]
        if c == 9: return ["PSETEX", k, str(rng.randrange(1, 30000)), value()]
        if c == 10: return ["GETSET", k, value()]
        if c == 11: return ["GETDEL", k]
        if c == 12: return rng.choice([["GETEX", k], ["GETEX", k, "PERSIST"], ["GETEX", k, "EX", str(rng.randrange(1, 20))], ["GETEX", k, "PX", str(rng.randrange(1, 9000))]])
        if c == 13: return ["MGET"] + rng.sample(keys, rng.randrange(1, 5))
        if c == 14:
            ks = rng.sample(keys, rng.randrange(1, 4)); return ["MSET"] + [x for kk in ks for x in (kk, value())]
        if c == 15:
            ks = rng.sample(keys, rng.randrange(1, 3)); return ["MSETNX"] + [x for kk in ks for x in (kk, value())]
        if c == 16: return [rng.choice(["DEL", "UNLINK"])] + rng.sample(keys, rng.randrange(1, 4))
        if c == 17: return ["EXISTS"] + [rng.choice(keys) for _ in range(rng.randrange(1, 4))]
        if c < 21: return rng.choice([["INCR", n], ["DECR", n], ["INCRBY", n, str(rng.randrange(-1000, 1000))], ["DECRBY", n, str(rng.randrange(-1000, 1000))], ["INCR", k]])
        if c == 21: return ["INCRBYFLOAT", rng.choice(numeric[:2]), rng.choice(["0.5", "1.25", "-3", "10", "2.5"])]
        if c == 22: return ["APPEND", k, value()]
        if c == 23: return ["STRLEN", k]
        if c == 24: return ["GETRANGE", k, str(rng.randrange(-10, 10)), str(rng.randrange(-10, 30))]
        if c == 25: return ["SETRANGE", k, str(rng.randrange(0, 40)), value()]
        if c == 26: return ["EXPIRE", k, str(rng.randrange(-2, 30))]
        if c == 27: return ["PEXPIRE", k, str(rng.randrange(-2, 30000))]
        if c == 28: return ["PERSIST", k]
        if c == 29: return [rng.choice(["TTL", "PTTL"]), k]
        if c == 30: return ["TYPE", k]
        if c == 31: return ["DBSIZE"]
        if c == 32: return ["RENAME", k, rng.choice(keys)]
        if c == 33: return ["RENAMENX", k, rng.choice(keys)]
        if c == 34: return ["COPY", k, rng.choice(keys)] + (["REPLACE"] if rng.random() < 0.5 else [])
        return ["GET", n]

    done = 0
    while done < args.ops:
        if rng.random() < 0.08:
            step = rng.randrange(1, 6000)
            call(conn, "STRATA.CLOCK", "ADVANCE", str(step))
            model.now += step
        if rng.random() < 0.03:
            # A full SCAN agrees with the model's keys (small COUNT: many cursors).
            cursor, found = b"0", []
            while True:
                cursor, batch = call(conn, "SCAN", cursor, "COUNT", str(rng.randrange(1, 15)))
                found += batch
                if cursor == b"0": break
            if sorted(found) != model.keys():
                fail("SCAN %r != model %r" % (sorted(found), model.keys()))
            if sorted(call(conn, "KEYS", "k1*")) != [k for k in model.keys() if k.startswith(b"k1")]:
                fail("KEYS k1* disagrees")
        batch = [command() for _ in range(rng.choice([1, 1, 1, 3, 16]))]
        replies = pipeline(conn, batch) if len(batch) > 1 else [call(conn, *batch[0])]
        for cmd, reply in zip(batch, replies):
            expected = model.apply(cmd)
            got = normalise(reply)
            if isinstance(expected, str):
                # An error: redis-py drops the "ERR " code from the message.
                expected = expected[4:].encode() if expected.startswith("ERR ") else expected.encode()
                got = got if isinstance(got, bytes) else str(got).encode()
            if got != expected:
                fail("op %d %r: server %r, model %r" % (done, cmd, got, expected))
            done += 1
    # A new connection sees the same.
    other = connection(args.port, protocol=3)
    for k in model.keys():
        if call(other, "GET", k) != model.live(k)[0]:
            fail("final GET %r disagrees" % k)
    print("ok: %d operations, %d live keys" % (done, len(model.keys())))


def incr_check(args):
    call(connection(args.port), "DEL", "counter")
    errors = []

    def worker():
        try:
            conn = connection(args.port)
            for _ in range(args.count):
                reply = call(conn, "INCR", "counter")
                if not isinstance(reply, int):
                    errors.append(reply); return
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    start = time.time()
    for t in threads: t.start()
    for t in threads: t.join()
    if errors: fail("INCR failed: %r" % errors[:3])
    final = int(call(connection(args.port), "GET", "counter"))
    if final != args.clients * args.count:
        fail("counter is %d, expected %d" % (final, args.clients * args.count))
    print("ok: %d INCRs from %d clients in %.1f s, counter exact" % (final, args.clients, time.time() - start))


def transfer_check(args):
    accounts = ["acct:%d" % i for i in range(10)]
    setup = connection(args.port)
    call(setup, "MSET", *[x for a in accounts for x in (a, "1000")])
    errors = []
    aborted = [0]
    lock = threading.Lock()

    def worker(seed):
        rng = random.Random(seed)
        try:
            conn = connection(args.port)
            for _ in range(args.transfers):
                while True:
                    a, b = rng.sample(accounts, 2)
                    call(conn, "WATCH", a, b)
                    balances = call(conn, "MGET", a, b)
                    amount = rng.randrange(1, 50)
                    replies = pipeline(conn, [["MULTI"], ["SET", a, str(int(balances[0]) - amount)], ["SET", b, str(int(balances[1]) + amount)], ["EXEC"]])
                    if replies[-1] is None:
                        with lock: aborted[0] += 1
                        continue
                    if replies[-1] != [b"OK", b"OK"]:
                        errors.append(replies); return
                    break
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    if errors: fail("transfers failed: %r" % errors[:3])
    total = sum(int(v) for v in call(setup, "MGET", *accounts))
    if total != 1000 * len(accounts):
        fail("total is %d, expected %d" % (total, 1000 * len(accounts)))
    print("ok: %d transfers by %d clients, %d EXECs aborted by WATCH and retried, total preserved" % (args.clients * args.transfers, args.clients, aborted[0]))


def fuzz_check(args):
    rng = random.Random(args.seed)
    valid = [b"*1\r\n$4\r\nPING\r\n", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", b"PING\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"]
    bad = [b"*1\r\n$999999999999\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nkk\r\n", b"$3\r\nfoo\r\n", b"*-5\r\n", b"*abc\r\n",
           b"*1\r\n$4\r\nPING", b"*1099511627776\r\n", b"*1\r\n$1099511627776\r\n", b"\"unbalanced\r\n", b"*3\r\n:1\r\n"]
    closed_by_server = 0
    for i in range(args.frames):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        kind = rng.randrange(4)
        if kind == 0:
            frame = random_bytes(rng, rng.randrange(1, 200))
        elif kind == 1:
            v = rng.choice(valid); frame = v[:rng.randrange(1, len(v))]
        elif kind == 2:
            frame = rng.choice(bad)
        else:
            frame = rng.choice(valid) + random_bytes(rng, rng.randrange(1, 50))
        try:
            s.sendall(frame)
            # Mostly end the stream (the server must handle a partial request at EOF); else
            # leave it open briefly (a partial request waiting for more bytes).
            half_close = rng.random() < 0.8
            if half_close: s.shutdown(socket.SHUT_WR)
            s.settimeout(2 if half_close else 0.02)
            try:
                while s.recv(4096): pass
                closed_by_server += 1
            except socket.timeout:
                pass
        except OSError:
            pass
        finally:
            s.close()
    conn = connection(args.port)
    if call(conn, "PING") != b"PONG":
        fail("no PONG after fuzzing")
    print("ok: %d frames, %d connections closed by the server, PING answered" % (args.frames, closed_by_server))


def acked_writer(args):
    out = open(args.file, "a")
    try:
        conn = connection(args.port)
        i = 0
        while True:
            key = "acked:%d" % i
            if call(conn, "SET", key, "value-%d" % i) != b"OK":
                break
            out.write(key + "\n"); out.flush()
            i += 1
    except Exception:  # noqa: BLE001 — the server was killed
        pass
    out.close()


def verify(args):
    keys = [line.strip() for line in open(args.file) if line.strip()]
    conn = connection(args.port)
    missing = [k for k in keys if call(conn, "GET", k) != ("value-" + k.split(":")[1]).encode()]
    if missing:
        fail("%d of %d acknowledged SETs missing, first %s" % (len(missing), len(keys), missing[:5]))
    print("ok: %d acknowledged SETs all present" % len(keys))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["model", "incr", "transfer", "fuzz", "acked", "verify"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--transfers", type=int, default=200)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--file")
    args = parser.parse_args()
    {"model": model_check, "incr": incr_check, "transfer": transfer_check, "fuzz": fuzz_check,
     "acked": acked_writer, "verify": verify}[args.mode](args)


if __name__ == "__main__":
    main()
