"""Any OpenResponses server at ``api_base``: plain HTTP, the project's own SSE decoder.

Replies are typed with openresponses-types in strict mode. A stream ends at ``[DONE]`` or
when the connection closes; a stream that closes without a terminal event, carries a body
that is not JSON, or ends in ``response.failed`` raises StreamError after yielding what
it received, so a broken server is never mistaken for a finished answer. A server that
keeps no responses (``native_previous_response_id`` False) gets ``previous_response_id``
and ``store=True`` from the local response store.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, ProviderError, StreamError
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.closing import ClosingAsyncStream, ClosingStream
from anyllm.providers.http import HttpTransport, auth_headers
from anyllm.providers.local_context import LocalContext
from anyllm.request import ResponsesRequest
from anyllm.spec import TERMINAL_EVENT_STATUS, TERMINAL_EVENT_TYPES
from anyllm.streaming import DONE, SSEEvent

if TYPE_CHECKING:
    import httpx2
    from pydantic import BaseModel

__all__ = ["OpenResponsesBackend"]


class _StreamState:
    """Follows one wire stream just enough to know how it ended."""

    __slots__ = ("failure", "index", "provider", "terminal")

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.index = 0
        self.terminal: str | None = None
        self.failure: AnyLLMError | None = None

    def parse(self, sse: SSEEvent) -> BaseModel | None:
        """The typed event, or None for ``[DONE]``."""
        from pydantic import ValidationError

        from anyllm.types import event_from_json

        if sse.data == DONE:
            return None
        position = self.index
        self.index += 1
        try:
            event = event_from_json(sse.data, sse.event)
        except (ValueError, ValidationError) as exc:
            raise StreamError(
                f"{self.provider} sent stream event #{position} that is not a valid event: "
                f"{str(exc).splitlines()[0]}; data starts {sse.data[:120]!r}",
                provider=self.provider,
            ) from exc
        event_type = getattr(event, "type", None)
        event_type = getattr(event_type, "value", event_type)
        if event_type == "error" and self.failure is None:
            error = getattr(event, "error", None)
            self.failure = StreamError(
                str(getattr(error, "message", "error event")),
                provider=self.provider,
                code=getattr(error, "code", None),
            )
        if event_type in TERMINAL_EVENT_TYPES:
            self.terminal = str(event_type)
            if event_type == "response.failed" and self.failure is None:
                response_error = getattr(getattr(event, "response", None), "error", None)
                self.failure = StreamError(
                    str(getattr(response_error, "message", "the response failed")),
                    provider=self.provider,
                    code=getattr(response_error, "code", None),
                )
        return event

    def finish(self) -> None:
        if self.failure is not None:
            raise self.failure
        if self.terminal is None:
            raise StreamError(
                f"{self.provider}'s stream ended without response.completed, response.incomplete "
                "or response.failed",
                provider=self.provider,
            )


class OpenResponsesBackend(Backend):
    """POST {api_base}/responses, JSON or SSE."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self.transport = HttpTransport(config, headers=auth_headers(config))
        # None: the server keeps responses itself and resolves previous_response_id.
        self.local: LocalContext | None = None
        if not config.metadata.native_previous_response_id:
            self.local = LocalContext(self.provider, config.client_args.get("response_store"))

    def _parse(self, reply: httpx2.Response) -> Any:
        """The typed ResponseResource of a success reply, or ProviderError saying what came
        instead: the spec has servers "return data only as application/json" when not
        streaming, and that JSON is a ResponseResource (empty, HTML, invalid UTF-8 and
        truncated bodies included, whatever the 2xx status)."""
        from pydantic import ValidationError

        from anyllm.types import response_from_json

        try:
            return response_from_json(reply.content)
        except ValidationError as exc:
            if all(error["type"] != "json_invalid" for error in exc.errors()):
                raise ProviderError(
                    f"{self.provider} returned a body that is not a valid ResponseResource: "
                    f"{exc.error_count()} problem(s), first: {str(exc).splitlines()[1:3]}",
                    provider=self.provider,
                    status_code=reply.status_code,
                ) from exc
            cause: Exception = exc
        except ValueError as exc:  # not JSON, or not UTF-8
            cause = exc
        snippet = reply.content[:120].decode("utf-8", "replace")
        raise ProviderError(
            f"{self.provider} answered HTTP {reply.status_code} "
            f"({reply.headers.get('content-type') or 'no content-type'}) with a body that is not "
            f"JSON: {snippet!r}",
            provider=self.provider,
            status_code=reply.status_code,
        ) from cause

    def _outgoing(self, request: ResponsesRequest) -> dict[str, Any]:
        """The JSON body to send (the stored conversation in front when the server keeps none)."""
        if self.local is not None:
            request = self.local.with_context(request)
        return request.wire_body()

    def _finished(self, request: ResponsesRequest, response: Any) -> Any:
        if self.local is not None:
            self.local.remember_typed(request, response)
        return response

    def _seen(self, request: ResponsesRequest, event: Any) -> None:
        """Remember the response a completed or incomplete terminal event carries."""
        if self.local is None:
            return
        event_type = getattr(event, "type", None)
        status = TERMINAL_EVENT_STATUS.get(str(getattr(event_type, "value", event_type)))
        if status in ("completed", "incomplete"):
            self.local.remember_typed(request, event.response)

    def create(self, request: ResponsesRequest) -> Any:
        response = self._parse(self.transport.post("responses", self._outgoing(request)))
        return self._finished(request, response)

    async def acreate(self, request: ResponsesRequest) -> Any:
        response = self._parse(await self.transport.apost("responses", self._outgoing(request)))
        return self._finished(request, response)

    def stream(self, request: ResponsesRequest) -> Iterator[BaseModel]:
        events = self.transport.open_sse("responses", self._outgoing(request))
        return ClosingStream(self._iterate(request, events), events.close)

    def _iterate(
        self, request: ResponsesRequest, events: Iterator[SSEEvent]
    ) -> Generator[BaseModel, None, None]:
        state = _StreamState(self.provider)
        try:
            for sse in events:
                event = state.parse(sse)
                if event is None:
                    break
                self._seen(request, event)
                yield event
            state.finish()
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def astream(self, request: ResponsesRequest) -> AsyncIterator[BaseModel]:
        events = await self.transport.aopen_sse("responses", self._outgoing(request))
        return ClosingAsyncStream(self._aiterate(request, events), events.aclose)

    async def _aiterate(
        self, request: ResponsesRequest, events: AsyncIterator[SSEEvent]
    ) -> AsyncGenerator[BaseModel, None]:
        state = _StreamState(self.provider)
        try:
            async for sse in events:
                event = state.parse(sse)
                if event is None:
                    break
                self._seen(request, event)
                yield event
            state.finish()
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        self.transport.close()
        if self.local is not None:
            self.local.close()

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self.local is not None:
            self.local.close()
