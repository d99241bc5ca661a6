"""The Google Gemini bridge: Responses over ``generateContent`` / ``streamGenerateContent``.

The translations live in :mod:`anyllm.translate.gemini` (pure functions, tested without
HTTP); this class binds them to the endpoint. The key travels in ``x-goog-api-key`` (the
registry's auth style), never in the query string, so it stays out of URLs and logs.
HTTP, the local response store, typing and mid-stream failures are
:class:`TranslatedBackend`'s.
"""

from __future__ import annotations

from typing import Any

from anyllm.providers.translated import StreamTranslator, TranslatedBackend
from anyllm.translate.gemini import GeminiStreamTranslator, model_path, translate_request, translate_response
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["GeminiBackend"]


class GeminiBackend(TranslatedBackend):
    """Responses over ``POST {base}/models/{model}:generateContent`` (``?alt=sse`` to stream)."""

    def path(self, body: dict[str, Any], *, stream: bool) -> str:
        return model_path(str(body["model"]), stream=stream)

    def translate_request(self, body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        return translate_request(body, stream=stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate_response(reply, builder)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return GeminiStreamTranslator(builder)
