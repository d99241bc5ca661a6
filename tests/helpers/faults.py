"""Servers on 127.0.0.1 that misbehave on purpose, and the checks that nothing leaked.

``tests.helpers.loopback.LoopbackServer`` speaks well-formed HTTP through ``http.server``; the faults
here need bytes it cannot produce (a TCP reset before the status line, a gzip body that
does not inflate, a reply that never comes, an endless body), so this server writes raw
bytes on raw sockets. Each fault is a *behaviour*: a function given the connection and
the parsed request, free to write anything, stall, or reset.

Wire shapes per protocol (``WIRES``) are doc-derived: built from each vendor's API
reference (the URLs are on the builders), or by the library's own spec-conformant state
machine for the Responses protocols. No recorded traffic is copied here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.synth import synth_events, synth_response

__all__ = [
    "WIRES",
    "Behaviour",
    "Conn",
    "FaultServer",
    "Request",
    "Wire",
    "busy_connections",
    "enormous",
    "gzip_corrupt",
    "leftover_tasks",
    "never_answer",
    "refused_url",
    "reply",
    "reset_before_headers",
    "sequence",
    "sse",
    "sse_frames",
]


# -- the server ----------------------------------------------------------------------------


@dataclass
class Request:
    """One request as the server parsed it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived (backoff checks)

    def json(self) -> Any:
        return json.loads(self.body)


class Conn:
    """One accepted socket, as a behaviour sees it."""

    def __init__(self, sock: socket.socket, release: threading.Event) -> None:
        self.sock = sock
        self.release = release
        self.closed = False
        self.broken = False  # the client went away while we were writing
        self._reader = sock.makefile("rb")

    def read_request(self) -> Request | None:
        """The next request on this connection, or None when the client closed it."""
        try:
            line = self._reader.readline(65536)
            if not line:
                return None
            method, path, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                raw = self._reader.readline(65536)
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            body = self._reader.read(length) if length else b""
        except (OSError, ValueError):
            return None
        return Request(method, path, headers, body)

    def send(self, data: bytes) -> bool:
        """Write bytes; False (and ``broken``) when the client has gone."""
        if self.closed or self.broken:
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            self.broken = True
            return False
        return True

    def head(self, status: int, headers: dict[str, str], *, length: int | None = None) -> bool:
        """Status line and headers; chunked transfer unless ``length`` is given."""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"content-length: {length}" if length is not None else "transfer-encoding: chunked")
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunk(self, data: bytes) -> bool:
        return self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n") if data else True

    def end_chunks(self) -> bool:
        return self.send(b"0\r\n\r\n")

    def stall(self, seconds: float = 30.0) -> None:
        """Hold the connection without a byte, until the server shuts down (or ``seconds``)."""
        self.release.wait(seconds)

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0): the client sees 'connection reset', not an EOF."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._close()

    def close(self) -> None:
        """An orderly close (FIN)."""
        if not self.closed:
            self.closed = True
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            self._reader.close()
        with contextlib.suppress(OSError):
            self.sock.close()


Behaviour = Callable[[Conn, Request], None]


class FaultServer:
    """``with FaultServer(behaviour) as server:`` — one behaviour for every request.

    Keep-alive is honoured: after a behaviour returns without closing, the next request on
    the same socket is read. On exit the server releases every stall, closes every socket
    and joins every thread it started, so a test can count threads without seeing these.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[Request] = []
        self.accepted = 0
        self.release = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._conns: list[Conn] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-accept", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> FaultServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self._listener.close()
        self._acceptor.join(2)
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in threads:
            thread.join(2)

    def _accept_loop(self) -> None:
        while not self.release.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            conn = Conn(sock, self.release)
            thread = threading.Thread(target=self._serve, args=(conn,), name="fault-conn", daemon=True)
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: Conn) -> None:
        try:
            while not conn.closed and not conn.broken and not self.release.is_set():
                request = conn.read_request()
                if request is None:
                    break
                request.at = time.monotonic()
                with self._lock:
                    self.requests.append(request)
                self.behaviour(conn, request)
        finally:
            conn.close()


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- behaviours ----------------------------------------------------------------------------


def reply(status: int, body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> Behaviour:
    """A complete reply with content-length (JSON when ``body`` is a dict)."""
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    all_headers = {"content-type": "application/json" if isinstance(body, dict) else "text/html"}
    all_headers.update(headers or {})

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(status, all_headers, length=len(content))
        conn.send(content)

    return behaviour


def sse(
    frames: Sequence[bytes],
    *,
    then: str = "end",
    pause: float = 0.0,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """An event stream, one chunk per frame; ``then`` says how it ends:
    ``end`` (a proper last chunk), ``reset`` (TCP RST), ``stall`` (hold the socket silent)."""

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, {"content-type": "text/event-stream", **(headers or {})})
        for frame in frames:
            if pause:
                time.sleep(pause)
            if not conn.chunk(frame):
                return
        if then == "end":
            conn.end_chunks()
        elif then == "reset":
            conn.reset()
        elif then == "stall":
            conn.stall()
            conn.close()
        else:
            raise ValueError(f"unknown stream ending {then!r}")

    return behaviour


def reset_before_headers() -> Behaviour:
    """Read the request, then reset the connection without a byte of reply."""

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.reset()

    return behaviour


def never_answer() -> Behaviour:
    """Read the request and say nothing until the server shuts down."""

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.stall()
        conn.close()

    return behaviour


def gzip_corrupt(content_type: str = "application/json") -> Behaviour:
    """``content-encoding: gzip`` over bytes that start like gzip and then are garbage."""
    good = gzip.compress(b'{"id": "resp_x", "object": "response"}' * 50)
    corrupt = good[:12] + bytes(b ^ 0x5A for b in good[12:])

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, {"content-type": content_type, "content-encoding": "gzip"}, length=len(corrupt))
        conn.send(corrupt)

    return behaviour


def enormous(total: int, content_type: str = "application/json", *, chunked: bool = False) -> Behaviour:
    """A body of ``total`` bytes (an unterminated JSON string, or one endless SSE ``data:`` line)."""
    piece = b"x" * (1 << 16)

    def behaviour(conn: Conn, _request: Request) -> None:
        prefix = b"data: " if "event-stream" in content_type else b'{"id": "'
        if chunked:
            conn.head(200, {"content-type": content_type})
            send: Callable[[bytes], bool] = conn.chunk
        else:
            conn.head(200, {"content-type": content_type}, length=total)
            send = conn.send
        sent = len(prefix)
        if not send(prefix):
            return
        while sent < total and not conn.release.is_set():
            part = piece[: total - sent]
            if not send(part):
                return
            sent += len(part)
        if chunked:
            conn.end_chunks()

    return behaviour


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats (retry tests)."""
    count = [0]
    lock = threading.Lock()

    def behaviour(conn: Conn, request: Request) -> None:
        with lock:
            index = min(count[0], len(behaviours) - 1)
            count[0] += 1
        behaviours[index](conn, request)

    return behaviour


