"""The backend of every translated provider (chat completions, Anthropic, Gemini): it drives a bridge.

A bridge (:class:`anyllm.translate.base.Bridge`) supplies the translations — request, full
response, and a stream translator — plus the endpoint path and its protocol headers; this
class does the rest the same way for all of them: the HTTP call, the local response store
behind ``previous_response_id`` and ``store=True``, typing the results, and turning any
failure inside a stream into ``error`` + ``response.failed`` events followed by a typed
exception, never a hang or a silent end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, StreamError
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.http import HttpTransport, auth_headers
from anyllm.providers.local_context import LocalContext
from anyllm.request import ResponsesRequest
from anyllm.streaming import SSEEvent
from anyllm.translate.base import Bridge
from anyllm.translate.stream import ResponseStreamBuilder

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TranslatedBackend"]


class TranslatedBackend(Backend):
    """Responses over a non-Responses protocol: ``bridge`` translates, this class calls,
    stores and types."""

    def __init__(self, config: ClientConfig, bridge: Bridge) -> None:
        super().__init__(config)
        self.bridge = bridge
        self.transport = HttpTransport(config, headers={**auth_headers(config), **bridge.headers()})
        self.local = LocalContext(self.provider, config.client_args.get("response_store"))

    def wire_body(self, request: ResponsesRequest) -> dict[str, Any]:
        return self.bridge.translate_request(request)

    def _builder(self, request: ResponsesRequest) -> ResponseStreamBuilder:
        body = request.body
        return ResponseStreamBuilder(body, model=request.model, stored=body.get("store") is True)

    def _remember(self, request: ResponsesRequest, response: dict[str, Any]) -> None:
        self.local.remember(
            request,
            response_id=response["id"],
            status=response.get("status"),
            model=str(response.get("model", "")),
            output=list(response.get("output") or []),
        )

    # -- calls -----------------------------------------------------------------------------

    def _finish_reply(self, request: ResponsesRequest, reply: Any) -> Any:
        from anyllm.types import response_from_dict

        builder = self._builder(request)
        builder.start()
        self.bridge.translate_response(reply, builder)
        if not builder.finished:
            raise StreamError("translation did not finish the response", provider=self.provider)
        self._remember(request, builder.response)
        return response_from_dict(builder.response)

    def create(self, request: ResponsesRequest) -> Any:
        full = self.local.with_context(request)
        reply = self.transport.post_json(self.bridge.path(full), self.wire_body(full))
        return self._finish_reply(request, reply)

    async def acreate(self, request: ResponsesRequest) -> Any:
        full = self.local.with_context(request)
        reply = await self.transport.apost_json(self.bridge.path(full), self.wire_body(full))
        return self._finish_reply(request, reply)

    def stream(self, request: ResponsesRequest) -> Iterator[BaseModel]:
        full = self.local.with_context(request)
        events = self.transport.open_sse(self.bridge.path(full), self.wire_body(full))
        return self._translate_stream(request, events)

    async def astream(self, request: ResponsesRequest) -> AsyncIterator[BaseModel]:
        full = self.local.with_context(request)
        events = await self.transport.aopen_sse(self.bridge.path(full), self.wire_body(full))
        return self._atranslate_stream(request, events)

    def _failure(self, builder: ResponseStreamBuilder, error: AnyLLMError) -> list[dict[str, Any]]:
        code = error.code or ("stream_error" if isinstance(error, StreamError) else "server_error")
        return builder.fail(error.message, code=code)

    def _translate_stream(self, request: ResponsesRequest, events: Iterator[SSEEvent]) -> Iterator[BaseModel]:
        from anyllm.types import event_from_dict

        builder = self._builder(request)
        translator = self.bridge.stream_translator(builder)
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
            self._remember(request, builder.response)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def _atranslate_stream(
        self, request: ResponsesRequest, events: AsyncIterator[SSEEvent]
    ) -> AsyncIterator[BaseModel]:
        from anyllm.types import event_from_dict

        builder = self._builder(request)
        translator = self.bridge.stream_translator(builder)
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
            self._remember(request, builder.response)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        self.transport.close()
