"""The chat-completions bridge: Mistral, llama.cpp, Together, Cerebras, SambaNova,
Perplexity and any OpenAI-compatible server, through one backend.

The translations live in :mod:`anyllm.translate.chat` (pure functions, tested without
HTTP); this class only binds them to a provider's dialect. HTTP, the local response
store, typing and mid-stream failures are :class:`TranslatedBackend`'s.
"""

from __future__ import annotations

from typing import Any

from anyllm.providers.base import ClientConfig
from anyllm.providers.translated import StreamTranslator, TranslatedBackend
from anyllm.translate.chat import (
    ChatStreamTranslator,
    dialect_for,
    translate_chat_response,
    translate_request,
)
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["ChatBackend"]


class ChatBackend(TranslatedBackend):
    """Responses over ``POST {base}/chat/completions``."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        meta = config.metadata
        self.dialect = dialect_for(meta.name, tools=meta.tools, images=meta.image_input)

    def path(self, body: dict[str, Any], *, stream: bool) -> str:
        return "chat/completions"

    def translate_request(self, body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        return translate_request(body, self.dialect, stream=stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate_chat_response(reply, builder, self.provider)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return ChatStreamTranslator(builder, self.provider)
