"""``streamGenerateContent?alt=sse`` chunks -> Responses events, one chunk at a time."""

from __future__ import annotations

import json
from typing import Any

from anyllm.errors import StreamError
from anyllm.streaming import SSEEvent
from anyllm.translate.base import StreamTranslator
from anyllm.translate.gemini.common import PROVIDER
from anyllm.translate.gemini.response import ChunkReader
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["GeminiStreamTranslator"]


class GeminiStreamTranslator(StreamTranslator):
    """``streamGenerateContent?alt=sse`` chunks -> Responses events."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        super().__init__(builder)
        self._reader = ChunkReader(builder)

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = event.data.strip()
        if not data:
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            raise StreamError(
                f"gemini sent a stream event that is not JSON: {data[:120]!r}", provider=PROVIDER
            ) from None
        return self._reader.feed(chunk)

    def end(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        return self._reader.finish()
