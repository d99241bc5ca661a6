"""Anthropic Messages -> Responses events: SSE events one at a time, and whole replies.

A whole Message (``translate_response``) is replayed through the same translator as a
stream (``message_start`` holding the content, then ``message_stop``), so both paths make
the same items, statuses and annotations; the decisions are listed in
:mod:`anyllm.translate.anthropic.response`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyllm.errors import ProviderError, StreamError
from anyllm.streaming import SSEEvent
from anyllm.translate.anthropic.common import PROVIDER, REDACTED_PREFIX, encode_thinking
from anyllm.translate.anthropic.hosted import (
    CITATIONS_TYPE,
    compaction_item,
    hosted_item,
    url_citation,
)
from anyllm.translate.anthropic.response import (
    anthropic_usage,
    check_allowed,
    error_from_event,
    finish,
    json_object,
)
from anyllm.translate.base import StreamTranslator
from anyllm.translate.common import new_id
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["AnthropicStreamTranslator", "translate_response"]


def _block_index(data: Mapping[str, Any]) -> int:
    """A content block event's ``index``: a non-negative integer (0 when absent), else StreamError."""
    index = data.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StreamError(
            f"anthropic sent content block index {str(index)[:40]!r}, not a non-negative integer",
            provider=PROVIDER,
        )
    return index


