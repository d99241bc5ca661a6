"""Responses <-> Anthropic Messages API (``POST /v1/messages``, ``anthropic-version: 2023-06-01``).

Pure functions: a Responses request body in, a Messages request body out; a Messages
reply (whole, or SSE event by event) in, ``ResponseStreamBuilder`` calls out.

Decisions (each one visible to callers, so written down here):

Request
* ``instructions`` and every ``system``/``developer`` message go to the top-level
  ``system`` (Anthropic has no system role inside ``messages``), in input order, joined by
  a blank line. A system message in mid-conversation therefore loses its position.
* Consecutive items of one role are merged into one message (Anthropic requires turns to
  alternate): ``function_call`` items become ``tool_use`` blocks of the assistant turn,
  ``function_call_output`` items ``tool_result`` blocks of the next user turn.
* ``max_tokens`` is required by Anthropic: ``max_output_tokens`` when given, otherwise
  :data:`DEFAULT_MAX_TOKENS` (4096), plus the thinking budget when reasoning is on (see
  below), since Anthropic counts thinking inside ``max_tokens``.
* ``reasoning.effort`` -> ``thinking: {type: enabled, budget_tokens}`` with the budgets of
  :data:`EFFORT_BUDGETS` (Anthropic's minimum budget is 1024 and the budget must stay below
  ``max_tokens``; with ``max_output_tokens`` the budget is capped at half of it, and a
  ``max_output_tokens`` of 1024 or less cannot hold any thinking: UnsupportedParameterError).
  ``effort: "none"`` -> ``thinking: {type: disabled}``. ``reasoning.summary`` is accepted
  and not sent: Claude decides itself how its thinking is shown (summarized on Claude 4).
* Reasoning round trip: an output ``thinking`` block becomes a reasoning item whose
  ``content`` holds the thinking text and whose ``encrypted_content`` carries Anthropic's
  ``signature`` together with that text (``"anthropic.thinking:" + base64(JSON)``): the
  spec's input reasoning item admits no ``content`` (the local store drops it when it
  replays a conversation), yet Anthropic verifies the signature against the exact text,
  so the opaque field has to hold both. A ``redacted_thinking`` block becomes a reasoning
  item without content whose ``encrypted_content`` is ``"anthropic.redacted_thinking:" +
  data``. Sent back as input, both become the same blocks again; any other
  ``encrypted_content`` is taken as a bare signature, with the text from ``content`` or
  ``summary``. A reasoning item without ``encrypted_content`` cannot be sent (Anthropic
  accepts thinking only with its signature): UnsupportedParameterError.
* ``text.format`` json_schema -> ``output_config: {format: {type: json_schema, schema}}``
  (Anthropic's structured outputs, as the recorded pydantic-ai traffic sends it);
  ``json_object`` has no counterpart (Anthropic needs a schema): UnsupportedParameterError.
* tools -> ``{name, description, input_schema[, strict]}``; only function tools.
  tool_choice auto/required/none/{function} -> ``{type: auto|any|none|tool}``;
  ``parallel_tool_calls=False`` -> ``disable_parallel_tool_use: true``.
* ``allowed_tools``: every tool is still sent (the spec keeps them all visible); the mode
  maps as above, and a single allowed tool with mode ``required`` becomes
  ``{type: tool, name}``. The hard constraint is enforced on the reply: a ``tool_use`` of a
  tool outside the allowed set is rejected as a model error (:class:`ProviderError`, code
  ``tool_not_allowed``), which the spec names as a way to enforce it.
* ``temperature`` must be within Anthropic's 0..1 (no rescaling, which would change its
  meaning); ``top_p`` passes through. Presence/frequency penalties other than 0,
  ``top_logprobs`` > 0, ``background``, ``conversation``, ``truncation="auto"``,
  ``max_tool_calls``, ``prompt_cache_key``/``prompt_cache_retention``, service tiers other
  than auto/default, ``include`` other than ``reasoning.encrypted_content`` (always
  returned here) and non-function tools: UnsupportedParameterError naming the parameter.
* ``user`` / ``safety_identifier`` -> ``metadata.user_id`` (Anthropic's only metadata
  field). Responses ``metadata`` is the caller's own annotation: echoed in the response,
  not sent (Anthropic rejects unknown metadata keys). ``stream_options`` (obfuscation) has
  no meaning for Anthropic and is ignored; ``store``/``previous_response_id`` are handled by
  the local response store before translation.
* Images: data URL -> ``base64`` source, http(s) URL -> ``url`` source; ``detail`` is a
  hint Anthropic has no field for and is ignored. Files: ``file_data`` PDF -> ``document``
  with a ``base64`` source, plain text -> ``document`` with a ``text`` source, ``file_url``
  -> ``url`` source, ``filename`` -> the document's ``title``. ``file_id`` cannot be
  resolved: UnsupportedParameterError.
* Unknown keys (``**kwargs`` of ``responses()``) pass through into the Messages body and
  win over translated keys: the caller asked for them by name (``top_k``,
  ``stop_sequences``, ``cache_control``, ``thinking`` ...).

Response
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

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from anyllm.errors import (
    AnyLLMError,
    InvalidRequestError,
    ProviderError,
    StreamError,
    UnsupportedParameterError,
    error_from_http,
)
from anyllm.providers.translated import StreamTranslator, input_items
from anyllm.streaming import SSEEvent
from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGETS",
    "ERROR_STATUS",
    "REDACTED_PREFIX",
    "THINKING_PREFIX",
    "AnthropicStreamTranslator",
    "decode_thinking",
    "encode_thinking",
    "error_from_event",
    "translate_request",
    "translate_response",
]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
MIN_THINKING_BUDGET = 1024
# Thinking budget per Responses effort. "low" is Anthropic's minimum; with the default
# max_tokens (4096 + budget) the largest request stays at 28672 tokens, inside the output
# limit of every Claude model that thinks (32000 on Claude Opus 4).
EFFORT_BUDGETS: dict[str, int] = {
    "low": 1024,
    "medium": 4096,
    "high": 12288,
    "xhigh": 24576,
}
THINKING_PREFIX = "anthropic.thinking:"
REDACTED_PREFIX = "anthropic.redacted_thinking:"
PROVIDER = "anthropic"

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

# Responses request fields this module translates (or deliberately leaves to the base class).
_RESPONSES_FIELDS = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "max_output_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty",
        "reasoning", "text", "metadata", "user", "safety_identifier", "stream", "stream_options",
        "store", "previous_response_id", "include", "background", "conversation", "truncation",
        "max_tool_calls", "prompt_cache_key", "prompt_cache_retention", "service_tier", "top_logprobs",
    }
)  # fmt: skip

_STOP_COMPLETED = frozenset({"end_turn", "stop_sequence", "tool_use"})
_STOP_INCOMPLETE = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}

_FILE_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/plain"}


# ============================================================================ request


def _unsupported(param: str, why: str) -> UnsupportedParameterError:
    return UnsupportedParameterError(
        f"anthropic cannot express {param}: {why}", provider=PROVIDER, param=param
    )


def _invalid(param: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {why}", provider=PROVIDER, param=param)


def translate_request(body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """A Responses request body -> a Messages request body; raises before any network call."""
    _check_unsupported(body)
    system, messages = _messages(body)
    request: dict[str, Any] = {"model": body["model"]}
    if system:
        request["system"] = system
    request["messages"] = messages
    thinking, budget = _thinking(body)
    max_output = body.get("max_output_tokens")
    request["max_tokens"] = int(max_output) if max_output is not None else DEFAULT_MAX_TOKENS + budget
    if thinking is not None:
        request["thinking"] = thinking
    _sampling(body, request)
    _tools(body, request)
    fmt = _output_format(body.get("text"))
    if fmt is not None:
        request["output_config"] = {"format": fmt}
    user_id = _user_id(body)
    if user_id is not None:
        request["metadata"] = {"user_id": user_id}
    tier = body.get("service_tier")
    if tier is not None:
        request["service_tier"] = "auto" if tier == "auto" else "standard_only"
    if stream:
        request["stream"] = True
    for key, value in body.items():
        if key not in _RESPONSES_FIELDS:
            request[key] = value
    return request


def _check_unsupported(body: Mapping[str, Any]) -> None:
    for name in ("presence_penalty", "frequency_penalty"):
        value = body.get(name)
        if value is not None and value != 0:
            raise _unsupported(name, "the Messages API has no penalties")
    if body.get("top_logprobs"):
        raise _unsupported("top_logprobs", "the Messages API returns no log probabilities")
    if body.get("background"):
        raise _unsupported("background", "the Messages API has no background mode")
    if body.get("conversation") is not None:
        raise _unsupported("conversation", "the Messages API keeps no server-side conversations")
    if body.get("truncation") == "auto":
        raise _unsupported("truncation", "the Messages API does not truncate context ('auto')")
    if body.get("max_tool_calls") is not None:
        raise _unsupported("max_tool_calls", "the Messages API cannot limit tool calls")
    for name in ("prompt_cache_key", "prompt_cache_retention"):
        if body.get(name) is not None:
            raise _unsupported(name, "Anthropic caches by cache_control blocks, not by key or retention")
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "default"):
        raise _unsupported("service_tier", f"{tier!r} (Anthropic offers 'auto' and 'default' only)")
    include = body.get("include") or []
    extra = [entry for entry in include if entry != "reasoning.encrypted_content"]
    if extra:
        raise _unsupported("include", f"{extra} (only reasoning.encrypted_content, which is always returned)")
    temperature = body.get("temperature")
    if temperature is not None and temperature > 1:
        raise _unsupported("temperature", f"{temperature!r} is above Anthropic's maximum of 1")


def _sampling(body: Mapping[str, Any], request: dict[str, Any]) -> None:
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            request[name] = body[name]


def _user_id(body: Mapping[str, Any]) -> str | None:
    user, safety = body.get("user"), body.get("safety_identifier")
    if user is not None and safety is not None and user != safety:
        raise _unsupported(
            "safety_identifier", "Anthropic has one metadata.user_id and `user` differs from it"
        )
    value = safety if safety is not None else user
    return str(value) if value is not None else None


# -- reasoning ----------------------------------------------------------------------------


def _thinking(body: Mapping[str, Any]) -> tuple[dict[str, Any] | None, int]:
    """(the ``thinking`` field or None, the budget to add to the default max_tokens)."""
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, Mapping):
        return None, 0
    effort = reasoning.get("effort")
    if effort is None:
        return None, 0
    if effort == "none":
        return {"type": "disabled"}, 0
    budget = EFFORT_BUDGETS.get(str(effort))
    if budget is None:
        raise _invalid("reasoning.effort", f"{effort!r} is not one of none, {', '.join(EFFORT_BUDGETS)}")
    max_output = body.get("max_output_tokens")
    if max_output is None:
        return {"type": "enabled", "budget_tokens": budget}, budget
    if max_output <= MIN_THINKING_BUDGET:
        raise _unsupported(
            "reasoning.effort",
            f"thinking needs max_output_tokens above {MIN_THINKING_BUDGET} (Anthropic's minimum thinking "
            f"budget, counted inside max_tokens); got {max_output}",
        )
    capped = max(MIN_THINKING_BUDGET, min(budget, max_output // 2))
    return {"type": "enabled", "budget_tokens": capped}, 0


# -- structured output ----------------------------------------------------------------------


def _output_format(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, Mapping):
        return None
    if text.get("verbosity") is not None:
        raise _unsupported("text.verbosity", "Claude has no verbosity setting")
    fmt = text.get("format")
    if not isinstance(fmt, Mapping) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        raise _unsupported("text.format", "json_object (Anthropic's structured output needs a json_schema)")
    if fmt.get("type") != "json_schema":
        raise _invalid("text.format.type", f"{fmt.get('type')!r} is not text, json_schema or json_object")
    schema = fmt.get("schema")
    if not isinstance(schema, Mapping):
        raise _invalid("text.format.schema", "a json_schema format needs a schema object")
    return {"type": "json_schema", "schema": dict(schema)}


# -- tools ----------------------------------------------------------------------------------


def _tools(body: Mapping[str, Any], request: dict[str, Any]) -> None:
    tools = body.get("tools") or []
    names: list[str] = []
    converted: list[dict[str, Any]] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, Mapping) else type(tool).__name__
            raise _unsupported(f"tools[{index}]", f"tool type {kind!r} (only function tools)")
        entry: dict[str, Any] = {"name": tool["name"]}
        if tool.get("description"):
            entry["description"] = tool["description"]
        entry["input_schema"] = dict(tool.get("parameters") or {"type": "object", "properties": {}})
        if tool.get("strict"):
            entry["strict"] = True
        names.append(str(tool["name"]))
        converted.append(entry)
    if converted:
        request["tools"] = converted
    choice = _tool_choice(body.get("tool_choice"), names)
    if choice is None or not converted:
        return
    if body.get("parallel_tool_calls") is False and choice["type"] != "none":
        choice["disable_parallel_tool_use"] = True
    request["tool_choice"] = choice


def _tool_choice(choice: Any, names: list[str]) -> dict[str, Any] | None:
    if choice is None:
        return {"type": "auto"}
    if isinstance(choice, str):
        return {"type": _mode(choice, "tool_choice")}
    kind = choice.get("type")
    if kind == "function":
        name = choice.get("name")
        if name not in names:
            raise _invalid("tool_choice.name", f"{name!r} is not one of the tools {names}")
        return {"type": "tool", "name": name}
    if kind == "allowed_tools":
        allowed = allowed_tool_names(choice)
        unknown = sorted(allowed - set(names))
        if unknown:
            raise _invalid("tool_choice.tools", f"{unknown} are not among the tools {names}")
        mode = choice.get("mode") or "auto"
        if mode == "required" and len(allowed) == 1:
            return {"type": "tool", "name": next(iter(allowed))}
        return {"type": _mode(mode, "tool_choice.mode")}
    raise _unsupported("tool_choice", f"type {kind!r} (function tools only)")


def _mode(mode: Any, param: str) -> str:
    modes = {"auto": "auto", "required": "any", "none": "none"}
    if mode not in modes:
        raise _invalid(param, f"{mode!r} is not auto, required or none")
    return modes[mode]


def allowed_tool_names(choice: Any) -> set[str]:
    """The names an ``allowed_tools`` tool_choice permits (empty set: not restricted)."""
    if not isinstance(choice, Mapping) or choice.get("type") != "allowed_tools":
        return set()
    names = {str(tool.get("name")) for tool in choice.get("tools") or [] if isinstance(tool, Mapping)}
    if not names:
        raise _invalid("tool_choice.tools", "allowed_tools needs at least one tool")
    return names


# -- input items ------------------------------------------------------------------------------


def _messages(body: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(the system text, alternating user/assistant messages)."""
    system: list[str] = []
    if body.get("instructions"):
        system.append(str(body["instructions"]))
    messages: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": list(blocks)})

    for index, item in enumerate(input_items(body.get("input"))):
        where = f"input[{index}]"
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            role = item.get("role")
            if role in ("system", "developer"):
                text = _system_text(item.get("content"), where)
                if text:
                    system.append(text)
            elif role in ("user", "assistant"):
                add(role, _content_blocks(item.get("content"), where, role))
            else:
                raise _invalid(f"{where}.role", f"{role!r} is not user, assistant, system or developer")
        elif kind == "function_call":
            add("assistant", [_tool_use(item, where)])
        elif kind == "function_call_output":
            add("user", [_tool_result(item, where)])
        elif kind == "reasoning":
            add("assistant", [_thinking_block(item, where)])
        elif kind == "item_reference":
            raise _unsupported(where, "item_reference (Anthropic stores no items; pass the items themselves)")
        else:
            raise _unsupported(where, f"input item type {kind!r}")
    if not messages:
        raise InvalidRequestError(
            "input has no user or assistant content: Anthropic needs at least one message", param="input"
        )
    return "\n\n".join(system), messages


