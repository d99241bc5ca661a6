"""Size bounds and deadlines for clients whose reads the library does not do itself (the openai SDK).

The project's own HTTP path counts decoded bytes and events as it reads
(:mod:`anyllm.providers.http`). The openai SDK reads replies on its own, whole, so a
gigantic body, a gzip bomb or an endless SSE event would fill memory before anyllm sees a
byte, and a trickling server would hold it forever. These transports wrap the SDK's
httpx2 transport and, for every reply:

- undo its ``Content-Encoding`` here, in httpx2's bounded pieces, and count the *decoded*
  bytes with the same :class:`~anyllm.providers.http.ReplyBudget` (a 100 KB gzip body that
  inflates to 100 MiB is refused at ``MAX_BODY_BYTES``; the client above sees the plain
  body, without the header);
- in an SSE body, count the bytes since the last event the SSE rules would dispatch (a
  ``data`` field, then a blank line): blank lines and comments alone are no event, so an
  endless run of them reaches ``MAX_EVENT_BYTES`` instead of spinning forever;
- read under a :class:`~anyllm.providers.deadline.Deadline`: the head and the whole body
  of a JSON reply, the head and each event of a stream, within ``timeout``.

A bound stops the read with :class:`BodyTooLarge`, which carries the typed error
(ProviderError / StreamError) the caller raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

from anyllm.errors import AnyLLMError
from anyllm.providers.deadline import Deadline, install_transport
from anyllm.providers.http import ReplyBudget

__all__ = ["AsyncBoundedTransport", "BodyTooLarge", "BoundedTransport", "EventScanner", "too_large_in"]


class BodyTooLarge(httpx2.DecodingError):
    """Raised inside httpx2 (so every client stops reading); ``error`` is what to raise."""

    def __init__(self, error: AnyLLMError) -> None:
        super().__init__(error.message)
        self.error = error


def too_large_in(exc: BaseException) -> AnyLLMError | None:
    """The typed size error behind ``exc`` (clients wrap transport errors in their own)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BodyTooLarge):
            return seen.error
        seen = seen.__cause__ or seen.__context__
    return None


class EventScanner:
    """Finds, in raw SSE bytes, where the WHATWG rules dispatch an event: at a blank line
    that follows at least one ``data`` field. Lines end at LF, CR or CRLF (a CRLF may be
    split across chunks); a leading BOM is skipped. Nothing is decoded or kept but the first
    bytes of an unfinished line."""

    __slots__ = ("data", "head", "skip_lf", "started")

    def __init__(self) -> None:
        self.data = False  # the event being read has a data field
        self.head = b""  # the first bytes (at most 9) of the unfinished line
        self.skip_lf = False  # the last chunk ended on CR: a leading LF belongs to it
        self.started = False  # past the first line (which may open with a BOM)

    def feed(self, chunk: bytes) -> int | None:
        """How many bytes of ``chunk`` follow the last event it completes (None: none completes)."""
        if self._whole_events(chunk):
            return 0
        after: int | None = None
        position = 0
        if self.skip_lf:
            self.skip_lf = False
            if chunk[:1] == b"\n":
                position = 1
        if not self.data and not self.head:  # blank lines that close no event: skip them at once
            rest = chunk[position:].lstrip(b"\r\n")
            if len(rest) < len(chunk) - position:
                self.started = True
                if not rest:
                    self.skip_lf = chunk.endswith(b"\r")
                    return None
                position = len(chunk) - len(rest)
        for line in chunk[position:].splitlines(keepends=True):
            position += len(line)
            text = line.rstrip(b"\r\n")
            start = (self.head + text[:9])[:9]
            if len(text) == len(line):  # unfinished: the chunk ends inside this line
                self.head = start
                continue
            self.head = b""
            if not self.started:
                self.started = True
                start = start.removeprefix(b"\xef\xbb\xbf")
            if not start:  # a blank line
                if self.data:
                    self.data = False
                    after = len(chunk) - position
            elif start[:5] == b"data:" or start[:6] == b"data":
                self.data = True
            if position == len(chunk) and line.endswith(b"\r"):
                self.skip_lf = True
        return after

    def _whole_events(self, chunk: bytes) -> bool:
        """The common case, decided without a loop over lines: the chunk starts at a line
        start, has LF line ends only, and ends with a blank line closing an event that has a
        data field. Then that event is the chunk's last, and the state after it is fresh."""
        if self.head or self.skip_lf or not chunk.endswith(b"\n\n") or b"\r" in chunk:
            return False
        if not self.started:
            if chunk[:1] == b"\xef":  # perhaps a BOM: leave it to the loop
                return False
            self.started = True
        before = chunk.rfind(b"\n\n", 0, len(chunk) - 2)  # the blank line before the last event
        last = chunk[before + 2 if before >= 0 else 0 : -1]  # its lines, each with its LF
        if not last or last[:1] == b"\n" or b"\n\n" in last:  # more blank lines: leave them to the loop
            return False
        if not (last.startswith((b"data:", b"data\n")) or b"\ndata:" in last or b"\ndata\n" in last):
            return False
        self.data = False
        return True


