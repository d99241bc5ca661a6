"""The Anthropic bridge object: Responses over ``POST {base}/v1/messages``.

Says where to send the translated request and which header the API requires
(``anthropic-version``); authentication (``x-api-key``) is the backend's. Everything
Anthropic cannot express fails in ``translate_request``, which runs before the request is
sent (for streams too). ``api_base`` is the server root (``https://api.anthropic.com``),
as in Anthropic's own SDK; a base that already ends in ``/v1`` is accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyllm.request import ResponsesRequest
from anyllm.translate.anthropic.request import translate_request
from anyllm.translate.anthropic.stream import AnthropicStreamTranslator, translate_response
from anyllm.translate.base import StreamTranslator
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["ANTHROPIC_VERSION", "AnthropicBridge"]

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicBridge:
    """Responses over Anthropic's Messages API."""

    def __init__(self, base_url: str) -> None:
        self._path = "messages" if base_url.rstrip("/").endswith("/v1") else "v1/messages"

    def path(self, request: ResponsesRequest) -> str:
        return self._path

    def headers(self) -> Mapping[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}

    def translate_request(self, request: ResponsesRequest) -> dict[str, Any]:
        return translate_request(request.body, stream=request.stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate_response(reply, builder)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return AnthropicStreamTranslator(builder)
