"""Size bounds for clients whose reads the library does not do itself (the openai SDK).

The project's own HTTP path counts bytes as it reads (:mod:`anyllm.providers.http`). The
openai SDK reads replies on its own, whole, so a gigantic body or an endless SSE event
would fill memory before anyllm sees a byte. These transports wrap the SDK's httpx2
transport and count bytes on the wire with the same :class:`~anyllm.providers.http.ReplyBudget`:
a reply past ``MAX_BODY_BYTES``, or an SSE event past ``MAX_EVENT_BYTES``, stops the read
with :class:`BodyTooLarge`, which carries the typed error (ProviderError / StreamError)
the caller raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

from anyllm.errors import AnyLLMError
from anyllm.providers.http import ReplyBudget

__all__ = ["AsyncBoundedTransport", "BodyTooLarge", "BoundedTransport", "too_large_in"]

_EVENT_ENDS = (b"\n\n", b"\r\n\r\n", b"\r\r")


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


class _Counter:
    """Finds where SSE events end in raw bytes and feeds :class:`ReplyBudget`, which counts."""

    __slots__ = ("budget", "streaming", "tail")

    def __init__(self, provider: str, streaming: bool) -> None:
        self.budget = ReplyBudget(provider)
        self.streaming = streaming
        self.tail = b""  # the last bytes seen, so an event end split across chunks is found

    def count(self, chunk: bytes) -> None:
        try:
            if not self.streaming:
                self.budget.body(len(chunk))
                return
            window = self.tail + chunk
            end = max(window.rfind(mark) + len(mark) if mark in window else -1 for mark in _EVENT_ENDS)
            self.tail = window[-3:]
            self.budget.stream(len(chunk), since_event_end=len(window) - end if end >= 0 else None)
        except AnyLLMError as error:
            raise BodyTooLarge(error) from None


def _counter(provider: str, response: httpx2.Response) -> _Counter:
    return _Counter(provider, "event-stream" in response.headers.get("content-type", ""))


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, counter: _Counter) -> None:
        self._inner = inner
        self._counter = counter

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._counter.count(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncBoundedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, counter: _Counter) -> None:
        self._inner = inner
        self._counter = counter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._counter.count(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class BoundedTransport(httpx2.BaseTransport):
    """Wraps a sync transport; every reply's body is counted as it is read."""

    def __init__(self, inner: httpx2.BaseTransport, provider: str) -> None:
        self._inner = inner
        self._provider = provider

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        response.stream = _BoundedStream(response.stream, _counter(self._provider, response))
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncBoundedTransport(httpx2.AsyncBaseTransport):
    """Wraps an async transport; every reply's body is counted as it is read."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, provider: str) -> None:
        self._inner = inner
        self._provider = provider

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        response.stream = _AsyncBoundedStream(response.stream, _counter(self._provider, response))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
