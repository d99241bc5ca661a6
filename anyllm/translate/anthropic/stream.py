"""Anthropic Messages SSE events -> Responses events, one event at a time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyllm.errors import StreamError
from anyllm.streaming import SSEEvent
from anyllm.translate.anthropic.common import REDACTED_PREFIX, encode_thinking
from anyllm.translate.anthropic.response import (
    anthropic_usage,
    check_allowed,
    error_from_event,
    finish,
    json_object,
)
from anyllm.translate.base import StreamTranslator
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["AnthropicStreamTranslator"]


class AnthropicStreamTranslator(StreamTranslator):
    """Messages SSE events -> builder calls, one event at a time.

    Content blocks arrive one after another (``content_block_start`` / ``_delta`` /
    ``_stop``), so each maps onto the builder's one open item. ``message_stop`` finishes
    the response; a stream that ends without it fails (StreamTranslator's ``end``).
    """

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        super().__init__(builder)
        self._kinds: dict[int, str] = {}  # block index -> block type
        self._thinking: dict[int, list[str]] = {}
        self._signatures: dict[int, list[str]] = {}
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        try:
            data = json.loads(event.data)
        except ValueError as exc:
            raise StreamError(f"anthropic sent an event that is not JSON: {event.data[:200]!r}") from exc
        if not isinstance(data, dict):
            raise StreamError(f"anthropic sent an event that is not an object: {event.data[:200]!r}")
        kind = data.get("type") or event.event
        if kind == "error":
            raise error_from_event(data)
        handler = _HANDLERS.get(str(kind))
        # ping, and event types Anthropic may add later (its docs ask clients to ignore them).
        return handler(self, data) if handler is not None else []

    def _message_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        message = json_object(data.get("message"))
        self.builder.set_model(str(message.get("model") or ""))
        if isinstance(message.get("usage"), Mapping):
            self._usage.update(message["usage"])
        return []

    def _block_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = int(data.get("index", 0))
        block = json_object(data.get("content_block"))
        kind = str(block.get("type"))
        self._kinds[index] = kind
        if kind == "text":
            return self.builder.text(str(block.get("text") or ""))
        if kind == "thinking":
            thinking = str(block.get("thinking") or "")
            self._thinking[index] = [thinking]
            self._signatures[index] = [str(block.get("signature") or "")]
            return self.builder.end_items() + self.builder.reasoning(thinking)
        if kind == "redacted_thinking":
            out = self.builder.encrypted_reasoning(REDACTED_PREFIX + str(block.get("data", "")))
            return out + self.builder.end_items()
        if kind == "tool_use":
            name = str(block.get("name", ""))
            check_allowed(self.builder, name)
            initial = block.get("input")
            arguments = json.dumps(initial) if initial else ""
            return self.builder.tool_call(
                index, call_id=str(block.get("id") or ""), name=name, arguments=arguments
            )
        return []

    def _block_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = int(data.get("index", 0))
        delta = json_object(data.get("delta"))
        kind = delta.get("type")
        block_kind = self._kinds.get(index)
        if kind == "text_delta" and block_kind == "text":
            return self.builder.text(str(delta.get("text", "")))
        if kind == "thinking_delta" and block_kind == "thinking":
            thinking = str(delta.get("thinking", ""))
            self._thinking.setdefault(index, []).append(thinking)
            return self.builder.reasoning(thinking)
        if kind == "signature_delta" and block_kind == "thinking":
            self._signatures.setdefault(index, []).append(str(delta.get("signature", "")))
            return []
        if kind == "input_json_delta" and block_kind == "tool_use":
            return self.builder.tool_call(index, arguments=str(delta.get("partial_json", "")))
        if block_kind is None:
            raise StreamError(f"anthropic sent a delta for content block {index} before starting it")
        return []  # citations_delta, hosted-tool deltas: see anyllm.translate.anthropic.response

    def _block_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = int(data.get("index", 0))
        kind = self._kinds.get(index)
        if kind == "tool_use":
            return self.builder.end_tool_call(index)
        if kind == "thinking":
            thinking = "".join(self._thinking.pop(index, []))
            signature = "".join(self._signatures.pop(index, []))
            encrypted = encode_thinking(thinking, signature)
            return self.builder.encrypted_reasoning(encrypted) + self.builder.end_items()
        return []

    def _message_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        delta = json_object(data.get("delta"))
        if delta.get("stop_reason") is not None:
            self._stop_reason = delta["stop_reason"]
        if isinstance(data.get("usage"), Mapping):
            self._usage.update({k: v for k, v in data["usage"].items() if v is not None})
        return []

    def _message_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        if self._usage:
            self.builder.set_usage(anthropic_usage(self._usage))
        if self._stop_reason is None:
            raise StreamError("anthropic ended the message without a stop_reason")
        return finish(self.builder, self._stop_reason)


_HANDLERS = {
    "message_start": AnthropicStreamTranslator._message_start,
    "content_block_start": AnthropicStreamTranslator._block_start,
    "content_block_delta": AnthropicStreamTranslator._block_delta,
    "content_block_stop": AnthropicStreamTranslator._block_stop,
    "message_delta": AnthropicStreamTranslator._message_delta,
    "message_stop": AnthropicStreamTranslator._message_stop,
}
