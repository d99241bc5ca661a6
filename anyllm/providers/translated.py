"""The backend of every translated provider (chat completions, Anthropic, Gemini): it drives a bridge.

A bridge (:class:`anyllm.translate.base.Bridge`) supplies the translations — request, full
response, and a stream translator — plus the endpoint path and its protocol headers; this
class does the rest the same way for all of them: the HTTP call, the local response store
behind ``previous_response_id`` and ``store=True``, typing the results, and turning any
failure inside a stream into ``error`` + ``response.failed`` events followed by a typed
exception, never a hang or a silent end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, StreamError
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.closing import ClosingAsyncStream, ClosingStream
from anyllm.providers.http import HttpTransport, auth_headers
from anyllm.providers.local_context import LocalContext
from anyllm.providers.shapes import READ_ERRORS, SHAPE_ERRORS, unexpected_shape
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
        try:
            self.bridge.translate_response(reply, builder)
            if not builder.finished:
                raise StreamError("translation did not finish the response", provider=self.provider)
            typed = response_from_dict(builder.response)
        except SHAPE_ERRORS as exc:  # a member of the wrong type: the reply's fault, typed
            raise unexpected_shape(exc, self.provider, streaming=False) from exc
        self._remember(request, builder.response)
        return typed

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
        # The first events are made here, before the HTTP stream is read: closing this
        # stream must close the connection even when that read never started.
        return ClosingStream(self._translate_stream(request, events), events.close)

    async def astream(self, request: ResponsesRequest) -> AsyncIterator[BaseModel]:
        full = self.local.with_context(request)
        events = await self.transport.aopen_sse(self.bridge.path(full), self.wire_body(full))
        return ClosingAsyncStream(self._atranslate_stream(request, events), events.aclose)

    def _failure(self, builder: ResponseStreamBuilder, error: AnyLLMError) -> list[dict[str, Any]]:
        code = error.code or ("stream_error" if isinstance(error, StreamError) else "server_error")
        return builder.fail(error.message, code=code)

    def _typed_failure(self, builder: ResponseStreamBuilder, error: AnyLLMError) -> list[BaseModel]:
        """The in-band ``error`` and ``response.failed`` events, typed; none when the response
        built so far cannot be typed (a reply member of the wrong type that the translation
        carried into it): then the typed exception alone reports the failure."""
        from anyllm.types import event_from_dict

        try:
            return [event_from_dict(event) for event in self._failure(builder, error)]
        except SHAPE_ERRORS:
            return []

    def _translate_stream(
        self, request: ResponsesRequest, events: Iterator[SSEEvent]
    ) -> Generator[BaseModel, None, None]:
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
            except READ_ERRORS as caught:
                error = unexpected_shape(caught, self.provider, streaming=True)  # typed ones unchanged
                error.provider = error.provider or self.provider
                yield from self._typed_failure(builder, error)
                if error is caught:
                    raise
                raise error from caught
            self._remember(request, builder.response)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def _atranslate_stream(
        self, request: ResponsesRequest, events: AsyncIterator[SSEEvent]
    ) -> AsyncGenerator[BaseModel, None]:
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
            except READ_ERRORS as caught:
                error = unexpected_shape(caught, self.provider, streaming=True)  # typed ones unchanged
                error.provider = error.provider or self.provider
                for failed in self._typed_failure(builder, error):
                    yield failed
                if error is caught:
                    raise
                raise error from caught
            self._remember(request, builder.response)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        self.transport.close()
        self.local.close()

    async def aclose(self) -> None:
        await self.transport.aclose()
        self.local.close()
