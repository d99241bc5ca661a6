"""A keep-alive HTTP server on 127.0.0.1, in its own process, for the benchmarks.

Serves fixed bodies: a ResponseResource (and its SSE stream) on ``/v1/responses`` and a
chat completion on ``/v1/chat/completions``, so every client measured talks to the same
server over the same loopback socket and only the client side differs.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.synth import synth_events

CHAT_COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "bench-model",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello from loopback"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
}


def bodies(stream_events: int) -> dict[str, bytes]:
    events = synth_events({"model": "bench-model", "input": "hi"})
    long_events = synth_events(
        {"model": "bench-model", "input": "hi"}, text="x" * stream_events, pieces=stream_events
    )
    sse = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in long_events)
    return {
        "responses": json.dumps(events[-1]["response"]).encode(),
        "responses_sse": sse + b"data: [DONE]\n\n",
        "chat": json.dumps(CHAT_COMPLETION).encode(),
    }


def _serve(port_queue: Any, stream_events: int, backlog: int = 128) -> None:
    """Serve the fixed bodies; ``backlog`` lets a load test connect 1,000 clients at once."""
    payloads = bodies(stream_events)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per reply and no Nagle: otherwise headers and body leave in separate
        # packets and delayed ACKs add ~40 ms to every call, for every client alike.
        disable_nagle_algorithm = True
        wbufsize = 1 << 16

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if self.path.endswith("/chat/completions"):
                body, kind = payloads["chat"], "application/json"
            elif request.get("stream"):
                body, kind = payloads["responses_sse"], "text/event-stream"
            else:
                body, kind = payloads["responses"], "application/json"
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = backlog
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


class BenchServer:
    """``with BenchServer() as url:`` — the server runs in a child process."""

    def __init__(self, stream_events: int = 1000, backlog: int = 128) -> None:
        self.stream_events = stream_events
        self._queue: Any = multiprocessing.Queue()
        self._process = multiprocessing.Process(
            target=_serve, args=(self._queue, stream_events, backlog), daemon=True
        )

    def __enter__(self) -> str:
        self._process.start()
        return f"http://127.0.0.1:{self._queue.get(timeout=30)}/v1"

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(5)
