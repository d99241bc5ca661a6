"""The chat-completions bridge object: Responses over ``POST {base}/chat/completions``.

Binds the pure translations of this package to one vendor's dialect; HTTP, the local
response store, typing and mid-stream failures belong to the backend that drives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyllm.request import ResponsesRequest
from anyllm.translate.base import StreamTranslator
from anyllm.translate.chat.dialect import ChatDialect
from anyllm.translate.chat.request import translate_request
from anyllm.translate.chat.response import translate_chat_response
from anyllm.translate.chat.stream import ChatStreamTranslator
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["ChatBridge"]


class ChatBridge:
    """Mistral, llama.cpp, Together, Cerebras, SambaNova, Perplexity and any
    OpenAI-compatible server, each through its :class:`ChatDialect`."""

    def __init__(self, dialect: ChatDialect) -> None:
        self.dialect = dialect
        self.provider = dialect.name

    def path(self, request: ResponsesRequest) -> str:
        return "chat/completions"

    def headers(self) -> Mapping[str, str]:
        return {}

    def translate_request(self, request: ResponsesRequest) -> dict[str, Any]:
        return translate_request(request.body, self.dialect, stream=request.stream)

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        translate_chat_response(reply, builder, self.provider)

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        return ChatStreamTranslator(builder, self.provider)
