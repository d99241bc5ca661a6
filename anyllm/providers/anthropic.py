"""The Anthropic Messages API backend (``POST {base}/v1/messages``).

The translation lives in :mod:`anyllm.translate.anthropic`; this class only says where to
send it and how to authenticate (``x-api-key`` plus the ``anthropic-version`` header the
API requires). Everything Anthropic cannot express fails in ``translate_request``, which
runs before the request is sent (for streams too), so no separate ``check`` pass is needed.
``api_base`` is the server root (``https://api.anthropic.com``), as in
Anthropic's own SDK; a base that already ends in ``/v1`` is accepted too.
"""

from __future__ import annotations

from typing import Any

from anyllm.providers.http import auth_headers
from anyllm.providers.translated import StreamTranslator, TranslatedBackend
from anyllm.translate import anthropic as translate
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["AnthropicBackend"]


class AnthropicBackend(TranslatedBackend):
    """Responses over Anthropic's Messages API."""

    def headers(self) -> dict[str, str]:
        return {**auth_headers(self.config), "anthropic-version": translate.ANTHROPIC_VERSION}

    def path(self, body: dict[str, Any], *, stream: bool) -> str:
        return "messages" if self.config.base_url.rstrip("/").endswith("/v1") else "v1/messages"

    def translate_request(self, body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        return translate.translate_request(body, stream=stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate.translate_response(reply, builder)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return translate.AnthropicStreamTranslator(builder)
