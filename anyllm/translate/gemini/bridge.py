"""The Gemini bridge object: Responses over ``generateContent`` / ``streamGenerateContent``.

Says where to send the translated request; the key travels in ``x-goog-api-key`` (the
registry's auth style, applied by the backend), never in the query string, so it stays
out of URLs and logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from anyllm.request import ResponsesRequest
from anyllm.translate.base import StreamTranslator
from anyllm.translate.gemini.request import translate_request
from anyllm.translate.gemini.response import translate_response
from anyllm.translate.gemini.stream import GeminiStreamTranslator
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["GeminiBridge", "model_path"]


def model_path(model: str, *, stream: bool) -> str:
    """``models/{model}:generateContent`` (or the SSE streaming method) for a model name.

    ``models/x`` and ``tunedModels/x`` are accepted as they are. ``alt=sse`` sits in the path
    because the transport's query parameters are per client, not per call.
    """
    name = model.strip()
    if "/" not in name:
        name = f"models/{name}"
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{quote(name, safe='/-._~')}:{method}"


class GeminiBridge:
    """Responses over ``POST {base}/models/{model}:generateContent`` (``?alt=sse`` to stream)."""

    def path(self, request: ResponsesRequest) -> str:
        return model_path(request.model, stream=request.stream)

    def headers(self) -> Mapping[str, str]:
        return {}

    def translate_request(self, request: ResponsesRequest) -> dict[str, Any]:
        return translate_request(request.body, stream=request.stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate_response(reply, builder)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return GeminiStreamTranslator(builder)
