"""``chat.completion.chunk`` SSE events -> Responses events, one event at a time.

A stream ends on ``finish_reason`` or ``data: [DONE]``; if the connection closes with
neither, the response was cut short and :class:`StreamError` is raised. ``[DONE]`` with no
finish reason (seen from real OpenAI-compatible gateways) counts as a normal end.
"""

from __future__ import annotations

import json
from typing import Any

from anyllm.errors import StreamError
from anyllm.streaming import DONE, SSEEvent
from anyllm.translate.base import StreamTranslator
from anyllm.translate.chat.response import apply_finish, error_from_chunk, feed_message, usage_of
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["ChatStreamTranslator"]


class ChatStreamTranslator(StreamTranslator):
    """``chat.completion.chunk`` events -> Responses events.

    The finish reason is remembered, not acted on at once: usage arrives in a later chunk
    (``stream_options.include_usage``) and some gateways repeat the finish chunk, so the
    response ends at ``[DONE]`` or when the stream closes.
    """

    def __init__(self, builder: ResponseStreamBuilder, provider: str) -> None:
        super().__init__(builder)
        self.provider = provider
        self.finish_reason: str | None = None
        self._model_set = False
        self._annotations: list[dict[str, Any]] = []  # url citations waiting for their text

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = event.data
        if data == DONE or data.strip() == DONE:
            return self._finish()
        if self.builder.finished:
            return []
        try:
            payload = json.loads(data)
        except ValueError:
            raise StreamError(
                f"{self.provider} sent a stream event that is not JSON: {data[:200]!r}",
                provider=self.provider,
            ) from None
        if not isinstance(payload, dict):
            raise StreamError(
                f"{self.provider} sent a stream event that is not an object", provider=self.provider
            )
        if event.event == "error" or ("error" in payload and not payload.get("choices")):
            raise error_from_chunk(payload, self.provider)
        if not self._model_set and isinstance(payload.get("model"), str):
            self.builder.set_model(payload["model"])
            self._model_set = True
        usage = usage_of(payload, self.provider, streaming=True)
        if usage is not None:
            self.builder.set_usage(usage)
        out: list[dict[str, Any]] = []
        choices = payload.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    out += feed_message(self.builder, delta, self._annotations)
                reason = choice.get("finish_reason")
                if isinstance(reason, str) and reason:
                    self.finish_reason = reason
        return out

    def _finish(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        return apply_finish(self.builder, self.finish_reason, self.provider)

    def end(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        if self.finish_reason is None:
            raise StreamError(
                f"{self.provider}'s stream ended with neither a finish_reason nor [DONE]: it was cut short",
                provider=self.provider,
            )
        return self._finish()
