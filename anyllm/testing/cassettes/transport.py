"""The httpx2 transport patch: replay recorded bodies chunk by chunk, record under a bound.

Why not vcrpy's own httpx2 stub: it reads a streamed body whole and replays it as one
chunk, so chunk-boundary bugs never show on replay, and it reads an endless SSE stream
forever while recording. Here a recorded ``text/event-stream`` body is re-delivered in
many chunks (event boundaries plus deliberately awkward splits), byte for byte, and a
recording that passes its size or time bound (compressed or inflated), or that comes in a
coding the recorder cannot undo, raises :class:`RecordingLimitError`. A request that fails
while recording marks its cassette, which then writes nothing (see
:meth:`~anyllm.testing.cassettes.cassette.AnyllmCassette.live_failed`).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest

from anyllm.testing.cassettes.encoding import (
    BodyTooLargeError,
    UndecodableBodyError,
    accepted_encodings,
    content_codings,
    decode_body,
)

__all__ = [
    "PATCH",
    "ActiveCassette",
    "RecordBounds",
    "RecordingLimitError",
    "ReplayStream",
    "TransportPatch",
    "replay_chunks",
]


class RecordingLimitError(RuntimeError):
    """A recorded body passed the size or time bound (an endless stream, or a gzip bomb), or
    came in a form the recorder cannot store safely (a coding it cannot undo). Nothing of
    the case is recorded. Not an OSError, nor an httpx2 error: no client may retry it or
    take it for the server's own failure."""


# -- chunked replay ---------------------------------------------------------------------------


