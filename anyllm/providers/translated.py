"""The shared half of every translated provider (chat completions, Anthropic, Gemini).

A bridge supplies three translations — request, full response, and a stream translator —
and this base class does the rest the same way for all of them: the HTTP call, the local
response store behind ``previous_response_id`` and ``store=True``, typing the results,
and turning any failure inside a stream into ``error`` + ``response.failed`` events
followed by a typed exception, never a hang or a silent end.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, StreamError
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.http import HttpTransport, auth_headers
from anyllm.streaming import SSEEvent
from anyllm.translate.stream import ResponseStreamBuilder

if TYPE_CHECKING:
    from pydantic import BaseModel

    from anyllm.store import ResponseStore

__all__ = ["StreamTranslator", "TranslatedBackend", "input_items"]


def input_items(value: Any) -> list[dict[str, Any]]:
    """Responses ``input`` as a list of items (a bare string is one user message)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value)


class StreamTranslator(abc.ABC):
    """Turns one provider stream, event by event, into builder calls (push-based, so the
    same code serves sync and async iteration)."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        self.builder = builder

    @abc.abstractmethod
    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        """One provider SSE event in; Responses events out. Raise AnyLLMError on a provider error."""

    def end(self) -> list[dict[str, Any]]:
        """The provider's stream closed. Bridges whose protocol has an explicit end (a
        ``finish_reason``, ``message_stop``) have already finished the builder; if not,
        the stream was cut short."""
        if not self.builder.finished:
            raise StreamError("the provider's stream ended before it said the response was done")
        return []


class TranslatedBackend(Backend):
    """Base of the bridges: subclasses translate, this class calls, stores and types."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self.transport = HttpTransport(config, headers=self.headers(), params=self.params())
        self._store: ResponseStore | None = None

    # -- what a bridge provides ------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        return auth_headers(self.config)

    def params(self) -> dict[str, str]:
        return {}

    @abc.abstractmethod
    def path(self, body: dict[str, Any], *, stream: bool) -> str:
        """The endpoint path relative to the base URL."""

    @abc.abstractmethod
    def translate_request(self, body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        """Responses request -> provider request; UnsupportedParameterError for what it cannot say."""

    @abc.abstractmethod
    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        """Feed a whole provider reply to ``builder`` and finish it (complete/incomplete/fail)."""

    @abc.abstractmethod
    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        """A fresh translator for one provider stream."""

    # -- the local response store ----------------------------------------------------------

    @property
    def store(self) -> ResponseStore:
        if self._store is None:
            from anyllm.store import ResponseStore

            configured = self.config.client_args.get("response_store")
            self._store = configured if isinstance(configured, ResponseStore) else ResponseStore(configured)
        return self._store

    def _with_context(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request the provider sees: stored context first, as the spec orders it."""
        previous = body.get("previous_response_id")
        if not previous:
            return body
        full = dict(body)
        full["input"] = self.store.context_for(previous) + input_items(body.get("input"))
        return full

    def _builder(self, body: dict[str, Any]) -> ResponseStreamBuilder:
        return ResponseStreamBuilder(body, model=str(body.get("model", "")), stored=body.get("store") is True)

    def _remember(self, body: dict[str, Any], response: dict[str, Any]) -> None:
        if body.get("store") is True and response.get("status") in ("completed", "incomplete"):
            self.store.save(
                response["id"],
                input_items=input_items(body.get("input")),
                output_items=list(response.get("output") or []),
                provider=self.provider,
                model=str(response.get("model", "")),
                previous_response_id=body.get("previous_response_id"),
            )

    # -- calls -----------------------------------------------------------------------------

    def _finish_reply(self, body: dict[str, Any], reply: Any) -> Any:
        from anyllm.types import response_from_dict

        builder = self._builder(body)
        builder.start()
        self.translate_response(reply, builder)
        if not builder.finished:
            raise StreamError("translation did not finish the response", provider=self.provider)
        self._remember(body, builder.response)
        return response_from_dict(builder.response)

    def create(self, body: dict[str, Any]) -> Any:
        full = self._with_context(body)
        provider_body = self.translate_request(full, stream=False)
        reply = self.transport.post_json(self.path(full, stream=False), provider_body)
        return self._finish_reply(body, reply)

    async def acreate(self, body: dict[str, Any]) -> Any:
        full = self._with_context(body)
        provider_body = self.translate_request(full, stream=False)
        reply = await self.transport.apost_json(self.path(full, stream=False), provider_body)
        return self._finish_reply(body, reply)

    def stream(self, body: dict[str, Any]) -> Iterator[BaseModel]:
        full = self._with_context(body)
        provider_body = self.translate_request(full, stream=True)
        events = self.transport.open_sse(self.path(full, stream=True), provider_body)
        return self._translate_stream(body, events)

    async def astream(self, body: dict[str, Any]) -> AsyncIterator[BaseModel]:
        full = self._with_context(body)
        provider_body = self.translate_request(full, stream=True)
        events = await self.transport.aopen_sse(self.path(full, stream=True), provider_body)
        return self._atranslate_stream(body, events)

    def _failure(self, builder: ResponseStreamBuilder, error: AnyLLMError) -> list[dict[str, Any]]:
        code = error.code or ("stream_error" if isinstance(error, StreamError) else "server_error")
        return builder.fail(error.message, code=code)

    def _translate_stream(self, body: dict[str, Any], events: Iterator[SSEEvent]) -> Iterator[BaseModel]:
        from anyllm.types import event_from_dict

        builder = self._builder(body)
        translator = self.stream_translator(builder)
        try:
            try:
                for event in builder.start():
                    yield event_from_dict(event)
                for sse in events:
                    for event in translator.feed(sse):
                        yield event_from_dict(event)
                for event in translator.end():
                    yield event_from_dict(event)
            except AnyLLMError as error:
                error.provider = error.provider or self.provider
                for event in self._failure(builder, error):
                    yield event_from_dict(event)
                raise
            self._remember(body, builder.response)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def _atranslate_stream(
        self, body: dict[str, Any], events: AsyncIterator[SSEEvent]
    ) -> AsyncIterator[BaseModel]:
        from anyllm.types import event_from_dict

        builder = self._builder(body)
        translator = self.stream_translator(builder)
        try:
            try:
                for event in builder.start():
                    yield event_from_dict(event)
                async for sse in events:
                    for event in translator.feed(sse):
                        yield event_from_dict(event)
                for event in translator.end():
                    yield event_from_dict(event)
            except AnyLLMError as error:
                error.provider = error.provider or self.provider
                for event in self._failure(builder, error):
                    yield event_from_dict(event)
                raise
            self._remember(body, builder.response)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        self.transport.close()
