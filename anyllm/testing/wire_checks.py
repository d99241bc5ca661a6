"""What each provider protocol rejects outright, checked on an outgoing request body.

The fuzz suite sends generated requests through the library's translation (no network)
and asks: would the provider refuse this body for a reason the library could have seen?
For the OpenResponses and OpenAI protocols the answer is the spec's ``CreateResponseBody``
schema; for the translated protocols it is the documented hard constraints of each API
(shape of ``messages``/``contents``, roles, block types, non-empty text, ranges). These
checks are deliberately limited to constraints the providers document and enforce with
a 400, so a finding here is a real bug, not a style preference.

:func:`offline_wire_body` runs exactly the steps ``responses()`` runs before its HTTP call.
Numeric ranges come from :data:`anyllm.params.PARAMS`, the table the client checks with.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from typing import Any

from anyllm.params import PARAMS

__all__ = ["offline_wire_body", "wire_problems"]

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_CHAT_PARTS = frozenset({"text", "image_url", "file", "document_url", "input_audio"})
_ANTHROPIC_BLOCKS = frozenset(
    {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)
_GEMINI_DATA = frozenset({"text", "inlineData", "fileData", "functionCall", "functionResponse"})


def offline_wire_body(provider: str, body: dict[str, Any], *, stream: bool = False) -> dict[str, Any]:
    """The body ``responses()`` would send for a Responses request ``body`` (``model`` and
    ``input`` included), computed without a network call; raises what it would raise.

    The same functions as ``responses()`` build it (``api.build_request``, the native limits
    check, then ``Backend.wire_body`` of a ``ResponsesRequest``); only the split of ``body``
    into named arguments and ``**kwargs`` is done here.
    """
    from anyllm.api import _check_native, build_request, resolve_model, responses
    from anyllm.providers.base import ClientConfig
    from anyllm.providers.factory import get_backend
    from anyllm.providers.registry import provider_metadata
    from anyllm.request import ResponsesRequest

    meta, model = resolve_model(str(body["model"]), provider)
    known = set(inspect.signature(responses).parameters)
    params = {k: v for k, v in body.items() if k in known and k not in ("model", "input_data")}
    kwargs = {k: v for k, v in body.items() if k not in known and k not in ("model", "input")}
    request = build_request(model, body.get("input"), params, kwargs)
    _check_native(meta, request)
    config = ClientConfig(
        metadata=provider_metadata(meta.name), base_url="http://127.0.0.1:9/v1", api_key="offline-key"
    )
    return get_backend(config).wire_body(ResponsesRequest(request, stream))


def _json_problems(body: Any) -> list[str]:
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [f"body is not JSON: {exc}"]
    return []


def _number(problems: list[str], body: dict[str, Any], name: str, protocol: str, key: str = "") -> None:
    """``body[key or name]`` is a number within the range of parameter ``name`` for ``protocol``."""
    low, high = PARAMS[name].bounds(protocol)
    name = key or name
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{name} is not a number: {value!r}")
    elif not low <= value <= high:
        problems.append(f"{name}={value!r} is outside {low:g}..{high:g}")


def wire_problems(protocol: str, body: Any) -> list[str]:
    """Reasons the provider speaking ``protocol`` would reject ``body`` (empty: none found)."""
    if not isinstance(body, dict):
        return [f"body is {type(body).__name__}, not an object"]
    problems = _json_problems(body)
    if problems:
        return problems
    check = {
        "openresponses": _responses,
        "openai": _responses,
        "chat": _chat,
        "anthropic": _anthropic,
        "gemini": _gemini,
    }[protocol]
    check(body, problems)
    return problems


def _responses(body: dict[str, Any], problems: list[str]) -> None:
    from anyllm.testing.validate import validate_request

    problems.extend(str(v) for v in validate_request(body) if v.severity == "error")


def _chat(body: dict[str, Any], problems: list[str]) -> None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model is not a non-empty string")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("messages is not a non-empty list")
        messages = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in _CHAT_ROLES:
            problems.append(f"{where} has no chat role")
            continue
        content = message.get("content")
        if content is None:
            if not (message["role"] == "assistant" and message.get("tool_calls")):
                problems.append(f"{where}.content is null without tool_calls")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") not in _CHAT_PARTS:
                    problems.append(f"{where}.content[{j}] is not a chat content part")
        elif not isinstance(content, str):
            problems.append(f"{where}.content is {type(content).__name__}")
        if message["role"] == "tool" and not isinstance(message.get("tool_call_id"), str):
            problems.append(f"{where} is a tool message without tool_call_id")
        for j, call in enumerate(message.get("tool_calls") or []):
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("arguments"), str):
                problems.append(f"{where}.tool_calls[{j}] has no function arguments string")
    names = set()
    for i, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            problems.append(f"tools[{i}].function.name {name!r} is not a valid function name")
        if isinstance(function, dict) and not isinstance(function.get("parameters", {}), dict):
            problems.append(f"tools[{i}].function.parameters is not an object")
        names.add(name)
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        function = choice.get("function")
        if not isinstance(function, dict) or function.get("name") not in names:
            problems.append(f"tool_choice {choice!r} names no sent tool")
    elif choice is not None and choice not in ("auto", "none", "required", "any"):
        problems.append(f"tool_choice {choice!r} is not a chat tool_choice")
    _number(problems, body, "temperature", "chat")
    _number(problems, body, "top_p", "chat")
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{name}={value!r} is not a positive integer")


def _anthropic(body: dict[str, Any], problems: list[str]) -> None:
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        problems.append(f"max_tokens={max_tokens!r} is not a positive integer")
        max_tokens = None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("messages is not a non-empty list")
        messages = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            problems.append(f"{where} role is not user/assistant")
            continue
        content = message.get("content")
        last_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if isinstance(content, str):
            if not content and not last_assistant:
                problems.append(f"{where}.content is empty")
            continue
        if not isinstance(content, list) or (not content and not last_assistant):
            problems.append(f"{where}.content is empty or not a list")
            continue
        for j, block in enumerate(content):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in _ANTHROPIC_BLOCKS:
                problems.append(f"{where}.content[{j}] type {kind!r} is not a Messages block")
            elif kind == "text" and not block.get("text"):
                problems.append(f"{where}.content[{j}] is an empty text block")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        problems.append("system is neither a string nor blocks")
    _number(problems, body, "temperature", "anthropic")
    _number(problems, body, "top_p", "anthropic")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or not _TOOL_NAME.match(str(tool.get("name"))):
            problems.append(f"tools[{i}] has no valid name")
        elif not isinstance(tool.get("input_schema"), dict):
            problems.append(f"tools[{i}].input_schema is not an object")
    choice = body.get("tool_choice")
    if choice is not None and (
        not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "none", "tool")
    ):
        problems.append(f"tool_choice {choice!r} is not a Messages tool_choice")
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024 or (max_tokens is not None and budget >= max_tokens):
            problems.append(
                f"thinking.budget_tokens={budget!r} must be >= 1024 and < max_tokens={max_tokens}"
            )


def _gemini(body: dict[str, Any], problems: list[str]) -> None:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        problems.append("contents is not a non-empty list")
        contents = []
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict) or content.get("role") not in ("user", "model"):
            problems.append(f"{where}.role is not user/model")
            continue
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            problems.append(f"{where}.parts is empty")
            continue
        for j, part in enumerate(parts):
            data = [k for k in part if k in _GEMINI_DATA] if isinstance(part, dict) else []
            if len(data) != 1:
                problems.append(f"{where}.parts[{j}] holds {data or 'no data'}, not exactly one kind")
    system = body.get("systemInstruction")
    if system is not None and (not isinstance(system, dict) or not system.get("parts")):
        problems.append("systemInstruction has no parts")
    for tool in body.get("tools") or []:
        for j, declaration in enumerate(tool.get("functionDeclarations") or []):
            if not _TOOL_NAME.match(str(declaration.get("name"))):
                problems.append(f"functionDeclarations[{j}].name is not a valid function name")
    config = body.get("generationConfig")
    if isinstance(config, dict):
        _number(problems, config, "temperature", "gemini")
        _number(problems, config, "top_p", "gemini", key="topP")
        value = config.get("maxOutputTokens")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"generationConfig.maxOutputTokens={value!r} is not a positive integer")