def replay_chunks(body: bytes) -> list[bytes]:
    """Split an SSE body the way networks do, and worse: at every event boundary, and within
    events at awkward places (inside ``data:``, between CR and LF, inside a multi-byte
    character, single bytes). Deterministic, and the chunks join back to ``body`` exactly."""
    if len(body) < 2:
        return [body] if body else []
    cuts: set[int] = set()
    start = 0
    event_index = 0
    while start < len(body):
        ends = [
            (i + len(sep)) for sep in (b"\n\n", b"\r\n\r\n", b"\r\r") if (i := body.find(sep, start)) >= 0
        ]
        end = min(ends) if ends else len(body)
        length = end - start
        kind = event_index % 4
        if kind == 1 and length > 4:
            cuts.add(start + 3)  # inside the field name: "dat" | "a: ..."
        elif kind == 2 and length > 2:
            cuts.add(start + length // 2)
        elif kind == 3 and length > 1:
            cuts.update((start + 1, end - 1))  # single bytes at both ends
        cuts.add(end)
        start = end
        event_index += 1
    for index in range(1, len(body)):
        if body[index - 1 : index + 1] == b"\r\n" and index not in cuts and len(cuts) % 2 == 0:
            cuts.add(index)  # CR | LF
    utf8 = [i for i in range(1, len(body)) if 0x80 <= body[i] <= 0xBF and body[i - 1] >= 0xC0]
    cuts.update(utf8[::3])  # inside a multi-byte character
    points = sorted(c for c in cuts if 0 < c < len(body))
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    return [c for c in chunks if c]


class ReplayStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A recorded body handed out chunk by chunk, sync or async."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def _is_sse(headers: Mapping[str, Any]) -> bool:
    for name, values in headers.items():
        if name.lower() == "content-type":
            vals = values if isinstance(values, list) else [values]
            return any("text/event-stream" in str(v) for v in vals)
    return False


def _replayed_response(recorded: dict[str, Any]) -> httpx2.Response:
    headers = [(name, value) for name, values in recorded["headers"].items() for value in values]
    body = recorded["body"]["string"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    chunks = replay_chunks(body) if _is_sse(recorded["headers"]) else [body]
    message = recorded["status"].get("message")
    return httpx2.Response(
        recorded["status"]["code"],
        headers=headers,
        stream=ReplayStream(chunks),
        extensions={"reason_phrase": message.encode("ascii")} if message else {},
    )


# -- bounded recording ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordBounds:
    max_bytes: int = 8 * 1024 * 1024
    max_seconds: float = 120.0


def _decoded(
    headers: httpx2.Headers, content: bytes, bounds: RecordBounds, url: str
) -> tuple[list[tuple[str, str]], bytes]:
    """Stored bodies are plain text: every content coding is undone (and the headers fixed)
    so scrubbing, the key check and review see the real bytes (see :mod:`.encoding`)."""
    items = list(headers.multi_items())
    codings = content_codings(headers.get_list("content-encoding"))
    if not codings:
        return items, content
    try:
        content = decode_body(content, codings, bounds.max_bytes)
    except (BodyTooLargeError, UndecodableBodyError) as exc:
        raise RecordingLimitError(f"recording {url}: {exc}; not recorded") from None
    items = [(k, v) for k, v in items if k.lower() not in ("content-encoding", "content-length")]
    items.append(("content-length", str(len(content))))
    return items, content


def _serialize_response(
    response: httpx2.Response, content: bytes, bounds: RecordBounds, url: str
) -> dict[str, Any]:
    items, content = _decoded(response.headers, content, bounds, url)
    headers: dict[str, list[str]] = {}
    for name, value in items:
        headers.setdefault(name, []).append(value)
    return {
        "status": {"code": response.status_code, "message": response.reason_phrase},
        "headers": headers,
        "body": {"string": content},
    }


def _bounded_read(chunks: Iterable[bytes], bounds: RecordBounds, url: str) -> bytes:
    deadline = time.monotonic() + bounds.max_seconds
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        if total > bounds.max_bytes:
            raise RecordingLimitError(f"recording {url}: body passed {bounds.max_bytes} bytes; not recorded")
        if time.monotonic() > deadline:
            raise RecordingLimitError(
                f"recording {url}: body still open after {bounds.max_seconds:g} s; not recorded"
            )
    return b"".join(parts)


async def _abounded_read(chunks: AsyncIterator[bytes], bounds: RecordBounds, url: str) -> bytes:
    deadline = time.monotonic() + bounds.max_seconds
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        if total > bounds.max_bytes:
            raise RecordingLimitError(f"recording {url}: body passed {bounds.max_bytes} bytes; not recorded")
        if time.monotonic() > deadline:
            raise RecordingLimitError(
                f"recording {url}: body still open after {bounds.max_seconds:g} s; not recorded"
            )
    return b"".join(parts)


def _limit_read_timeout(request: httpx2.Request, bounds: RecordBounds) -> bool:
    """A server that sends nothing at all must not block one read longer than the bound.
    True when the bound, not the caller's own timeout, is now what limits a read."""
    timeout = dict(request.extensions.get("timeout") or {})
    current = timeout.get("read")
    timeout["read"] = bounds.max_seconds if current is None else min(float(current), bounds.max_seconds)
    request.extensions["timeout"] = timeout
    return current is None or bounds.max_seconds < float(current)


def _where(url: httpx2.URL) -> str:
    """The URL an error names: no query (``?key=`` holds a key) and no user info."""
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


def _prepare_live(request: httpx2.Request) -> None:
    """Ask only for codings the recorder can undo (see :mod:`.encoding`)."""
    request.headers["accept-encoding"] = accepted_encodings(request.headers.get("accept-encoding"))


def _live_error(exc: BaseException, bound_limits: bool, bounds: RecordBounds, url: str) -> BaseException:
    """The error a failed recording raises: a read timeout the recording bound caused says
    so, with the bound (the caller's own timeout would name another figure)."""
    if bound_limits and isinstance(exc, httpx2.ReadTimeout):
        return RecordingLimitError(
            f"recording {url}: no byte for {bounds.max_seconds:g} s (the recording bound, "
            f"--record-timeout); not recorded"
        )
    return exc


class ActiveCassette(Protocol):
    """What the transport needs of the cassette a request goes to (vcrpy's Cassette API,
    plus the recording bounds and ``record``): :class:`~anyllm.testing.cassettes.cassette.AnyllmCassette`."""

    bounds: RecordBounds
    write_protected: bool

    def live_failed(self, error: BaseException) -> None: ...

    def can_play_response_for(self, request: VcrRequest) -> bool: ...

    def play_response(self, request: VcrRequest) -> dict[str, Any]: ...

    def filter_request(self, request: VcrRequest) -> Any: ...

    def record(self, request: VcrRequest, response: dict[str, Any]) -> dict[str, Any]: ...


# -- the patch --------------------------------------------------------------------------------


def _vcr_request(request: httpx2.Request, body: bytes) -> VcrRequest:
    return VcrRequest(request.method, str(request.url), body, dict(request.headers))


def _replay_or_go_live(
    cassette: ActiveCassette, request: httpx2.Request, body: bytes
) -> tuple[VcrRequest, httpx2.Response | None]:
    """The recorded reply for this request if the cassette has one; else ready it to go live.

    Shared by the sync and async handlers: only reading the request body and the live
    send differ between them. Refuses a live request on a write-protected cassette.
    """
    request.stream = httpx2.ByteStream(body)
    _prepare_live(request)
    vreq = _vcr_request(request, body)
    if cassette.can_play_response_for(vreq):
        return vreq, _replayed_response(cassette.play_response(vreq))
    if cassette.write_protected and cassette.filter_request(vreq):
        raise CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=vreq)
    return vreq, None


def _handle_sync(cassette: ActiveCassette, transport: Any, request: httpx2.Request) -> httpx2.Response:
    body = b"".join(request.stream)  # type: ignore[arg-type]
    vreq, replayed = _replay_or_go_live(cassette, request, body)
    if replayed is not None:
        return replayed
    bounds, url = cassette.bounds, _where(request.url)
    bound_limits = _limit_read_timeout(request, bounds)
    try:
        response = PATCH.real_sync(transport, request)
        try:
            content = _bounded_read(response.stream, bounds, url)  # type: ignore[arg-type]
        finally:
            response.stream.close()  # type: ignore[union-attr]
        recorded = _serialize_response(response, content, bounds, url)
    except BaseException as exc:
        error = _live_error(exc, bound_limits, bounds, url)
        cassette.live_failed(error)
        if error is exc:
            raise
        raise error from None
    return _replayed_response(cassette.record(vreq, recorded))  # scrubbed, as replay gives it


async def _handle_async(cassette: ActiveCassette, transport: Any, request: httpx2.Request) -> httpx2.Response:
    body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
    vreq, replayed = _replay_or_go_live(cassette, request, body)
    if replayed is not None:
        return replayed
    bounds, url = cassette.bounds, _where(request.url)
    bound_limits = _limit_read_timeout(request, bounds)
    try:
        response = await PATCH.real_async(transport, request)
        try:
            content = await _abounded_read(response.stream.__aiter__(), bounds, url)
        finally:
            await response.stream.aclose()
        recorded = _serialize_response(response, content, bounds, url)
    except BaseException as exc:
        error = _live_error(exc, bound_limits, bounds, url)
        cassette.live_failed(error)
        if error is exc:
            raise
        raise error from None
    return _replayed_response(cassette.record(vreq, recorded))  # scrubbed, as replay gives it


class TransportPatch:
    """The httpx2 transport patch, installed while at least one cassette is active.

    Why not ``mock.patch`` per cassette (as vcrpy does): cassettes entered and left by
    several threads restore each other's patches in the wrong order and can leave a stale
    stub installed for the rest of the process. Here the patch is reference-counted under a
    lock, and each request goes to the cassette active in its own context (thread or task),
    or else to the most recently entered one.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: list[ActiveCassette] = []
        self.current: contextvars.ContextVar[ActiveCassette | None] = contextvars.ContextVar(
            "anyllm_cassette", default=None
        )
        self.real_sync: Callable[..., httpx2.Response] = httpx2.HTTPTransport.handle_request
        self.real_async: Callable[..., Any] = httpx2.AsyncHTTPTransport.handle_async_request

    def cassette(self) -> ActiveCassette:
        with self.lock:
            mine = self.current.get()
            if mine is not None and any(c is mine for c in self.active):
                return mine
            if not self.active:
                raise RuntimeError("anyllm cassette patch called with no active cassette")
            return self.active[-1]

    def enter(self, cassette: ActiveCassette) -> contextvars.Token[ActiveCassette | None]:
        with self.lock:
            if not self.active:
                self.real_sync = httpx2.HTTPTransport.handle_request
                self.real_async = httpx2.AsyncHTTPTransport.handle_async_request
                httpx2.HTTPTransport.handle_request = _dispatch_sync  # type: ignore[method-assign]
                httpx2.AsyncHTTPTransport.handle_async_request = _dispatch_async  # type: ignore[method-assign]
            self.active.append(cassette)
            return self.current.set(cassette)

    def leave(self, cassette: ActiveCassette, token: contextvars.Token[ActiveCassette | None]) -> None:
        with self.lock:
            self.active = [c for c in self.active if c is not cassette]
            if not self.active:
                httpx2.HTTPTransport.handle_request = self.real_sync  # type: ignore[method-assign]
                httpx2.AsyncHTTPTransport.handle_async_request = self.real_async  # type: ignore[method-assign]
        with contextlib.suppress(ValueError):  # left from another context than entered
            self.current.reset(token)


PATCH = TransportPatch()


def _dispatch_sync(self: Any, request: httpx2.Request) -> httpx2.Response:
    return _handle_sync(PATCH.cassette(), self, request)


async def _dispatch_async(self: Any, request: httpx2.Request) -> httpx2.Response:
    return await _handle_async(PATCH.cassette(), self, request)
