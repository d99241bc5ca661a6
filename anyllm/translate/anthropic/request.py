"""Responses request -> Anthropic Messages request (top-level fields, reasoning, tools).

The input items become ``messages`` in :mod:`anyllm.translate.anthropic.messages`.

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
* Extension items: ``anthropic:<block type>`` items go back as the blocks they carry, in
  the assistant turn; a ``compaction`` item made from an Anthropic compaction block goes
  back as that block (another ``compaction`` is opaque to Anthropic:
  UnsupportedParameterError); ``anthropic:citations`` splits the message text back into
  the cited blocks. Other implementations' extension items are skipped (not portable, the
  spec says). See :mod:`anyllm.translate.anthropic.hosted`.
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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyllm.spec import REQUEST_FIELDS
from anyllm.translate.anthropic.common import PROVIDER, invalid, unsupported
from anyllm.translate.anthropic.messages import messages_of
from anyllm.translate.base import allowed_tool_names, check_unsupported, passthrough_fields

__all__ = ["DEFAULT_MAX_TOKENS", "EFFORT_BUDGETS", "MIN_THINKING_BUDGET", "translate_request"]

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

# The Responses fields the Messages API can express; using any other one fails, naming it.
SUPPORTED_FIELDS = REQUEST_FIELDS - {
    "presence_penalty", "frequency_penalty", "top_logprobs", "background", "conversation",
    "truncation", "max_tool_calls", "prompt_cache_key", "prompt_cache_retention", "service_tier",
}  # fmt: skip
_UNSUPPORTED_REASONS = {
    "presence_penalty": "the Messages API has no penalties",
    "frequency_penalty": "the Messages API has no penalties",
    "top_logprobs": "the Messages API returns no log probabilities",
    "background": "the Messages API has no background mode",
    "conversation": "the Messages API keeps no server-side conversations",
    "truncation": "the Messages API does not truncate context ('auto')",
    "max_tool_calls": "the Messages API cannot limit tool calls",
    "prompt_cache_key": "Anthropic caches by cache_control blocks, not by key or retention",
    "prompt_cache_retention": "Anthropic caches by cache_control blocks, not by key or retention",
    "service_tier": "{value!r} (Anthropic offers 'auto' and 'default' only)",
}


def translate_request(body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """A Responses request body -> a Messages request body; raises before any network call."""
    _check_unsupported(body)
    system, messages = messages_of(body)
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
    request.update(passthrough_fields(body))
    return request


def _check_unsupported(body: Mapping[str, Any]) -> None:
    check_unsupported(body, SUPPORTED_FIELDS, PROVIDER, _UNSUPPORTED_REASONS)
    include = body.get("include") or []
    extra = [entry for entry in include if entry != "reasoning.encrypted_content"]
    if extra:
        raise unsupported("include", f"{extra} (only reasoning.encrypted_content, which is always returned)")
    temperature = body.get("temperature")
    if temperature is not None and temperature > 1:
        raise unsupported("temperature", f"{temperature!r} is above Anthropic's maximum of 1")


def _sampling(body: Mapping[str, Any], request: dict[str, Any]) -> None:
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            request[name] = body[name]


def _user_id(body: Mapping[str, Any]) -> str | None:
    user, safety = body.get("user"), body.get("safety_identifier")
    if user is not None and safety is not None and user != safety:
        raise unsupported(
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
        raise invalid("reasoning.effort", f"{effort!r} is not one of none, {', '.join(EFFORT_BUDGETS)}")
    max_output = body.get("max_output_tokens")
    if max_output is None:
        return {"type": "enabled", "budget_tokens": budget}, budget
    if max_output <= MIN_THINKING_BUDGET:
        raise unsupported(
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
        raise unsupported("text.verbosity", "Claude has no verbosity setting")
    fmt = text.get("format")
    if not isinstance(fmt, Mapping) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        raise unsupported("text.format", "json_object (Anthropic's structured output needs a json_schema)")
    if fmt.get("type") != "json_schema":
        raise invalid("text.format.type", f"{fmt.get('type')!r} is not text, json_schema or json_object")
    schema = fmt.get("schema")
    if not isinstance(schema, Mapping):
        raise invalid("text.format.schema", "a json_schema format needs a schema object")
    return {"type": "json_schema", "schema": dict(schema)}


# -- tools ----------------------------------------------------------------------------------


def _tools(body: Mapping[str, Any], request: dict[str, Any]) -> None:
    tools = body.get("tools") or []
    names: list[str] = []
    converted: list[dict[str, Any]] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, Mapping) else type(tool).__name__
            raise unsupported(f"tools[{index}]", f"tool type {kind!r} (only function tools)")
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
            raise invalid("tool_choice.name", f"{name!r} is not one of the tools {names}")
        return {"type": "tool", "name": name}
    if kind == "allowed_tools":
        allowed = _allowed_names(choice)
        unknown = sorted(allowed - set(names))
        if unknown:
            raise invalid("tool_choice.tools", f"{unknown} are not among the tools {names}")
        mode = choice.get("mode") or "auto"
        if mode == "required" and len(allowed) == 1:
            return {"type": "tool", "name": next(iter(allowed))}
        return {"type": _mode(mode, "tool_choice.mode")}
    raise unsupported("tool_choice", f"type {kind!r} (function tools only)")


def _mode(mode: Any, param: str) -> str:
    modes = {"auto": "auto", "required": "any", "none": "none"}
    if mode not in modes:
        raise invalid(param, f"{mode!r} is not auto, required or none")
    return modes[mode]


def _allowed_names(choice: Mapping[str, Any]) -> frozenset[str]:
    """The names an ``allowed_tools`` choice lists; each entry must name a tool."""
    for index, entry in enumerate(choice.get("tools") or []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise invalid(f"tool_choice.tools[{index}]", "an allowed tool is {type: function, name}")
    allowed = allowed_tool_names(choice)
    if not allowed:
        raise invalid("tool_choice.tools", "allowed_tools needs at least one tool")
    return allowed
