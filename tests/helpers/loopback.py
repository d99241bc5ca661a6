"""A real HTTP server on 127.0.0.1 for tests: scripted replies, every request recorded.

Tests talk to it through the real clients (openai SDK, httpx2), so what is checked is
what crosses the socket. Replies can be JSON, SSE sent in chunks (chunked transfer
encoding, optional pauses), or deliberate faults.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server sends back for one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None  # set: chunked transfer, one write per chunk
    pause: float = 0.0  # seconds between chunks
    reset_after: int | None = None  # close the socket after this many chunks, mid-body

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, json.dumps(payload).encode(), {"content-type": "application/json", **(headers or {})}
        )

    @classmethod
    def sse(cls, events: list[dict[str, Any]], *, done: bool = True, named: bool = True, **kw: Any) -> Reply:
        """An SSE body: one ``event:``/``data:`` block per event, then ``[DONE]``."""
        chunks = []
        for event in events:
            head = f"event: {event['type']}\n" if named else ""
            chunks.append(f"{head}data: {json.dumps(event)}\n\n".encode())
        if done:
            chunks.append(b"data: [DONE]\n\n")
        return cls(200, b"", {"content-type": "text/event-stream"}, chunks=chunks, **kw)


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StreamStats:
    """How far the server got writing one chunked body (early-close evidence)."""

    chunks_total: int
    chunks_written: int = 0
    broken: bool = False
    finished: bool = False


class LoopbackServer:
    """``with LoopbackServer(handler) as server:`` — ``handler(seen) -> Reply``."""

    def __init__(self, handler: Callable[[Seen], Reply] | Reply) -> None:
        self.handler = handler if callable(handler) else (lambda _seen: handler)
        self.requests: list[Seen] = []
        self.stats: list[StreamStats] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                )
                outer.requests.append(seen)
                reply = outer.handler(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is None:
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                stats = StreamStats(len(reply.chunks))
                outer.stats.append(stats)
                try:
                    for count, chunk in enumerate(reply.chunks):
                        if reply.reset_after is not None and count >= reply.reset_after:
                            self.wfile.flush()
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        if reply.pause:
                            time.sleep(reply.pause)
                        if chunk:
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                            self.wfile.flush()
                        stats.chunks_written += 1
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    stats.broken = True
                    self.close_connection = True
                finally:
                    stats.finished = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def last(self) -> Seen:
        return self.requests[-1]


def serving(handler: Callable[[Seen], Reply] | Reply) -> Iterator[LoopbackServer]:
    """Generator form for pytest fixtures."""
    with LoopbackServer(handler) as server:
        yield server