def _system_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for number, part in enumerate(content or []):
        if not isinstance(part, Mapping) or part.get("type") not in ("input_text", "text", "output_text"):
            kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
            raise _unsupported(f"{where}.content[{number}]", f"{kind!r} in a system message (text only)")
        texts.append(str(part.get("text", "")))
    return "\n".join(text for text in texts if text)


def _content_blocks(content: Any, where: str, role: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise _invalid(f"{where}.content", "must be a string or a list of content parts")
    blocks: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        block = _content_block(part, f"{where}.content[{number}]", role)
        if block is not None:
            blocks.append(block)
    return blocks


def _content_block(part: Any, where: str, role: str) -> dict[str, Any] | None:
    if not isinstance(part, Mapping):
        raise _invalid(where, f"a content part must be a dict, got {type(part).__name__}")
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        text = str(part.get("text", ""))
        return {"type": "text", "text": text} if text else None
    if kind == "refusal":
        text = str(part.get("refusal", ""))
        return {"type": "text", "text": text} if text else None
    if role == "user" and kind == "input_image":
        return _image(part, where)
    if role == "user" and kind == "input_file":
        return _document(part, where)
    raise _unsupported(where, f"content part {kind!r} in a {role} message")


def _data_url(url: str, where: str) -> tuple[str, str]:
    """(media type, base64 data) of a ``data:<type>;base64,<data>`` URL."""
    header, sep, data = url.partition(",")
    if not sep or ";base64" not in header:
        raise _invalid(where, "a data URL must be data:<media type>;base64,<data>")
    return header[len("data:") :].split(";")[0], data


def _image(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    url = part.get("image_url")
    if not url:
        if part.get("file_id"):
            raise _unsupported(f"{where}.file_id", "Anthropic cannot read OpenAI file ids")
        raise _invalid(where, "input_image needs image_url")
    url = str(url)
    if url.startswith("data:"):
        media_type, data = _data_url(url, f"{where}.image_url")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise _invalid(f"{where}.image_url", "must be an http(s) URL or a base64 data URL")


def _document(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    filename = part.get("filename")
    block: dict[str, Any]
    if part.get("file_data"):
        data = str(part["file_data"])
        if data.startswith("data:"):
            media_type, data = _data_url(data, f"{where}.file_data")
        else:
            # Bare base64: the filename's extension tells the type; without a name, PDF (the
            # one binary type Anthropic reads).
            suffix = PurePosixPath(str(filename)).suffix.lower() if filename else ".pdf"
            media_type = _FILE_TYPES.get(suffix, f"unknown ({suffix or 'no extension'})")
        if media_type == "application/pdf":
            block = {"type": "document", "source": {"type": "base64", "media_type": media_type, "data": data}}
        elif media_type.startswith("text/"):
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise _invalid(f"{where}.file_data", f"not base64 of UTF-8 text ({exc})") from exc
            block = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
        else:
            raise _unsupported(f"{where}.file_data", f"media type {media_type!r} (PDF or plain text only)")
    elif part.get("file_url"):
        block = {"type": "document", "source": {"type": "url", "url": str(part["file_url"])}}
    elif part.get("file_id"):
        raise _unsupported(f"{where}.file_id", "Anthropic cannot read OpenAI file ids")
    else:
        raise _invalid(where, "input_file needs file_data or file_url")
    if filename:
        block["title"] = str(filename)
    return block


def _tool_use(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    arguments = item.get("arguments") or "{}"
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError as exc:
        raise _invalid(f"{where}.arguments", f"not valid JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise _invalid(f"{where}.arguments", "must be a JSON object (Anthropic's tool input is an object)")
    call_id = item.get("call_id")
    if not call_id:
        raise _invalid(f"{where}.call_id", "a function_call needs its call_id")
    return {"type": "tool_use", "id": str(call_id), "name": str(item.get("name", "")), "input": parsed}


def _tool_result(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id = item.get("call_id")
    if not call_id:
        raise _invalid(f"{where}.call_id", "a function_call_output needs its call_id")
    output = item.get("output", "")
    content: str | list[dict[str, Any]]
    if isinstance(output, str):
        content = output
    elif isinstance(output, list):
        content = [
            converted
            for number, part in enumerate(output)
            if (converted := _content_block(part, f"{where}.output[{number}]", "user")) is not None
        ]
    else:
        content = json.dumps(output)
    return {"type": "tool_result", "tool_use_id": str(call_id), "content": content}


def _thinking_block(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    encrypted = item.get("encrypted_content")
    if not encrypted:
        raise _unsupported(
            where,
            "a reasoning item without encrypted_content (Anthropic accepts thinking only with its signature)",
        )
    encrypted = str(encrypted)
    if encrypted.startswith(REDACTED_PREFIX):
        return {"type": "redacted_thinking", "data": encrypted[len(REDACTED_PREFIX) :]}
    if encrypted.startswith(THINKING_PREFIX):
        thinking, signature = decode_thinking(encrypted, f"{where}.encrypted_content")
        return {"type": "thinking", "thinking": thinking, "signature": signature}
    parts = item.get("content") or item.get("summary") or []
    text = "".join(str(part.get("text", "")) for part in parts if isinstance(part, Mapping))
    return {"type": "thinking", "thinking": text, "signature": encrypted}


def encode_thinking(thinking: str, signature: str) -> str:
    """A thinking block as a reasoning item's ``encrypted_content`` (text and signature)."""
    packed = json.dumps({"thinking": thinking, "signature": signature}, separators=(",", ":"))
    return THINKING_PREFIX + base64.b64encode(packed.encode("utf-8")).decode("ascii")


def decode_thinking(encrypted: str, where: str = "encrypted_content") -> tuple[str, str]:
    """(thinking text, signature) from :func:`encode_thinking`'s output."""
    try:
        packed = json.loads(base64.b64decode(encrypted[len(THINKING_PREFIX) :], validate=True))
        return str(packed["thinking"]), str(packed["signature"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _invalid(where, f"not an encrypted_content this library produced ({exc})") from exc


# ============================================================================ response


def _usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    return usage_dict(
        int(usage.get("input_tokens") or 0) + cache_read + cache_write,
        usage.get("output_tokens"),
        cached_tokens=cache_read,
    )


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (provider fields may be missing)."""
    return value if isinstance(value, Mapping) else {}


def _finish(builder: ResponseStreamBuilder, stop_reason: Any) -> list[dict[str, Any]]:
    if stop_reason in _STOP_COMPLETED:
        return builder.complete()
    reason = _STOP_INCOMPLETE.get(str(stop_reason), str(stop_reason))
    return builder.incomplete(reason)


def error_from_event(error: Any) -> AnyLLMError:
    """An Anthropic ``error`` event (or error body) -> the typed exception for its HTTP status."""
    body = error if isinstance(error, Mapping) else {"type": "error", "error": {"message": str(error)}}
    inner = _obj(body.get("error"))
    status = ERROR_STATUS.get(str(inner.get("type")), 500)
    return error_from_http(status, json.dumps(body), {}, provider=PROVIDER)


def _check_allowed(builder: ResponseStreamBuilder, name: str) -> None:
    allowed = allowed_tool_names(builder.response.get("tool_choice"))
    if allowed and name not in allowed:
        raise ProviderError(
            f"the model called tool {name!r}, which tool_choice.allowed_tools does not permit "
            f"({sorted(allowed)}); the call was rejected",
            provider=PROVIDER,
            code="tool_not_allowed",
        )


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
            _check_allowed(builder, name)
            arguments = json.dumps(block.get("input") or {})
            out += builder.tool_call(
                index, call_id=str(block.get("id") or ""), name=name, arguments=arguments
            )
            out += builder.end_tool_call(index)
        # Anything else is an Anthropic-hosted tool's block: see the module docstring.
    if isinstance(reply.get("usage"), Mapping):
        builder.set_usage(_usage(reply["usage"]))
    out += _finish(builder, reply.get("stop_reason"))
    return out


class AnthropicStreamTranslator(StreamTranslator):
    """Messages SSE events -> builder calls, one event at a time.

    Content blocks arrive one after another (``content_block_start`` / ``_delta`` /
    ``_stop``), so each maps onto the builder's one open item. ``message_stop`` finishes
    the response; a stream that ends without it fails (the base class's ``end``).
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
        message = _obj(data.get("message"))
        self.builder.set_model(str(message.get("model") or ""))
        if isinstance(message.get("usage"), Mapping):
            self._usage.update(message["usage"])
        return []

    def _block_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = int(data.get("index", 0))
        block = _obj(data.get("content_block"))
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
            _check_allowed(self.builder, name)
            initial = block.get("input")
            arguments = json.dumps(initial) if initial else ""
            return self.builder.tool_call(
                index, call_id=str(block.get("id") or ""), name=name, arguments=arguments
            )
        return []

    def _block_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = int(data.get("index", 0))
        delta = _obj(data.get("delta"))
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
        return []  # citations_delta, hosted-tool deltas: see the module docstring

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
        delta = _obj(data.get("delta"))
        if delta.get("stop_reason") is not None:
            self._stop_reason = delta["stop_reason"]
        if isinstance(data.get("usage"), Mapping):
            self._usage.update({k: v for k, v in data["usage"].items() if v is not None})
        return []

    def _message_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        if self._usage:
            self.builder.set_usage(_usage(self._usage))
        if self._stop_reason is None:
            raise StreamError("anthropic ended the message without a stop_reason")
        return _finish(self.builder, self._stop_reason)


_HANDLERS = {
    "message_start": AnthropicStreamTranslator._message_start,
    "content_block_start": AnthropicStreamTranslator._block_start,
    "content_block_delta": AnthropicStreamTranslator._block_delta,
    "content_block_stop": AnthropicStreamTranslator._block_stop,
    "message_delta": AnthropicStreamTranslator._message_delta,
    "message_stop": AnthropicStreamTranslator._message_stop,
}
