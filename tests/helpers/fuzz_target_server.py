"""The spec-shaped target server of ``target_server.py`` with two planted bugs, each set off by
one request parameter, for the live fuzzer's tests (tests/test_fuzz_live.py).

Run by the harness from a target file exactly like the other (``python fuzz_target_server.py
PORT``, key in ``$TARGET_KEY``). The bugs are of the two kinds live fuzzing exists
for, which no offline check sees:

* a request carrying a sampling parameter (``temperature``, ``top_p``, ``presence_penalty``
  or ``frequency_penalty``) gets ``500`` (a spec-shaped error body): the server fails on a
  valid request;
* a streamed reply names its text deltas ``event: response.output_text.deltas`` while their
  ``type`` says ``response.output_text.delta``: only the raw wire shows it (a client reading
  ``type`` is content).

A request carrying ``metadata`` is refused with ``400`` and a spec-shaped error body, as a
server may refuse what it does not support: that is no bug, and must not be reported as one.
Every other request is answered as ``target_server.py`` answers it. Each request is appended
to ``$FUZZ_SERVER_LOG`` (one body a line, hex-encoded bytes) when set, so a test can count what was sent.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import target_server  # the sibling module: run as a script from this directory

SAMPLING = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})


def stream(body: dict) -> bytes:
    """The spec's stream, the ``event:`` name of each text delta misspelled."""
    wrong = b"event: response.output_text.deltas\n"
    return target_server.stream(body).replace(b"event: response.output_text.delta\n", wrong)


class Handler(target_server.Handler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}"
        log = os.environ.get("FUZZ_SERVER_LOG")
        if log:
            with open(log, "a", encoding="ascii") as out:
                out.write(raw.hex() + "\n")
        body = json.loads(raw)
        if self.headers.get("authorization") != f"Bearer {os.environ['TARGET_KEY']}":
            error = {"error": {"message": "bad key", "type": "authentication_error", "code": "401"}}
            self._send(401, json.dumps(error).encode(), "application/json")
        elif SAMPLING & set(body):
            error = {"message": "sampler crashed", "type": "server_error", "code": "server_error"}
            error = {"error": {**error, "param": None}}
            self._send(500, json.dumps(error).encode(), "application/json")
        elif "metadata" in body:
            error = {"message": "no metadata here", "type": "invalid_request_error"}
            error = {"error": {**error, "code": "unsupported_parameter", "param": "metadata"}}
            self._send(400, json.dumps(error).encode(), "application/json")
        elif body.get("stream"):
            self._send(200, stream(body), "text/event-stream")
        else:
            self._send(200, json.dumps(target_server.response(body)).encode(), "application/json")


def main() -> None:
    port = int(sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
