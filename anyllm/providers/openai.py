"""OpenAI-native providers: ``/v1/responses`` through the official openai SDK.

The SDK is the reference client for these servers, so its types come back unchanged
(``openai.types.responses.Response`` and its stream events). It is imported only when an
OpenAI-protocol provider is first used (``import openai`` alone costs about 0.3 s).

Where the SDK's own behaviour would break this library's guarantees, it is corrected
here: its retries skip 408/409 (only 429 and 5xx are retried, as everywhere else), a
stream that ends without a terminal event or carries undecodable JSON raises
StreamError instead of ending silently or leaking ``json.JSONDecodeError``, and
api-key providers (Azure) send the key once, in ``api-key``. A server that keeps no
responses (``native_previous_response_id`` False, e.g. Groq) gets ``previous_response_id``
and ``store=True`` from the local response store, as the translated providers do.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from anyllm.errors import (
    AnyLLMError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamError,
    error_from_http,
)
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.closing import ClosingAsyncStream, ClosingStream
from anyllm.providers.local_context import LocalContext
from anyllm.providers.loop_clients import LoopClients
from anyllm.providers.shapes import SHAPE_ERRORS, unexpected_shape
from anyllm.request import ResponsesRequest
from anyllm.spec import TERMINAL_EVENT_TYPES

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAIBackend", "map_sdk_error"]


@functools.cache
def _client_classes() -> tuple[type[openai.OpenAI], type[openai.AsyncOpenAI]]:
    """The SDK clients with one change: a 408 or 409 is a 4xx like the others, not retried."""
    import httpx2
    import openai

    def should_retry(response: httpx2.Response) -> bool:
        return response.status_code not in (408, 409)

    class Client(openai.OpenAI):
        def _should_retry(self, response: httpx2.Response) -> bool:
            return should_retry(response) and super()._should_retry(response)

    class AsyncClient(openai.AsyncOpenAI):
        def _should_retry(self, response: httpx2.Response) -> bool:
            return should_retry(response) and super()._should_retry(response)

    return Client, AsyncClient


@functools.cache
def _sdk_parameters() -> frozenset[str]:
    """Keyword names the SDK's ``responses.create`` takes; the rest travel in extra_body."""
    from openai.resources.responses import Responses

    return frozenset(inspect.signature(Responses.create).parameters) - {"self"}


def _map_error(exc: Exception, provider: str, config: ClientConfig | None = None) -> AnyLLMError:
    import openai

    from anyllm.providers.bounded import too_large_in

    bounded = too_large_in(exc)
    if bounded is not None:
        return bounded

    if isinstance(exc, openai.APIStatusError):
        return error_from_http(exc.status_code, exc.response.content, exc.response.headers, provider=provider)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeoutError(
            f"{provider} did not answer in time{_where(exc, config)}", provider=provider
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return ProviderConnectionError(
            f"connection to {provider} failed ({type(cause).__name__}: {cause or exc}){_where(exc, config)}",
            provider=provider,
        )
    if isinstance(exc, openai.APIError):
        # Raised by the SDK for an ``error`` event inside a stream.
        return StreamError(exc.message, provider=provider, code=getattr(exc, "code", None), body=exc.body)
    if isinstance(exc, ValueError):
        return ProviderError(f"{provider} sent a body that is not valid JSON: {exc}", provider=provider)
    return ProviderError(f"{provider}: {exc}", provider=provider)


def _where(exc: Exception, config: ClientConfig | None) -> str:
    """``; tried URL, ...`` for a connection failure (:mod:`anyllm.providers.endpoint`)."""
    if config is None:
        return ""
    from anyllm.providers.endpoint import endpoint_hint

    request = getattr(exc, "request", None)
    url = str(getattr(request, "url", "") or config.base_url)
    return f"; {endpoint_hint(config.metadata, url, config.base_url_origin)}"


def map_sdk_error(exc: Exception, provider: str, config: ClientConfig | None = None) -> AnyLLMError:
    """The typed error of a failed SDK call other than ``responses.create`` (``compact()``)."""
    return _map_error(exc, provider, config)


def _stream_failure(exc: Exception, provider: str) -> AnyLLMError:
    """What went wrong inside an open stream, typed as on every other path: a stall is a
    timeout, any other break of the connection or the data a StreamError."""
    import httpx2
    import openai

    from anyllm.providers.bounded import too_large_in

    bounded = too_large_in(exc)
    if bounded is not None:
        return bounded
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeoutError(f"{provider} stalled mid-stream past the timeout", provider=provider)
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIConnectionError):
        return _map_error(exc, provider)
    if isinstance(exc, ValueError):
        return StreamError(f"{provider} sent a stream event that is not valid JSON: {exc}", provider=provider)
    return StreamError(f"{provider}'s stream broke: {exc or type(exc).__name__}", provider=provider)


