"""Anthropic Messages replies: the decisions, and the helpers the translator uses for
stop reasons, usage, errors and tool_choice (:mod:`anyllm.translate.anthropic.stream`
translates whole replies and streams alike).

Decisions:

* ``text`` -> message ``output_text`` (adjacent text blocks form one part),
  ``tool_use`` -> ``function_call`` (``call_id`` = the tool_use id, ``arguments`` =
  ``json.dumps(input)``), thinking as in :mod:`anyllm.translate.anthropic.request`.
* Provider-hosted content: blocks of Anthropic-hosted tools and features
  (``server_tool_use``, ``*_tool_result``, ``mcp_tool_use``/``mcp_tool_result``,
  ``container_upload``, any block type not listed here) have no spec item; they appear
  when the caller asks for hosted tools through passthrough keys (``tools`` entries are
  function tools only, but ``mcp_servers``, ``context_management`` ... are forwarded). Each
  becomes an ``anthropic:<block type>`` extension item carrying the block verbatim, streamed
  with the normal item lifecycle and sent back as that block on the next turn (input and
  the local store alike). ``compaction`` becomes the spec's ``compaction`` item. Other
  providers' bridges skip ``anthropic:*`` items: the spec says extension items are
  "specific to that implementation and not assumed to be portable". Details in
  :mod:`anyllm.translate.anthropic.hosted`.
* Citations: a citation with a URL becomes a ``url_citation`` annotation over the cited
  text (``response.output_text.annotation.added`` when streaming); every citation is also
  kept whole (``cited_text``, ``encrypted_index``, non-URL locations) in the message's
  ``anthropic:citations`` item, which follows the message. A message that ends
  ``incomplete`` keeps its annotations but not that item: the spec requires the incomplete
  item to be the last one.
* Item status: a ``tool_use`` (or hosted) block stays open after its
  ``content_block_stop`` until the next block starts or the stop reason arrives, because
  ``max_tokens`` may have cut it: then it ends ``incomplete`` (its arguments are cut
  short), never ``completed`` (callers run completed calls).
* ``stop_reason``: ``end_turn``/``stop_sequence``/``tool_use`` -> completed;
  ``max_tokens`` and ``model_context_window_exceeded`` -> incomplete
  (``max_output_tokens``); ``refusal`` -> incomplete (``content_filter``), keeping what was
  written before the classifier stopped it; ``pause_turn`` -> incomplete (``pause_turn``);
  any other reason -> incomplete with that reason.
* Usage: ``input_tokens`` = Anthropic's uncached input + cache writes + cache reads (the
  Responses figure counts all input), ``cached_tokens`` = ``cache_read_input_tokens``.
* A ``message_start`` may hold the whole content and the stop reason (continuations of
  programmatic tool calls): its blocks are translated as if streamed. A second
  ``message_start`` while a message is open is a spliced stream: StreamError, before
  anything of the new message is emitted.
* An ``error`` SSE event becomes the typed exception ``error_from_http`` gives for the
  HTTP status Anthropic uses for that error type (:data:`ERROR_STATUS`, e.g.
  ``overloaded_error`` -> 529, ``rate_limit_error`` -> 429).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyllm.errors import AnyLLMError, error_from_http
from anyllm.translate.anthropic.common import PROVIDER
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