class _Guard:
    """One reply: its budget, its deadline, and (for a stream) where its events end."""

    __slots__ = ("budget", "deadline", "scanner")

    def __init__(self, provider: str, response: httpx2.Response, deadline: Deadline) -> None:
        self.budget = ReplyBudget(provider, response.status_code)
        self.deadline = deadline
        streaming = "event-stream" in response.headers.get("content-type", "")
        self.scanner = EventScanner() if streaming else None

    def count(self, piece: bytes) -> bool:
        """Count decoded bytes; True when they complete an event (its deadline then restarts)."""
        try:
            if self.scanner is None:
                self.budget.body(len(piece))
                return False
            after = self.scanner.feed(piece)
            self.budget.stream(len(piece), since_event_end=after)
            return after is not None
        except AnyLLMError as error:
            raise BodyTooLarge(error) from None


def _read_timeout(request: httpx2.Request) -> float | None:
    """The client's timeout for this request (the SDK's, or the library's configured one)."""
    value = (request.extensions.get("timeout") or {}).get("read")
    return float(value) if isinstance(value, int | float) else None


def _take_decoding(response: httpx2.Response) -> httpx2.Response | None:
    """When the reply is content-encoded: a response that decodes the original stream (in
    httpx2's bounded pieces), with ``response`` itself now announcing a plain body."""
    encodings = [v.strip().lower() for v in response.headers.get_list("content-encoding", split_commas=True)]
    if not any(e and e != "identity" for e in encodings):
        return None
    source = httpx2.Response(response.status_code, headers=response.headers.copy(), stream=response.stream)
    del response.headers["content-encoding"]
    if "content-length" in response.headers:
        del response.headers["content-length"]
    return source


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(self, raw: Any, source: httpx2.Response | None, guard: _Guard) -> None:
        self._raw = raw
        self._source = source
        self._guard = guard

    def __iter__(self) -> Iterator[bytes]:
        guard = self._guard
        pieces = self._raw if self._source is None else self._source.iter_bytes()
        for piece in guard.deadline.iterate(pieces):
            completed = guard.count(piece)
            yield piece
            if completed:
                guard.deadline.restart()

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
        else:
            self._raw.close()


class _AsyncBoundedStream(httpx2.AsyncByteStream):
    def __init__(self, raw: Any, source: httpx2.Response | None, guard: _Guard) -> None:
        self._raw = raw
        self._source = source
        self._guard = guard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        guard = self._guard
        pieces = self._raw.__aiter__() if self._source is None else self._source.aiter_bytes()
        async for piece in guard.deadline.aiterate(pieces):
            completed = guard.count(piece)
            yield piece
            if completed:
                guard.deadline.restart()

    async def aclose(self) -> None:
        if self._source is not None:
            await self._source.aclose()
        else:
            await self._raw.aclose()


class BoundedTransport(httpx2.BaseTransport):
    """Wraps a sync transport; every reply is decoded, counted and timed as it is read."""

    def __init__(self, inner: httpx2.BaseTransport, provider: str) -> None:
        self.inner = inner
        self._provider = provider
        install_transport(inner)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        deadline = Deadline(_read_timeout(request))
        token = deadline.enter()
        try:
            response = self.inner.handle_request(request)
        finally:
            deadline.leave(token)
        guard = _Guard(self._provider, response, deadline)
        response.stream = _BoundedStream(response.stream, _take_decoding(response), guard)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncBoundedTransport(httpx2.AsyncBaseTransport):
    """Wraps an async transport; every reply is decoded, counted and timed as it is read."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, provider: str) -> None:
        self.inner = inner
        self._provider = provider
        install_transport(inner)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        deadline = Deadline(_read_timeout(request))
        token = deadline.enter()
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            deadline.leave(token)
        guard = _Guard(self._provider, response, deadline)
        response.stream = _AsyncBoundedStream(response.stream, _take_decoding(response), guard)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