# The members that make a reply a ResponseResource at all (the spec requires them, with
# these types); the SDK builds its Response without validation, so they are checked here.
_RESPONSE_IDENTITY: dict[str, type] = {"id": str, "object": str, "status": str, "output": list}


def _checked_response(result: Any, provider: str) -> Any:
    """``result`` if it is a Response; ProviderError saying what came instead.

    The SDK returns what it received: ``response.text`` for a body that is not JSON (HTML,
    empty, a 204), ``None`` for ``null``, and a Response built without validation for JSON
    of any other shape, whose missing members read as None. The spec has a non-streaming
    reply be "only ... application/json", a ResponseResource, so anything else is refused.
    """
    from openai.types.responses import Response

    if isinstance(result, Response):
        wrong = [
            name
            for name, kind in _RESPONSE_IDENTITY.items()
            if name not in result.model_fields_set or not isinstance(getattr(result, name, None), kind)
        ]
        if not wrong and result.object == "response":
            return result
        what = f"JSON that is not a ResponseResource (missing or mistyped: {', '.join(wrong) or 'object'})"
    elif isinstance(result, str):
        what = f"a body that is not JSON: {result[:120]!r}" if result.strip() else "an empty body"
    else:
        what = f"JSON {'null' if result is None else type(result).__name__}, not a ResponseResource"
    raise ProviderError(f"{provider} answered with {what}", provider=provider)


def _missing_terminal(provider: str) -> StreamError:
    return StreamError(
        f"{provider}'s stream ended without response.completed, response.incomplete or response.failed",
        provider=provider,
    )


def _environment_header_names() -> list[str]:
    """The header names the SDK adds from ``OPENAI_CUSTOM_HEADERS`` (parsed as it parses them)."""
    import os

    raw = os.environ.get("OPENAI_CUSTOM_HEADERS") or ""
    return [line[: line.find(":")].strip() for line in raw.split("\n") if ":" in line]


def _sdk_headers(config: ClientConfig, client_args: Mapping[str, Any]) -> dict[str, Any]:
    """``default_headers`` for the SDK client: the caller's headers, the key in the provider's
    own header, and nothing taken from the OpenAI environment for another vendor.

    The SDK reads ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID`` and ``OPENAI_CUSTOM_HEADERS`` for
    every client, whatever its base URL, and an ``Authorization`` in the latter replaces the
    key. Here the key anyllm resolved is always the one sent (stated explicitly, which makes
    the SDK drop an ambient ``Authorization``), and for any provider but ``openai`` the
    organization, project and custom headers of the environment are omitted (``Omit``
    removes a default header), unless the caller passed them in ``client_args``.
    """
    import openai

    headers: dict[str, Any] = dict(config.extra_headers)
    given = {name.lower() for name in headers}
    key = config.api_key
    if config.metadata.auth == "api-key":
        if key:
            headers["api-key"] = key
        if "authorization" not in given:
            headers["Authorization"] = openai.Omit()  # the key travels once, in api-key
    elif "authorization" not in given:
        headers["Authorization"] = f"Bearer {key}" if key else openai.Omit()
    if config.metadata.name != "openai":
        for name, arg in (("OpenAI-Organization", "organization"), ("OpenAI-Project", "project")):
            if client_args.get(arg) is None and name.lower() not in given:
                headers[name] = openai.Omit()
        for name in _environment_header_names():
            if name.lower() not in given and name.lower() != "authorization":
                headers[name] = openai.Omit()
    return headers


