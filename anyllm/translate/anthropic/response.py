"""Anthropic Messages reply -> ResponseStreamBuilder calls: content blocks, stop reasons,
usage and errors, shared by whole replies and :mod:`anyllm.translate.anthropic.stream`.

Decisions:

* ``text`` -> message ``output_text`` (adjacent text blocks form one part),
  ``tool_use`` -> ``function_call`` (``call_id`` = the tool_use id, ``arguments`` =
  ``json.dumps(input)``), thinking as above.
* Blocks of Anthropic-hosted tools (``server_tool_use``, ``*_tool_result``, ``mcp_*``,
  ``compaction``, ``container_upload`` ...) and ``citations_delta`` are not representable
  as spec items and are skipped: this library only sends function tools, so they appear
  only when the caller asked for hosted tools through passthrough keys.
* ``stop_reason``: ``end_turn``/``stop_sequence``/``tool_use`` -> completed;
  ``max_tokens`` and ``model_context_window_exceeded`` -> incomplete
  (``max_output_tokens``); ``refusal`` -> incomplete (``content_filter``), keeping what was
  written before the classifier stopped it; ``pause_turn`` -> incomplete (``pause_turn``);
  any other reason -> incomplete with that reason.
* Usage: ``input_tokens`` = Anthropic's uncached input + cache writes + cache reads (the
  Responses figure counts all input), ``cached_tokens`` = ``cache_read_input_tokens``.
* An ``error`` SSE event becomes the typed exception ``error_from_http`` gives for the
  HTTP status Anthropic uses for that error type (:data:`ERROR_STATUS`, e.g.
  ``overloaded_error`` -> 529, ``rate_limit_error`` -> 429).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyllm.errors import AnyLLMError, ProviderError, error_from_http
from anyllm.translate.anthropic.common import PROVIDER, REDACTED_PREFIX, encode_thinking
from anyllm.translate.base import allowed_tool_names, check_tool_allowed
from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "ERROR_STATUS",
    "anthropic_usage",
    "check_allowed",
    "error_from_event",
    "finish",
    "json_object",
    "translate_response",
]

# Anthropic's documented error types and the HTTP status each comes with
# (https://docs.anthropic.com/en/api/errors).
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_STOP_COMPLETED = frozenset({"end_turn", "stop_sequence", "tool_use"})
_STOP_INCOMPLETE = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}


def anthropic_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    return usage_dict(
        int(usage.get("input_tokens") or 0) + cache_read + cache_write,
        usage.get("output_tokens"),
        cached_tokens=cache_read,
    )


def json_object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (provider fields may be missing)."""
    return value if isinstance(value, Mapping) else {}


def finish(builder: ResponseStreamBuilder, stop_reason: Any) -> list[dict[str, Any]]:
    if stop_reason in _STOP_COMPLETED:
        return builder.complete()
    reason = _STOP_INCOMPLETE.get(str(stop_reason), str(stop_reason))
    return builder.incomplete(reason)


def error_from_event(error: Any) -> AnyLLMError:
    """An Anthropic ``error`` event (or error body) -> the typed exception for its HTTP status."""
    body = error if isinstance(error, Mapping) else {"type": "error", "error": {"message": str(error)}}
    inner = json_object(body.get("error"))
    status = ERROR_STATUS.get(str(inner.get("type")), 500)
    return error_from_http(status, json.dumps(body), {}, provider=PROVIDER)


def check_allowed(builder: ResponseStreamBuilder, name: str) -> None:
    """A ``tool_use`` of a tool outside what ``tool_choice`` permits is a model error."""
    check_tool_allowed(allowed_tool_names(builder.response.get("tool_choice")), name, PROVIDER)


def translate_response(reply: Any, builder: ResponseStreamBuilder) -> list[dict[str, Any]]:
    """Feed a whole Messages reply to ``builder`` and finish it; returns the events (unused
    for non-streaming calls, handy for tests)."""
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
    out: list[dict[str, Any]] = []
    builder.set_model(str(reply.get("model") or ""))
    for index, block in enumerate(reply["content"]):
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            out += builder.text(str(block.get("text", "")))
        elif kind == "thinking":
            thinking = str(block.get("thinking", ""))
            out += builder.end_items()
            out += builder.reasoning(thinking)
            out += builder.encrypted_reasoning(encode_thinking(thinking, str(block.get("signature", ""))))
            out += builder.end_items()
        elif kind == "redacted_thinking":
            out += builder.encrypted_reasoning(REDACTED_PREFIX + str(block.get("data", "")))
            out += builder.end_items()
        elif kind == "tool_use":
            name = str(block.get("name", ""))
            check_allowed(builder, name)
            arguments = json.dumps(block.get("input") or {})
            out += builder.tool_call(
                index, call_id=str(block.get("id") or ""), name=name, arguments=arguments
            )
            out += builder.end_tool_call(index)
        # Anything else is an Anthropic-hosted tool's block: see the module docstring.
    if isinstance(reply.get("usage"), Mapping):
        builder.set_usage(anthropic_usage(reply["usage"]))
    out += finish(builder, reply.get("stop_reason"))
    return out
