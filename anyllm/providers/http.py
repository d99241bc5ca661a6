"""The project's own HTTP path: JSON POSTs and SSE streams over httpx2, errors typed.

Used by the openresponses backend and every translated backend. One sync and one async
httpx2 client per backend, created on first use and kept, so a call costs one request.
Every transport failure becomes an ``anyllm.errors`` exception; a stream's connection is
closed when its iterator finishes, is closed early (even before its first event), or is
garbage collected (:mod:`anyllm.providers.closing`). ``timeout`` is a deadline for a whole
JSON reply and for each event of a stream, not for each socket read
(:mod:`anyllm.providers.deadline`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import ssl
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

import httpx2

from anyllm.errors import (
    AnyLLMError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StreamError,
    error_from_http,
)
from anyllm.providers.base import ClientConfig
from anyllm.providers.closing import ClosingAsyncStream, ClosingStream
from anyllm.providers.deadline import Deadline, install_client
from anyllm.providers.endpoint import endpoint_hint
from anyllm.providers.loop_clients import LoopClients
from anyllm.providers.redirects import async_redirect_policy, redirect_policy
from anyllm.streaming import SSEDecoder, SSEEvent

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENT_BYTES",
    "HttpTransport",
    "ReplyBudget",
    "auth_headers",
    "dumps",
    "shared_ssl_context",
]

_T = TypeVar("_T")

# Rate limits and server failures only: a 4xx other than 429 will fail the same way again.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})

# A reply body (or one SSE event) larger than this is refused instead of read to the end, so
# a server sending an endless or gigantic body fails typed instead of exhausting memory.
# Read at each use (tests and callers may tune them), by ReplyBudget only.
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_EVENT_BYTES = 32 * 1024 * 1024


class ReplyBudget:
    """Counts one reply's bytes as they arrive and refuses it past the bounds, typed.

    The one place the bounds are applied, for this module's own reads and for the
    transports that wrap the openai SDK's (:mod:`anyllm.providers.bounded`): a whole body
    past ``MAX_BODY_BYTES`` is a ProviderError, one SSE event past ``MAX_EVENT_BYTES`` a
    StreamError.
    """

    __slots__ = ("pending", "provider", "status", "total")

    def __init__(self, provider: str, status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        self.total = 0  # bytes of the whole body
        self.pending = 0  # bytes since the last complete SSE event

    def body(self, size: int) -> None:
        """``size`` more bytes of a body that is read whole."""
        self.total += size
        if self.total > MAX_BODY_BYTES:
            raise ProviderError(
                f"{self.provider} sent a reply larger than {MAX_BODY_BYTES} bytes; refused",
                provider=self.provider,
                status_code=self.status,
            )

    def stream(self, size: int, *, since_event_end: int | None) -> None:
        """``size`` more bytes of an SSE stream; ``since_event_end``: how many of them follow
        the last event that ended inside them (None: no event ended)."""
        self.pending = self.pending + size if since_event_end is None else since_event_end
        if self.pending > MAX_EVENT_BYTES:
            raise StreamError(
                f"{self.provider} sent a stream event larger than {MAX_EVENT_BYTES} bytes; refused",
                provider=self.provider,
            )


def dumps(body: Any) -> bytes:
    """Compact JSON bytes, as every provider accepts."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _backoff(attempt: int, error: AnyLLMError | None) -> float:
    hint = error.retry_after if isinstance(error, RateLimitError) else None
    if hint is not None and math.isfinite(hint):  # nan would raise inside sleep()
        return min(max(hint, 0.0), 60.0)
    return float(min(0.5 * 2**attempt, 8.0) * (0.5 + random.random() / 2))


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verified TLS context shared by every client: building one loads the CA bundle
    (about 18 ms here), which each new client, sync and async, would otherwise pay again."""
    return httpx2.create_ssl_context()


def _retryable(error: AnyLLMError) -> bool:
    if error.status_code is not None:  # an HTTP reply: 408 is a 4xx like the others
        return error.status_code in _RETRY_STATUSES
    return isinstance(error, ProviderTimeoutError | ProviderConnectionError)


class HttpTransport:
    """JSON and SSE over httpx2 for one provider configuration."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.provider = config.metadata.name
        self.base_url = config.base_url.rstrip("/")
        self._headers = {"content-type": "application/json", **headers, **config.extra_headers}
        self._params = dict(params or {})
        self._timeout = httpx2.Timeout(config.timeout, connect=min(config.timeout, 30.0))
        self._client: httpx2.Client | None = None
        # An AsyncClient's pool belongs to one event loop: one per loop, closed with it.
        self._aclients: LoopClients[httpx2.AsyncClient] = LoopClients(self._new_aclient, _aclose_client)

    # -- clients ---------------------------------------------------------------------------

    @property
    def client(self) -> httpx2.Client:
        if self._client is None:
            self._client = install_client(
                httpx2.Client(
                    headers=self._headers,
                    params=self._params,
                    timeout=self._timeout,
                    verify=shared_ssl_context(),
                    transport=self.config.client_args.get("transport"),
                    **redirect_policy(self.provider),
                )
            )
        return self._client

    @property
    def aclient(self) -> httpx2.AsyncClient:
        return self._aclients.get()

    def _new_aclient(self) -> httpx2.AsyncClient:
        client: httpx2.AsyncClient = install_client(
            httpx2.AsyncClient(
                headers=self._headers,
                params=self._params,
                timeout=self._timeout,
                verify=shared_ssl_context(),
                transport=self.config.client_args.get("async_transport"),
                **async_redirect_policy(self.provider),
            )
        )
        return client

    def close(self) -> None:
        """Close the sync client and every event loop's async client (each on its loop)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._aclients.close()

    async def aclose(self) -> None:
        """:meth:`close`, awaiting the running loop's async client."""
        if self._client is not None:
            self._client.close()
            self._client = None
        await self._aclients.aclose()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- errors ----------------------------------------------------------------------------

    def _where(self, exc: Exception) -> str:
        """The URL ``exc`` happened on and how to change it (:mod:`anyllm.providers.endpoint`)."""
        try:
            url = str(exc.request.url) if isinstance(exc, httpx2.RequestError) else self.base_url
        except RuntimeError:  # an exception raised without its request
            url = self.base_url
        return endpoint_hint(self.config.metadata, url, self.config.base_url_origin)

    def _transport_error(self, exc: Exception, *, streaming: bool = False) -> AnyLLMError:
        if isinstance(exc, httpx2.TimeoutException):
            where = "" if streaming else f"; {self._where(exc)}"  # mid-stream, the address worked
            return ProviderTimeoutError(
                f"{self.provider} did not answer within {self.config.timeout:g} s ({type(exc).__name__})"
                f"{where}",
                provider=self.provider,
            )
        if isinstance(exc, httpx2.DecodingError):  # the reply arrived but cannot be decoded
            return (StreamError if streaming else ProviderError)(
                f"{self.provider}'s reply could not be decoded: {exc}", provider=self.provider
            )
        if streaming:
            return StreamError(
                f"connection to {self.provider} failed: {exc or type(exc).__name__}", provider=self.provider
            )
        return ProviderConnectionError(
            f"connection to {self.provider} failed ({type(exc).__name__}: {exc or 'no detail'}); "
            f"{self._where(exc)}",
            provider=self.provider,
        )

    def _status_error(self, response: httpx2.Response) -> AnyLLMError:
        return error_from_http(
            response.status_code, response.content, response.headers, provider=self.provider
        )

    def _read(self, response: httpx2.Response, deadline: Deadline) -> bytes:
        """The whole body, at most MAX_BODY_BYTES (then ProviderError), before ``deadline``
        (then ProviderTimeoutError); closes the response."""
        try:
            parts, budget = [], ReplyBudget(self.provider, response.status_code)
            for part in deadline.iterate(response.iter_bytes()):
                budget.body(len(part))
                parts.append(part)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc) from exc
        finally:
            response.close()
        response._content = b"".join(parts)  # what Response.read() itself sets
        return response._content

    async def _aread(self, response: httpx2.Response, deadline: Deadline) -> bytes:
        try:
            parts, budget = [], ReplyBudget(self.provider, response.status_code)
            async for part in deadline.aiterate(response.aiter_bytes()):
                budget.body(len(part))
                parts.append(part)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc) from exc
        finally:
            await response.aclose()
        response._content = b"".join(parts)
        return response._content

    def _decode_json(self, response: httpx2.Response) -> Any:
        try:
            return json.loads(response.content)
        except ValueError as exc:
            snippet = response.content[:200].decode("utf-8", "replace")
            raise ProviderError(
                f"{self.provider} answered HTTP {response.status_code} with a body that is not JSON: "
                f"{snippet!r}",
                provider=self.provider,
                status_code=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from exc

    # -- retries ---------------------------------------------------------------------------

    def _retry_delay(self, error: AnyLLMError, attempt: int) -> float | None:
        """Seconds to wait before another attempt, or None when the error is final."""
        if attempt >= self.config.max_retries or not _retryable(error):
            return None
        return _backoff(attempt, error)

    def _with_retries(self, once: Callable[[], _T]) -> _T:
        attempt = 0
        while True:
            try:
                return once()
            except AnyLLMError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                time.sleep(delay)
                attempt += 1

    async def _awith_retries(self, once: Callable[[], Awaitable[_T]]) -> _T:
        attempt = 0
        while True:
            try:
                return await once()
            except AnyLLMError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                attempt += 1

    def _send(self, path: str, content: bytes, deadline: Deadline) -> httpx2.Response:
        """One attempt: the reply with its headers read (before ``deadline``) and its body not yet."""
        request = self.client.build_request("POST", self.url(path), content=content)
        token = deadline.enter()
        try:
            return self.client.send(request, stream=True)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc) from exc
        finally:
            deadline.leave(token)

    async def _asend(self, path: str, content: bytes, deadline: Deadline) -> httpx2.Response:
        request = self.aclient.build_request("POST", self.url(path), content=content)
        token = deadline.enter()
        try:
            return await self.aclient.send(request, stream=True)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc) from exc
        finally:
            deadline.leave(token)

    # -- JSON ------------------------------------------------------------------------------

    def post(self, path: str, body: Any) -> httpx2.Response:
        """POST a JSON body; the successful reply (body read), or a typed error."""
        content = dumps(body)

        def once() -> httpx2.Response:
            deadline = Deadline(self.config.timeout)  # the whole reply, per attempt
            response = self._send(path, content, deadline)
            self._read(response, deadline)
            if response.status_code >= 400:
                raise self._status_error(response)
            return response

        return self._with_retries(once)

    async def apost(self, path: str, body: Any) -> httpx2.Response:
        content = dumps(body)

        async def once() -> httpx2.Response:
            deadline = Deadline(self.config.timeout)
            response = await self._asend(path, content, deadline)
            await self._aread(response, deadline)
            if response.status_code >= 400:
                raise self._status_error(response)
            return response

        return await self._awith_retries(once)

    def post_json(self, path: str, body: Any) -> Any:
        """POST a JSON body; the decoded JSON reply, or a typed error."""
        return self._decode_json(self.post(path, body))

    async def apost_json(self, path: str, body: Any) -> Any:
        return self._decode_json(await self.apost(path, body))

    # -- SSE -------------------------------------------------------------------------------

    @staticmethod
    def _is_stream(response: httpx2.Response) -> bool:
        return response.status_code < 400 and "event-stream" in response.headers.get("content-type", "")

    def _check_stream_start(self, response: httpx2.Response, body: bytes) -> AnyLLMError:
        """The reply to a stream request was not a stream: say what it was."""
        if response.status_code >= 400:
            return error_from_http(response.status_code, body, response.headers, provider=self.provider)
        content_type = response.headers.get("content-type", "")
        error = error_from_http(500, body, response.headers, provider=self.provider)
        if error.body is not None and isinstance(error.body, dict) and "error" in error.body:
            return error
        return StreamError(
            f"{self.provider} answered a stream request with content-type {content_type!r}, "
            "not text/event-stream",
            provider=self.provider,
            status_code=response.status_code,
        )

    def open_sse(self, path: str, body: Any) -> Generator[SSEEvent, None, None]:
        """POST now (errors raise here); iterate the returned events. Closing it (even before
        the first event) or dropping it closes the connection."""
        content = dumps(body)

        def once() -> tuple[httpx2.Response, Deadline]:
            deadline = Deadline(self.config.timeout)  # the reply's head and first event
            response = self._send(path, content, deadline)
            if not self._is_stream(response):
                raise self._check_stream_start(response, self._read(response, deadline))
            return response, deadline

        response, deadline = self._with_retries(once)
        return ClosingStream(self._events(response, deadline), response.close)

    async def aopen_sse(self, path: str, body: Any) -> AsyncGenerator[SSEEvent, None]:
        """Async ``open_sse``: awaiting it sends the request; iterate the result."""
        content = dumps(body)

        async def once() -> tuple[httpx2.Response, Deadline]:
            deadline = Deadline(self.config.timeout)
            response = await self._asend(path, content, deadline)
            if not self._is_stream(response):
                raise self._check_stream_start(response, await self._aread(response, deadline))
            return response, deadline

        response, deadline = await self._awith_retries(once)
        return ClosingAsyncStream(self._aevents(response, deadline), response.aclose)

    def _events(self, response: httpx2.Response, deadline: Deadline) -> Generator[SSEEvent, None, None]:
        """The stream's events; each must complete before ``deadline``, restarted after each."""
        try:
            decoder = SSEDecoder()
            budget = ReplyBudget(self.provider)
            try:
                for chunk in deadline.iterate(response.iter_bytes()):
                    events = decoder.feed(chunk)
                    budget.stream(len(chunk), since_event_end=0 if events else None)
                    yield from events
                    if events:
                        deadline.restart()
            except httpx2.HTTPError as exc:
                raise self._transport_error(exc, streaming=True) from exc
            yield from decoder.flush()
        finally:
            response.close()

    async def _aevents(self, response: httpx2.Response, deadline: Deadline) -> AsyncGenerator[SSEEvent, None]:
        try:
            decoder = SSEDecoder()
            budget = ReplyBudget(self.provider)
            try:
                async for chunk in deadline.aiterate(response.aiter_bytes()):
                    events = decoder.feed(chunk)
                    budget.stream(len(chunk), since_event_end=0 if events else None)
                    for event in events:
                        yield event
                    if events:
                        deadline.restart()
            except httpx2.HTTPError as exc:
                raise self._transport_error(exc, streaming=True) from exc
            for event in decoder.flush():
                yield event
        finally:
            await response.aclose()


async def _aclose_client(client: httpx2.AsyncClient) -> None:
    await client.aclose()


def auth_headers(config: ClientConfig) -> dict[str, str]:
    """The provider's own way of sending the key (bearer, x-api-key, api-key, x-goog-api-key)."""
    key = config.api_key
    if not key:
        return {}
    style = config.metadata.auth
    if style == "bearer":
        return {"authorization": f"Bearer {key}"}
    if style == "none":
        return {}
    return {style: key}
