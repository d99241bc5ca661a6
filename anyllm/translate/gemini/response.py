"""Gemini GenerateContentResponse -> ResponseStreamBuilder calls, for whole replies and
for each chunk of a stream (:mod:`anyllm.translate.gemini.stream`).

Decisions:

* ``candidates[0].content.parts``: text -> message ``output_text``; ``thought: true`` ->
  reasoning; ``functionCall`` -> ``function_call`` (``arguments`` = ``json.dumps(args)``;
  calls arrive whole, so each is opened and closed at once, except when the caller asked
  for ``streamFunctionCallArguments``: then the pieces are assembled as described in
  :mod:`anyllm.translate.gemini.partial_args`, the item opening with the name). Other part
  kinds (``executableCode``, ``codeExecutionResult``, inline images, ...) become
  ``gemini:<kind>`` extension items and ``groundingMetadata`` becomes ``url_citation``
  annotations plus a ``gemini:grounding_metadata`` item: see
  :mod:`anyllm.translate.gemini.hosted`. Such items follow the message they concern; when
  that message ends ``incomplete`` they are not emitted (the spec requires the incomplete
  item to be last), its annotations are kept. Other candidates are ignored (the
  Responses API has one output).
* ``finishReason``: STOP -> completed; MAX_TOKENS -> incomplete (``max_output_tokens``);
  SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII and the IMAGE_* filters ->
  incomplete (``content_filter``), keeping what was written; anything else
  (MALFORMED_FUNCTION_CALL, LANGUAGE, OTHER, ...) -> ProviderError with the reason as code.
* A blocked prompt (``promptFeedback.blockReason``, no candidates) -> ContentFilterError:
  nothing was generated, so there is no response to call incomplete.
* Usage: ``input_tokens`` = promptTokenCount + toolUsePromptTokenCount, ``output_tokens`` =
  candidatesTokenCount + thoughtsTokenCount (Responses counts reasoning inside output),
  ``cached_tokens`` = cachedContentTokenCount, ``reasoning_tokens`` = thoughtsTokenCount.
* Streaming: every SSE ``data`` is a whole GenerateContentResponse with new parts; the
  ending (its ``finishReason``) is applied when the stream closes, so usage sent with or
  after the last chunk is kept. A stream that closes without a ``finishReason`` was cut
  short (StreamError); an ``{"error": {...}}`` chunk becomes ``error_from_http`` with the
  error's ``code`` as the status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyllm.errors import AnyLLMError, ContentFilterError, ProviderError, StreamError, error_from_http
from anyllm.translate.base import allowed_tool_names, check_tool_allowed
from anyllm.translate.common import new_id, usage_dict
from anyllm.translate.gemini.common import PROVIDER, SIGNATURE_PREFIX
from anyllm.translate.gemini.hosted import METADATA_ITEMS, grounding_citations, part_item, part_kind
from anyllm.translate.gemini.partial_args import PartialArguments
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["ChunkReader", "translate_response"]

_FILTERED = frozenset(
    {
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
    }
)  # fmt: skip


def _signature_item(builder: ResponseStreamBuilder, where: str, signature: str) -> list[dict[str, Any]]:
    """A reasoning item holding ``gemini:<where>:<signature>``, closed at once: an open
    reasoning item (the thought just streamed) takes it; otherwise a new, empty one."""
    out = builder.encrypted_reasoning(f"{SIGNATURE_PREFIX}{where}:{signature}")
    return out + builder.end_items()


def _usage(meta: Any) -> dict[str, Any] | None:
    if not isinstance(meta, Mapping):
        return None
    keys = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount")
    if not any(key in meta for key in keys):
        return None

    def count(key: str) -> int:
        value = meta.get(key)
        return int(value) if isinstance(value, int | float) else 0

    thoughts = count("thoughtsTokenCount")
    return usage_dict(
        count("promptTokenCount") + count("toolUsePromptTokenCount"),
        count("candidatesTokenCount") + thoughts,
        cached_tokens=count("cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def _error(payload: Mapping[str, Any]) -> AnyLLMError:
    """An ``{"error": {code, message, status}}`` body (a stream chunk or a 200 reply)."""
    inner = payload.get("error")
    code = inner.get("code") if isinstance(inner, Mapping) else None
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return error_from_http(status, json.dumps(payload), {}, provider=PROVIDER)


class ChunkReader:
    """Turns GenerateContentResponse chunks into builder calls; shared by both call kinds."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        self.builder = builder
        self.allowed = allowed_tool_names(builder.response.get("tool_choice"))
        self.calls = 0
        self.in_text = False  # the last thing written was message text
        self.text_signature: str | None = None  # belongs to the message being written
        self.finish_reason: str | None = None
        self.finish_message = ""
        self.metadata: dict[str, Any] = {}  # candidate metadata (grounding), the latest of each
        self.streamed_call: tuple[int, PartialArguments] | None = None  # streamFunctionCallArguments

    def feed(self, chunk: Any) -> list[dict[str, Any]]:
        if not isinstance(chunk, Mapping):
            raise ProviderError(
                f"gemini sent {type(chunk).__name__}, not a GenerateContentResponse", provider=PROVIDER
            )
        if "error" in chunk:
            raise _error(chunk)
        if chunk.get("modelVersion"):
            self.builder.set_model(str(chunk["modelVersion"]))
        usage = _usage(chunk.get("usageMetadata"))
        if usage is not None:
            self.builder.set_usage(usage)
        candidates = chunk.get("candidates") or []
        if not isinstance(candidates, list):
            raise ProviderError(
                f"gemini sent candidates of type {type(candidates).__name__}, not a list", provider=PROVIDER
            )
        if not candidates:
            feedback = chunk.get("promptFeedback")
            reason = feedback.get("blockReason") if isinstance(feedback, Mapping) else None
            if reason:
                raise ContentFilterError(
                    f"gemini blocked the prompt (blockReason {reason})",
                    provider=PROVIDER,
                    code=str(reason),
                    body=dict(chunk),
                )
            return []
        candidate = candidates[0]
        content = candidate.get("content") if isinstance(candidate, Mapping) else None
        parts = content.get("parts") if isinstance(content, Mapping) else None
        if parts is not None and not isinstance(parts, list):
            raise ProviderError(
                f"gemini sent content.parts of type {type(parts).__name__}, not a list", provider=PROVIDER
            )
        out: list[dict[str, Any]] = []
        for part in parts or []:
            if isinstance(part, Mapping):
                out += self._part(part)
        if isinstance(candidate, Mapping):
            for name in METADATA_ITEMS:
                if isinstance(candidate.get(name), Mapping):
                    self.metadata[name] = dict(candidate[name])
            if candidate.get("finishReason"):
                self.finish_reason = str(candidate["finishReason"])
                self.finish_message = str(candidate.get("finishMessage") or "")
        return out

    def _flush_text_signature(self) -> list[dict[str, Any]]:
        self.in_text = False
        signature, self.text_signature = self.text_signature, None
        return _signature_item(self.builder, "prev", signature) if signature else []

    def _part(self, part: Mapping[str, Any]) -> list[dict[str, Any]]:
        builder = self.builder
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, Mapping) and (
            self.streamed_call is not None or call.get("partialArgs") or call.get("willContinue")
        ):
            return self._streamed_call(call, signature)
        out = self._end_streamed_call()
        if "functionCall" in part:
            out += self._flush_text_signature()
            if signature:
                out += _signature_item(builder, "next", signature)
            call = call if isinstance(call, Mapping) else {}
            name = str(call.get("name") or "")
            check_tool_allowed(self.allowed, name, PROVIDER)
            key = self.calls
            self.calls += 1
            call_id = call.get("id")
            out += builder.tool_call(
                key,
                call_id=str(call_id) if call_id else new_id("call"),
                name=name,
                arguments=json.dumps(call.get("args") or {}, ensure_ascii=False),
            )
            out += builder.end_tool_call(key)
            return out
        kind = part_kind(part)
        if "text" in part or part.get("thought") or kind is None:
            text = str(part.get("text") or "")
            if part.get("thought"):
                out += self._flush_text_signature()
                out += builder.reasoning(text)
                if signature:
                    out += _signature_item(builder, "next", signature)
                return out
            if text:
                if self.text_signature is not None:
                    out += self._flush_text_signature()
                out += builder.text(text)
                self.in_text = True
            if signature:
                if self.in_text:
                    if self.text_signature is not None:
                        out += self._flush_text_signature()
                    self.text_signature = signature
                else:
                    out += _signature_item(builder, "part", signature)
            return out
        out += self._flush_text_signature()
        return out + builder.extension(part_item(part, kind))

    def _streamed_call(self, call: Mapping[str, Any], signature: str | None) -> list[dict[str, Any]]:
        """One piece of a call whose arguments Gemini streams (streamFunctionCallArguments)."""
        out: list[dict[str, Any]] = []
        name = call.get("name")
        if self.streamed_call is not None and isinstance(name, str) and name:
            out += self._end_streamed_call()  # a new call begins: the open one is complete
        if self.streamed_call is None:
            if not isinstance(name, str) or not name:
                raise ProviderError(
                    "gemini streamed function-call arguments (partialArgs) for a call it never named",
                    provider=PROVIDER,
                )
            out += self._flush_text_signature()
            if signature:
                out += _signature_item(self.builder, "next", signature)
            check_tool_allowed(self.allowed, name, PROVIDER)
            key = self.calls
            self.calls += 1
            call_id = call.get("id")
            out += self.builder.tool_call(key, call_id=str(call_id) if call_id else new_id("call"), name=name)
            self.streamed_call = (key, PartialArguments())
        self.streamed_call[1].add(call.get("partialArgs"))
        if not call.get("willContinue"):
            out += self._end_streamed_call()
        return out

    def _end_streamed_call(self) -> list[dict[str, Any]]:
        """Write the assembled arguments of the streamed call, if one is open, and close it."""
        if self.streamed_call is None:
            return []
        key, arguments = self.streamed_call
        self.streamed_call = None
        text = json.dumps(arguments.result(), ensure_ascii=False)
        return self.builder.tool_call(key, arguments=text) + self.builder.end_tool_call(key)

    def _metadata(self) -> list[dict[str, Any]]:
        """Grounding: url_citation annotations on the message written, and the metadata kept
        whole in extension items after it."""
        out: list[dict[str, Any]] = []
        grounding = self.metadata.get("groundingMetadata")
        if grounding is not None and self.builder.annotating():
            for annotation in grounding_citations(self.builder.open_text(), grounding):
                out += self.builder.annotate(annotation)
        for name, value in self.metadata.items():
            item_type, field = METADATA_ITEMS[name]
            out += self.builder.trail(
                {"type": item_type, "id": new_id("ext"), "status": "completed", field: value}
            )
        self.metadata = {}
        return out

    def finish(self) -> list[dict[str, Any]]:
        out = self._end_streamed_call() + self._metadata() + self._flush_text_signature()
        reason = self.finish_reason
        if reason is None:
            raise StreamError("gemini's stream ended without a finishReason (cut short)", provider=PROVIDER)
        if reason == "STOP":
            return out + self.builder.complete()
        if reason == "MAX_TOKENS":
            return out + self.builder.incomplete("max_output_tokens")
        if reason in _FILTERED:
            return out + self.builder.incomplete("content_filter")
        detail = f": {self.finish_message}" if self.finish_message else ""
        raise ProviderError(
            f"gemini stopped with finishReason {reason}{detail}", provider=PROVIDER, code=reason
        )


def translate_response(reply: Any, builder: ResponseStreamBuilder) -> list[dict[str, Any]]:
    """Feed a whole GenerateContentResponse to ``builder`` and finish it; returns the events
    (unused for non-streaming calls, handy for tests)."""
    reader = ChunkReader(builder)
    out = reader.feed(reply)
    if reader.finish_reason is None:
        raise ProviderError(
            f"gemini answered without a finishReason: {json.dumps(reply)[:200]}", provider=PROVIDER
        )
    return out + reader.finish()