class AnthropicStreamTranslator(StreamTranslator):
    """Messages SSE events -> builder calls, one event at a time.

    Content blocks arrive one after another (``content_block_start`` / ``_delta`` /
    ``_stop``), so each maps onto the builder's one open item. A ``tool_use`` (or hosted)
    block is not closed at its ``content_block_stop``: that event does not say whether
    ``max_tokens`` cut the block short, so the item stays open until the next block starts
    (it was complete) or the stop reason arrives (``max_tokens`` ends it ``incomplete``, as
    the spec's item lifecycle requires). ``message_stop`` finishes the response; a stream
    that ends without it fails (StreamTranslator's ``end``), and so does a second
    ``message_start`` while a message is open (a spliced stream).
    """

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        super().__init__(builder)
        self._kinds: dict[int, str] = {}  # block index -> block type
        self._blocks: dict[int, dict[str, Any]] = {}  # hosted/compaction blocks being assembled
        self._json: dict[int, list[str]] = {}  # input_json_delta pieces of hosted blocks
        self._thinking: dict[int, list[str]] = {}
        self._signatures: dict[int, list[str]] = {}
        self._cited: dict[int, tuple[int, list[Any]]] = {}  # text block -> (start offset, citations)
        self._citations: dict[str, Any] | None = None  # the open message's anthropic:citations item
        self._stopped: set[int] = set()  # blocks past content_block_stop
        self._unclosed: list[tuple[str, int]] = []  # stopped blocks whose item is still open
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None
        self._message_id: str | None = None  # set between message_start and message_stop

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
        return self.handle(str(kind), data)

    def handle(self, kind: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """One decoded event; ping and event types Anthropic may add later (its docs ask
        clients to ignore them) produce nothing."""
        handler = _HANDLERS.get(kind)
        return handler(self, data) if handler is not None else []

    # -- message ---------------------------------------------------------------------------

    def _message_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        message = json_object(data.get("message"))
        if self._message_id is not None:
            raise StreamError(
                f"anthropic started message {message.get('id')!r} while message {self._message_id!r} "
                "was still open (message_start before message_stop): the stream is spliced; "
                "the open message is abandoned",
                provider=PROVIDER,
            )
        self._message_id = str(message.get("id") or "message")
        self.builder.set_model(str(message.get("model") or ""))
        if isinstance(message.get("usage"), Mapping):
            self._usage.update(message["usage"])
        if message.get("stop_reason") is not None:
            self._stop_reason = message["stop_reason"]
        out: list[dict[str, Any]] = []
        # A message_start may already hold the content (whole replies replayed here, and
        # Anthropic's continuations of programmatic tool calls): each block as if streamed.
        for index, block in enumerate(message.get("content") or []):
            if isinstance(block, Mapping):
                out += self._block_start({"index": index, "content_block": block})
                out += self._block_stop({"index": index})
        return out

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
        self._message_id = None
        return finish(self.builder, self._stop_reason)

    # -- blocks ----------------------------------------------------------------------------

    def _close_unclosed(self) -> list[dict[str, Any]]:
        """A new block starts: the stopped tool-use and hosted blocks were complete."""
        out: list[dict[str, Any]] = []
        for kind, index in self._unclosed:
            out += (
                self.builder.end_tool_call(index) if kind == "tool_use" else self.builder.end_extension(index)
            )
        self._unclosed.clear()
        return out

    def _block_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = _block_index(data)
        block = json_object(data.get("content_block"))
        kind = str(block.get("type"))
        if index in self._kinds:
            raise StreamError(f"anthropic started content block {index} twice", provider=PROVIDER)
        self._kinds[index] = kind
        out = self._close_unclosed()
        if kind == "text":
            citations = block.get("citations")
            if isinstance(citations, list):
                self._cited[index] = (self.builder.text_offset(), list(citations))
            return out + self.builder.text(str(block.get("text") or ""))
        if kind == "thinking":
            thinking = str(block.get("thinking") or "")
            self._thinking[index] = [thinking]
            self._signatures[index] = [str(block.get("signature") or "")]
            return out + self.builder.end_items() + self.builder.reasoning(thinking)
        if kind == "redacted_thinking":
            out += self.builder.encrypted_reasoning(REDACTED_PREFIX + str(block.get("data", "")))
            return out + self.builder.end_items()
        if kind == "tool_use":
            name = str(block.get("name", ""))
            check_allowed(self.builder, name)
            initial = block.get("input")
            arguments = json.dumps(initial) if initial else ""
            return out + self.builder.tool_call(
                index, call_id=str(block.get("id") or ""), name=name, arguments=arguments
            )
        # compaction, and every Anthropic-hosted block (see anyllm.translate.anthropic.hosted)
        self._blocks[index] = dict(block)
        item = compaction_item(block) if kind == "compaction" else hosted_item(block)
        return out + self.builder.open_extension(index, item)

    def _block_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = _block_index(data)
        delta = json_object(data.get("delta"))
        kind = delta.get("type")
        block_kind = self._kinds.get(index)
        if block_kind is None:
            raise StreamError(f"anthropic sent a delta for content block {index} before starting it")
        if index in self._stopped:
            raise StreamError(f"anthropic sent a delta for content block {index} after it stopped")
        if kind == "text_delta" and block_kind == "text":
            return self.builder.text(str(delta.get("text", "")))
        if kind == "citations_delta" and block_kind == "text":
            self._cited.setdefault(index, (self.builder.text_offset(), []))[1].append(delta.get("citation"))
            return []
        if kind == "thinking_delta" and block_kind == "thinking":
            thinking = str(delta.get("thinking", ""))
            self._thinking.setdefault(index, []).append(thinking)
            return self.builder.reasoning(thinking)
        if kind == "signature_delta" and block_kind == "thinking":
            self._signatures.setdefault(index, []).append(str(delta.get("signature", "")))
            return []
        if kind == "input_json_delta" and block_kind == "tool_use":
            return self.builder.tool_call(index, arguments=str(delta.get("partial_json", "")))
        if kind == "input_json_delta" and index in self._blocks:
            self._json.setdefault(index, []).append(str(delta.get("partial_json", "")))
        elif kind == "compaction_delta" and block_kind == "compaction":
            block = self._blocks[index]
            block["content"] = (block.get("content") or "") + str(delta.get("content") or "")
        return []  # other deltas: types Anthropic may add later

    def _block_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = _block_index(data)
        kind = self._kinds.get(index)
        if kind is None or index in self._stopped:
            raise StreamError(
                f"anthropic stopped content block {index}, which is not open", provider=PROVIDER
            )
        self._stopped.add(index)
        if kind == "text":
            return self._cite(index)
        if kind == "tool_use":
            self._unclosed.append((kind, index))
            return []
        if kind == "thinking":
            thinking = "".join(self._thinking.pop(index, []))
            signature = "".join(self._signatures.pop(index, []))
            encrypted = encode_thinking(thinking, signature)
            return self.builder.encrypted_reasoning(encrypted) + self.builder.end_items()
        if kind == "redacted_thinking":
            return []
        block = self._blocks.pop(index)
        item: dict[str, Any]
        if kind == "compaction":
            item = compaction_item(block)
        else:
            item = hosted_item(block)
            pieces = self._json.pop(index, None)
            if pieces:
                try:
                    block["input"] = json.loads("".join(pieces))
                except ValueError:  # cut short (max_tokens): the item will end incomplete
                    item["partial_json"] = "".join(pieces)
        self.builder.update_extension(index, item)
        self._unclosed.append((kind, index))
        return []

    def _cite(self, index: int) -> list[dict[str, Any]]:
        """A text block with citations ended: url_citation annotations for its span, and its
        citations kept whole in the message's ``anthropic:citations`` item."""
        cited = self._cited.pop(index, None)
        if cited is None or not cited[1] or not self.builder.annotating():
            return []
        start, citations = cited
        end = self.builder.text_offset()
        out: list[dict[str, Any]] = []
        for citation in citations:
            annotation = url_citation(json_object(citation), start, end)
            if annotation is not None:
                out += self.builder.annotate(annotation)
        message_id = self.builder.open_message_id()
        if self._citations is None or self._citations["message_id"] != message_id:
            self._citations = {
                "type": CITATIONS_TYPE,
                "id": new_id("ext"),
                "status": "completed",
                "message_id": message_id,
                "blocks": [],
            }
            out += self.builder.trail(self._citations)
        self._citations["blocks"].append({"start_index": start, "end_index": end, "citations": citations})
        return out


_HANDLERS = {
    "message_start": AnthropicStreamTranslator._message_start,
    "content_block_start": AnthropicStreamTranslator._block_start,
    "content_block_delta": AnthropicStreamTranslator._block_delta,
    "content_block_stop": AnthropicStreamTranslator._block_stop,
    "message_delta": AnthropicStreamTranslator._message_delta,
    "message_stop": AnthropicStreamTranslator._message_stop,
}


def translate_response(reply: Any, builder: ResponseStreamBuilder) -> list[dict[str, Any]]:
    """Feed a whole Messages reply to ``builder`` and finish it; returns the events (unused
    for non-streaming calls, handy for tests). The reply is replayed as a stream whose
    ``message_start`` holds the content, so whole replies and streams agree."""
    if not isinstance(reply, Mapping):
        raise ProviderError(
            f"anthropic answered with {type(reply).__name__}, not a message", provider=PROVIDER
        )
    if reply.get("type") == "error":
        raise error_from_event(reply)
    if reply.get("type") != "message" or not isinstance(reply.get("content"), list):
        raise ProviderError(
            f"anthropic answered with a body that is not a message: {json.dumps(reply)[:200]}",
            provider=PROVIDER,
        )
    translator = AnthropicStreamTranslator(builder)
    out = translator.handle("message_start", {"type": "message_start", "message": dict(reply)})
    return out + translator.handle("message_stop", {"type": "message_stop"})