_REASONS = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    529: "Overloaded",
}


# -- wire shapes per protocol ----------------------------------------------------------------


def sse_frames(events: Sequence[dict[str, Any]], *, named: bool) -> list[bytes]:
    """One SSE frame per event (``event:`` line when the protocol names its events)."""
    frames = []
    for event in events:
        head = f"event: {event['type']}\n" if named else ""
        frames.append(f"{head}data: {json.dumps(event)}\n\n".encode())
    return frames


DONE_FRAME = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class Wire:
    """How one protocol looks on the wire, enough to build every fault from it."""

    protocol: str
    provider: str  # a registry provider speaking this protocol
    base_path: str  # appended to the server URL to make ``api_base``
    frames: list[bytes]  # a complete, valid stream without [DONE]
    uses_done: bool  # the protocol ends its streams with ``data: [DONE]``
    reply: dict[str, Any]  # a valid non-streaming reply
    error_body: Callable[[int, str], dict[str, Any]]  # the vendor's error body for a status
    extra: dict[str, Any] = field(default_factory=dict)

    def full_stream(self) -> list[bytes]:
        return [*self.frames, DONE_FRAME] if self.uses_done else list(self.frames)

    def truncated(self) -> list[bytes]:
        """The stream cut before its end: no terminal event, no finish, no [DONE]."""
        return self.frames[: max(2, len(self.frames) // 2)]

    def with_bad_json(self) -> list[bytes]:
        """The full stream with one event in the middle whose data is not JSON."""
        frames = self.full_stream()
        middle = len(self.frames) // 2
        frames[middle] = b'data: {"type": "response.output_text.delta", "delta": "unterminated\n\n'
        return frames


def _openai_error(status: int, message: str) -> dict[str, Any]:
    """https://platform.openai.com/docs/guides/error-codes (the ``error`` object)."""
    kinds = {401: "invalid_request_error", 403: "permission_error", 429: "rate_limit_error"}
    kind = kinds.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _anthropic_error(status: int, message: str) -> dict[str, Any]:
    """https://docs.anthropic.com/en/api/errors: ``{"type": "error", "error": {type, message}}``."""
    kinds = {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        408: "timeout_error",
        409: "invalid_request_error",
        422: "invalid_request_error",
        429: "rate_limit_error",
        500: "api_error",
        503: "api_error",
        529: "overloaded_error",
    }
    return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": message}}


def _gemini_error(status: int, message: str) -> dict[str, Any]:
    """https://ai.google.dev/gemini-api/docs/troubleshooting: google.rpc.Status as JSON."""
    statuses = {
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        408: "DEADLINE_EXCEEDED",
        409: "ABORTED",
        422: "INVALID_ARGUMENT",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }
    return {"error": {"code": status, "message": message, "status": statuses.get(status, "UNKNOWN")}}


def _doc_derived_responses_wire(protocol: str) -> Wire:
    """Responses streams as a conformant server sends them (the library's own state machine)."""
    events = synth_events({"model": "m", "input": "hi"}, text="Hello from a faulty server", pieces=6)
    return Wire(
        protocol=protocol,
        provider=protocol,
        base_path="/v1",
        frames=sse_frames(events, named=True),
        uses_done=True,
        reply=synth_response({"model": "m", "input": "hi"}),
        error_body=_openai_error,
    )


def _doc_derived_chat_wire() -> Wire:
    """https://platform.openai.com/docs/api-reference/chat-streaming: chunks, finish, usage, [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-doc",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": word}) for word in ("Hello", " from", " a", " faulty", " server")]
    events.append(chunk({}, "stop"))
    usage = {
        **chunk({}),
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }
    events.append(usage)
    frames = [f"data: {json.dumps(e)}\n\n".encode() for e in events]
    message = {"role": "assistant", "content": "Hello from a faulty server"}
    completion = {
        "id": "chatcmpl-doc",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }
    return Wire("chat", "openai_compatible", "/v1", frames, True, completion, _openai_error)


def _doc_derived_anthropic_wire() -> Wire:
    """https://docs.anthropic.com/en/docs/build-with-claude/streaming: named events,
    message_start ... message_stop, no [DONE]."""
    message: dict[str, Any] = {
        "id": "msg_doc",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-doc",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}
        for word in ("Hello", " from", " a", " faulty", " server")
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 6},
        },
        {"type": "message_stop"},
    ]
    full = {
        **message,
        "content": [{"type": "text", "text": "Hello from a faulty server"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 6},
    }
    return Wire("anthropic", "anthropic", "", sse_frames(events, named=True), False, full, _anthropic_error)


def _doc_derived_gemini_wire() -> Wire:
    """https://ai.google.dev/api/generate-content: ``data:`` chunks of GenerateContentResponse,
    the last with ``finishReason``; no event names, no [DONE]."""

    def part(text: str, finish: str | None = None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8},
            "modelVersion": "gemini-doc",
        }

    words = ["Hello", " from", " a", " faulty", " server"]
    events = [part(w) for w in words[:-1]] + [part(words[-1], "STOP")]
    frames = [f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events]
    return Wire(
        "gemini",
        "gemini",
        "/v1beta",
        frames,
        False,
        part("Hello from a faulty server", "STOP"),
        _gemini_error,
    )


WIRES: dict[str, Wire] = {
    "openai": _doc_derived_responses_wire("openai"),
    "openresponses": _doc_derived_responses_wire("openresponses"),
    "chat": _doc_derived_chat_wire(),
    "anthropic": _doc_derived_anthropic_wire(),
    "gemini": _doc_derived_gemini_wire(),
}


# -- leak checks -----------------------------------------------------------------------------


def _http_clients() -> Iterator[Any]:
    """Every httpx2 client held by a cached backend (the library's own and the openai SDK's)."""
    from anyllm.providers import factory

    for backend in list(factory._CACHE.values()):
        transport = getattr(backend, "transport", None)
        if transport is not None:
            if transport._client is not None:
                yield transport._client
            yield from transport._aclients.clients()
        sdks = [getattr(backend, "_client", None)]
        if transport is None and hasattr(backend, "_aclients"):
            sdks += backend._aclients.clients()  # the openai SDK's, one per event loop
        for sdk in sdks:
            inner = getattr(sdk, "_client", None)
            if inner is not None:
                yield inner


def _unwrapped(transport: Any) -> Any:
    """The httpx2 transport under the library's wrappers (the openai path's BoundedTransport)."""
    while transport is not None and not hasattr(transport, "_pool"):
        inner = getattr(transport, "inner", None) or getattr(transport, "_inner", None)
        if inner is None:
            break
        transport = inner
    return transport


def busy_connections() -> list[str]:
    """Pooled connections still carrying a request, and requests still waiting in a pool.

    A connection handed back after an error is idle (reusable) or closed; one that is
    neither, or a request the pool still tracks, is a leak: its response was never closed.
    """
    busy: list[str] = []
    for client in _http_clients():
        pool = getattr(_unwrapped(getattr(client, "_transport", None)), "_pool", None)
        if pool is None:
            continue
        for connection in pool.connections:
            if not connection.is_idle() and not connection.is_closed():
                busy.append(repr(connection))
        busy.extend(f"pending request {r!r}" for r in getattr(pool, "_requests", []))
    return busy


def other_tasks() -> set[asyncio.Task[Any]]:
    """Every task of the running loop except the caller's own."""
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}


async def leftover_tasks(before: set[asyncio.Task[Any]], ticks: int = 20) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` still pending after a few loop iterations.

    A few iterations, because an async generator dropped mid-iteration (httpx2's own
    ``aiter_raw`` under ``aiter_bytes`` when a decode error escapes) is closed by asyncio
    in a finalizer task scheduled for the next iteration: transient, not a leak.
    """
    for _ in range(ticks):
        extra = other_tasks() - before
        if not extra:
            return extra
        await asyncio.sleep(0)
    return other_tasks() - before


def wait_for_threads(baseline: set[threading.Thread], timeout: float = 3.0) -> list[str]:
    """Threads started since ``baseline`` that are still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        extra = [t for t in threading.enumerate() if t not in baseline and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            return [t.name for t in extra]
        time.sleep(0.02)
