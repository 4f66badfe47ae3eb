"""A deliberately unreliable S3 look-alike for testing the client's retries (loopback only).

Keys (the path after the bucket) choose the behaviour:
  flaky-N-...  the first N requests answer 503 SlowDown, later ones succeed
  drop-N-...   the first N requests lose the connection without an answer
  lost-...     a PUT stores the object, then loses the connection (the response is lost);
               later PUTs with If-None-Match: * answer 412; GET and HEAD serve what was stored
  bad-...      every request answers 400 InvalidArgument
  slow-...     the answer comes after 3 seconds
GET /__count/<bucket>/<key> answers how many requests reached that path.
Prints "listening PORT" once ready; runs until killed.
"""
import hashlib
import http.server
import sys
import threading
import time

counts = {}
objects = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>req-{status}</RequestId></Error>"
        self.reply(status, body.encode(), {"x-amz-request-id": f"req-{status}"})

    def handle_any(self):
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path.startswith("/__count/"):
            with lock:
                count = counts.get(path[len("/__count"):], 0)
            return self.reply(200, str(count).encode())
        if self.headers.get("Authorization", "").find("AWS4-HMAC-SHA256 Credential=") != 0:
            return self.error(403, "AccessDenied", "missing or malformed Authorization")
        with lock:
            counts[path] = counts.get(path, 0) + 1
            seen = counts[path]
        key = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        if key.startswith("flaky-") or key.startswith("drop-"):
            failures = int(key.split("-")[1])
            if seen <= failures:
                if key.startswith("flaky-"):
                    return self.error(503, "SlowDown", "Please reduce your request rate.")
                self.close_connection = True
                self.connection.shutdown(2)
                return
        if key.startswith("bad-"):
            return self.error(400, "InvalidArgument", "this key is always refused")
        if key.startswith("slow-"):
            time.sleep(3)
        if key.startswith("lost-") and self.command == "PUT":
            with lock:
                exists = path in objects
                if not exists:
                    objects[path] = body
            if exists and self.headers.get("If-None-Match") == "*":
                return self.error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
            if not exists:
                self.close_connection = True
                self.connection.shutdown(2)
                return
        if self.command == "PUT":
            with lock:
                objects[path] = body
            return self.reply(200, b"", {"ETag": '"' + hashlib.md5(body).hexdigest() + '"'})
        if self.command in ("GET", "HEAD"):
            with lock:
                stored = objects.get(path)
            if stored is None:
                return self.error(404, "NoSuchKey", "The specified key does not exist.")
            return self.reply(200, stored, {"ETag": '"' + hashlib.md5(stored).hexdigest() + '"'})
        return self.reply(204)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
