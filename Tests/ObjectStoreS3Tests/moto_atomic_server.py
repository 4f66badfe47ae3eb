#!/usr/bin/env python3
"""moto's S3 server with S3's atomic conditional writes.

    python3 moto_atomic_server.py HOST PORT

moto serves each request on a thread of its own and checks `If-None-Match` / `If-Match` and
then stores without a lock, so two racing conditional puts can both succeed — which S3 never
allows (all but one get 412 or 409). This runs moto's own application behind a WSGI wrapper in
which every mutating request (PUT, POST, DELETE) holds one lock for its whole handling, so a
condition and its write are atomic as in S3. Reads stay concurrent. Nothing else of moto
changes; the tests start it in place of `moto_server -H HOST -p PORT`.
"""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

MUTATING = {"PUT", "POST", "DELETE"}


class SerializedWrites:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in MUTATING:
            return self.app(environ, start_response)
        with self.lock:
            # The whole response is produced inside the lock (moto's responses are small).
            return list(self.app(environ, start_response))


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    application = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, SerializedWrites(application), threaded=True)


if __name__ == "__main__":
    main()
