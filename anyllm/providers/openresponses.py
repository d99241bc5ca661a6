"""Any OpenResponses server at ``api_base``: plain HTTP, the project's own SSE decoder.

Replies are typed with openresponses-types in strict mode. A stream ends at ``[DONE]`` or
when the connection closes; a stream that closes without a terminal event, carries a body
that is not JSON, or ends in ``response.failed`` raises StreamError after yielding what
it received, so a broken server is never mistaken for a finished answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, ProviderError, StreamError
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.http import HttpTransport, auth_headers
from anyllm.streaming import DONE, SSEEvent

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["OpenResponsesBackend"]

_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


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
        if event_type in _TERMINAL:
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

    def _parse(self, content: bytes) -> Any:
        from pydantic import ValidationError

        from anyllm.types import response_from_json

        try:
            return response_from_json(content)
        except ValidationError as exc:
            raise ProviderError(
                f"{self.provider} returned a body that is not a valid ResponseResource: "
                f"{exc.error_count()} problem(s), first: {str(exc).splitlines()[1:3]}",
                provider=self.provider,
            ) from exc

    def create(self, body: dict[str, Any]) -> Any:
        return self._parse(self.transport.post("responses", body).content)

    async def acreate(self, body: dict[str, Any]) -> Any:
        return self._parse((await self.transport.apost("responses", body)).content)

    def stream(self, body: dict[str, Any]) -> Iterator[BaseModel]:
        events = self.transport.open_sse("responses", {**body, "stream": True})
        return self._iterate(events)

    def _iterate(self, events: Iterator[SSEEvent]) -> Iterator[BaseModel]:
        state = _StreamState(self.provider)
        try:
            for sse in events:
                event = state.parse(sse)
                if event is None:
                    break
                yield event
            state.finish()
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def astream(self, body: dict[str, Any]) -> AsyncIterator[BaseModel]:
        events = await self.transport.aopen_sse("responses", {**body, "stream": True})
        return self._aiterate(events)

    async def _aiterate(self, events: AsyncIterator[SSEEvent]) -> AsyncIterator[BaseModel]:
        state = _StreamState(self.provider)
        try:
            async for sse in events:
                event = state.parse(sse)
                if event is None:
                    break
                yield event
            state.finish()
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        self.transport.close()