class OpenAIBackend(Backend):
    """One openai SDK client pair per configuration, reused for every call."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self._client: openai.OpenAI | None = None
        # The async client's pool belongs to one event loop: one per loop, closed with it.
        self._aclients: LoopClients[openai.AsyncOpenAI] = LoopClients(self._new_aclient, self._aclose_sdk)
        # None: the server keeps responses itself and resolves previous_response_id.
        self.local: LocalContext | None = None
        if not config.metadata.native_previous_response_id:
            self.local = LocalContext(self.provider, config.client_args.get("response_store"))

    def _client_kwargs(self) -> dict[str, Any]:
        args = dict(self.config.client_args)
        args.pop("default_headers", None)
        args.pop("headers", None)
        headers = _sdk_headers(self.config, args)
        kwargs: dict[str, Any] = {
            "api_key": self.config.api_key or "unused",
            "base_url": self.config.base_url,
            "max_retries": int(args.pop("max_retries", 0)),
            "timeout": self.config.timeout,
            "default_headers": headers or None,
        }
        args.pop("timeout", None)
        args.pop("transport", None)
        args.pop("async_transport", None)
        args.pop("response_store", None)
        kwargs.update(args)
        return kwargs

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            import httpx2
            import openai

            from anyllm.providers.bounded import BoundedTransport
            from anyllm.providers.http import shared_ssl_context
            from anyllm.providers.redirects import redirect_policy

            client_class, _ = _client_classes()
            kwargs = self._client_kwargs()
            if "http_client" not in kwargs:
                inner = httpx2.HTTPTransport(verify=shared_ssl_context())
                kwargs["http_client"] = openai.DefaultHttpxClient(
                    transport=BoundedTransport(inner, self.provider), **redirect_policy(self.provider)
                )
            self._client = client_class(**kwargs)
        return self._client

    @property
    def aclient(self) -> openai.AsyncOpenAI:
        return self._aclients.get()

    def _new_aclient(self) -> openai.AsyncOpenAI:
        import httpx2
        import openai

        from anyllm.providers.bounded import AsyncBoundedTransport
        from anyllm.providers.http import shared_ssl_context
        from anyllm.providers.redirects import async_redirect_policy

        _, client_class = _client_classes()
        kwargs = self._client_kwargs()
        if "http_client" not in kwargs:
            inner = httpx2.AsyncHTTPTransport(verify=shared_ssl_context())
            kwargs["http_client"] = openai.DefaultAsyncHttpxClient(
                transport=AsyncBoundedTransport(inner, self.provider),
                **async_redirect_policy(self.provider),
            )
        return client_class(**kwargs)

    def _owns_http_client(self) -> bool:
        """An ``http_client`` passed in ``client_args`` is the caller's: it is never closed here."""
        return "http_client" not in self.config.client_args

    async def _aclose_sdk(self, client: openai.AsyncOpenAI) -> None:
        if self._owns_http_client():
            await client.close()

    def _error(self, exc: Exception) -> AnyLLMError:
        return _map_error(exc, self.provider, self.config)

    def _sdk_kwargs(self, request: ResponsesRequest) -> dict[str, Any]:
        """``responses.create`` keyword arguments for ``request`` (stored context included)."""
        if self.local is not None:
            request = self.local.with_context(request)
        return self._split(request.wire_body())

    def _remember(self, request: ResponsesRequest, response: Any) -> None:
        """Keep a finished response in the local store when this server keeps none."""
        if self.local is not None:
            self.local.remember_typed(request, response)

    def _split(self, body: dict[str, Any]) -> dict[str, Any]:
        import openai

        known = _sdk_parameters()
        kwargs = {k: v for k, v in body.items() if k in known}
        extra = {k: v for k, v in body.items() if k not in known}
        if extra:
            kwargs["extra_body"] = extra
        if self.config.metadata.auth == "api-key":
            # The key travels once, in api-key: the SDK would add it as a bearer token too,
            # and it accepts that header's removal only per request.
            kwargs["extra_headers"] = {"Authorization": openai.Omit()}
        return kwargs

    def create(self, request: ResponsesRequest) -> Any:
        import openai

        kwargs = self._sdk_kwargs(request)  # a missing previous response raises here, typed
        try:
            response = self.client.responses.create(**kwargs)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from exc
        response = _checked_response(response, self.provider)
        self._remember(request, response)
        return response

    async def acreate(self, request: ResponsesRequest) -> Any:
        import openai

        kwargs = self._sdk_kwargs(request)  # a missing previous response raises here, typed
        try:
            response = await self.aclient.responses.create(**kwargs)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from exc
        response = _checked_response(response, self.provider)
        self._remember(request, response)
        return response

    def stream(self, request: ResponsesRequest) -> Iterator[Any]:
        import openai

        kwargs = self._sdk_kwargs(request)  # a missing previous response raises here, typed
        try:
            sdk_stream = self.client.responses.create(**kwargs)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from exc
        return ClosingStream(self._iterate(request, sdk_stream), sdk_stream.close)

    def _ended(self, request: ResponsesRequest, event: Any) -> bool:
        """Whether ``event`` ends the stream; a finished response is remembered."""
        event_type = getattr(event, "type", None)
        if not isinstance(event_type, str) or event_type not in TERMINAL_EVENT_TYPES:
            return False
        if event_type != "response.failed":
            self._remember(request, event.response)
        return True

    def _iterate(self, request: ResponsesRequest, sdk_stream: Any) -> Generator[Any, None, None]:
        import httpx2
        import openai

        ended = False
        try:
            for event in sdk_stream:
                ended = self._ended(request, event) or ended
                yield event
        except AnyLLMError:
            raise  # already typed (the local store's errors)
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise _stream_failure(exc, self.provider) from exc
        except SHAPE_ERRORS as exc:  # an event member of the wrong type
            raise unexpected_shape(exc, self.provider, streaming=True) from exc
        finally:
            sdk_stream.close()
        if not ended:
            raise _missing_terminal(self.provider)

    async def astream(self, request: ResponsesRequest) -> AsyncIterator[Any]:
        import openai

        kwargs = self._sdk_kwargs(request)  # a missing previous response raises here, typed
        try:
            sdk_stream = await self.aclient.responses.create(**kwargs)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from exc
        return ClosingAsyncStream(self._aiterate(request, sdk_stream), sdk_stream.close)

    async def _aiterate(self, request: ResponsesRequest, sdk_stream: Any) -> AsyncGenerator[Any, None]:
        import httpx2
        import openai

        ended = False
        try:
            async for event in sdk_stream:
                ended = self._ended(request, event) or ended
                yield event
        except AnyLLMError:
            raise  # already typed (the local store's errors)
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise _stream_failure(exc, self.provider) from exc
        except SHAPE_ERRORS as exc:  # an event member of the wrong type
            raise unexpected_shape(exc, self.provider, streaming=True) from exc
        finally:
            await sdk_stream.close()
        if not ended:
            raise _missing_terminal(self.provider)

    def close(self) -> None:
        """Close the sync client, every event loop's async client (each on its loop) and the
        local store this backend opened."""
        if self._client is not None and self._owns_http_client():
            self._client.close()
        self._client = None
        self._aclients.close()
        if self.local is not None:
            self.local.close()

    async def aclose(self) -> None:
        """:meth:`close`, awaiting the running loop's async client."""
        await self._aclients.aclose()
        self.close()
