"""Responses request -> chat-completions request, for one vendor's dialect.

Every Responses feature the vendor cannot express raises UnsupportedParameterError naming
it, before any network call; the decisions behind each mapping are listed in
:mod:`anyllm.translate.chat`.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from typing import Any

from anyllm.errors import UnsupportedParameterError
from anyllm.translate.base import check_unsupported, is_foreign_extension, passthrough_fields
from anyllm.translate.chat.dialect import ChatDialect, supported_fields, unsupported

__all__ = ["translate_request"]

# Why a field fails on every chat-completions server (the dialect decides the others).
_REASONS = {
    "background": "chat completions run in the foreground only",
    "conversation": "use previous_response_id (kept in the local store)",
    "truncation": "only 'disabled' is possible",
}


def translate_request(body: Mapping[str, Any], dialect: ChatDialect, *, stream: bool) -> dict[str, Any]:
    """A Responses request body -> a chat-completions request body for ``dialect``."""
    check_unsupported(body, supported_fields(dialect), dialect.name, _REASONS)
    text = body.get("text")
    if isinstance(text, Mapping) and text.get("verbosity") is not None and not dialect.openai_extras:
        raise unsupported(dialect, "text.verbosity")
    out: dict[str, Any] = {"model": body["model"]}
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        messages.append({"role": "system", "content": instructions})
    messages.extend(_messages(body.get("input"), dialect))
    if not messages:
        raise UnsupportedParameterError(
            "input is empty: chat completions need at least one message", param="input"
        )
    out["messages"] = messages

    _tools(body, dialect, out)
    _text_format(body.get("text"), dialect, out)
    for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("max_output_tokens") is not None:
        out[dialect.max_tokens_field] = body["max_output_tokens"]
    if body.get("top_logprobs"):
        out["logprobs"] = True
        out["top_logprobs"] = body["top_logprobs"]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict):
        if reasoning.get("summary") not in (None, "none"):
            raise unsupported(dialect, "reasoning.summary", "chat completions return no reasoning summaries")
        if reasoning.get("effort") is not None:
            if not dialect.reasoning_effort:
                raise unsupported(dialect, "reasoning.effort")
            out["reasoning_effort"] = reasoning["effort"]
    for name in ("user", "prompt_cache_key", "safety_identifier"):
        if body.get(name) is not None:
            out[name] = body[name]
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "default"):
        out["service_tier"] = tier

    for name, value in passthrough_fields(body).items():
        out[dialect.seed_field if name == "seed" else name] = value
    if stream:
        out["stream"] = True
        if dialect.stream_usage:
            out["stream_options"] = {"include_usage": True}
    return out


def _tools(body: Mapping[str, Any], dialect: ChatDialect, out: dict[str, Any]) -> None:
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if not dialect.tools:
        if tools:
            raise unsupported(dialect, "tools", "this provider has no tool calling")
        if choice not in (None, "auto", "none"):
            raise unsupported(dialect, "tool_choice", "this provider has no tool calling")
        if body.get("parallel_tool_calls") is not None:
            raise unsupported(dialect, "parallel_tool_calls", "this provider has no tool calling")
        return
    chat_tools: dict[str, dict[str, Any]] = {}
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else type(tool).__name__
            raise unsupported(dialect, f"tools[{index}]", f"only function tools exist there, not {kind!r}")
        function: dict[str, Any] = {"name": tool["name"]}
        if tool.get("description") is not None:
            function["description"] = tool["description"]
        function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
        if isinstance(tool.get("strict"), bool):
            function["strict"] = tool["strict"]
        chat_tools[tool["name"]] = {"type": "function", "function": function}
    sent = list(chat_tools.values())
    if isinstance(choice, str):
        if choice == "required":
            out["tool_choice"] = dialect.required_choice
        else:
            out["tool_choice"] = choice
    elif isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            name = choice.get("name")
            if name not in chat_tools:
                raise UnsupportedParameterError(
                    f"tool_choice names function {name!r}, which is not among the tools", param="tool_choice"
                )
            out["tool_choice"] = {"type": "function", "function": {"name": name}}
        elif kind == "allowed_tools":
            names = []
            for allowed in choice.get("tools") or []:
                name = allowed.get("name") if isinstance(allowed, dict) else None
                if (
                    not isinstance(allowed, dict)
                    or allowed.get("type") != "function"
                    or name not in chat_tools
                ):
                    raise UnsupportedParameterError(
                        f"tool_choice.allowed_tools entry {allowed!r} names no function tool of this request",
                        param="tool_choice",
                    )
                names.append(name)
            sent = [chat_tools[name] for name in names]
            mode = choice.get("mode", "auto")
            out["tool_choice"] = dialect.required_choice if mode == "required" else mode
        else:
            raise unsupported(dialect, "tool_choice", f"type {kind!r} has no chat counterpart")
    if sent:
        out["tools"] = sent
    if body.get("parallel_tool_calls") is not None and sent:
        out["parallel_tool_calls"] = body["parallel_tool_calls"]


def _text_format(text: Any, dialect: ChatDialect, out: dict[str, Any]) -> None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(text, dict) and text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    if not isinstance(fmt, dict) or fmt.get("type", "text") == "text":
        return
    kind = fmt.get("type")
    if kind == "json_object":
        if not dialect.json_object:
            raise unsupported(dialect, "text.format", "json_object mode is not offered; use json_schema")
        out["response_format"] = {"type": "json_object"}
    elif kind == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise UnsupportedParameterError(
                "text.format json_schema needs a 'schema' object", param="text.format"
            )
        if dialect.json_schema == "llamacpp":
            out["response_format"] = {"type": "json_object", "schema": schema}
            return
        spec: dict[str, Any] = {"name": fmt.get("name") or "response", "schema": schema}
        if fmt.get("description") is not None:
            spec["description"] = fmt["description"]
        if isinstance(fmt.get("strict"), bool):
            spec["strict"] = fmt["strict"]
        out["response_format"] = {"type": "json_schema", "json_schema": spec}
    else:
        raise unsupported(dialect, "text.format", f"format type {kind!r}")


def _messages(value: Any, dialect: ChatDialect) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []  # tool-output images/files, sent after the tool messages

    def flush() -> None:
        if attachments:
            messages.append({"role": "user", "content": list(attachments)})
            attachments.clear()

    for index, item in enumerate(value):
        where = f"input[{index}]"
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            flush()
            messages.append(_message(item, dialect, where))
        elif kind == "function_call":
            flush()
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                content = None if dialect.null_content else ""
                messages.append({"role": "assistant", "content": content, "tool_calls": [call]})
        elif kind == "function_call_output":
            text, extra = _tool_output(item.get("output"), dialect, where)
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
            attachments.extend(extra)
        elif kind == "reasoning" or is_foreign_extension(kind):
            continue  # chat requests have no place for it: see the decisions in anyllm.translate.chat
        else:
            raise unsupported(dialect, f"{where}.type", f"input item type {kind!r}")
    flush()
    return messages


_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def _message(item: dict[str, Any], dialect: ChatDialect, where: str) -> dict[str, Any]:
    role = _ROLES.get(str(item.get("role")))
    if role is None:
        raise UnsupportedParameterError(
            f"{where}.role {item.get('role')!r} is not a chat role", param=f"{where}.role"
        )
    content = item.get("content")
    message: dict[str, Any] = {"role": role}
    if isinstance(content, str):
        message["content"] = content
        return message
    if not isinstance(content, list):
        raise UnsupportedParameterError(
            f"{where}.content must be a string or a list of parts", param=f"{where}.content"
        )
    parts: list[dict[str, Any]] = []
    refusal: list[str] = []
    for number, part in enumerate(content):
        place = f"{where}.content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "refusal" and role == "assistant":
            refusal.append(str(part.get("refusal", "")))
        elif kind == "input_image" and role == "user":
            parts.append(_image_part(part, dialect, place))
        elif kind == "input_file" and role == "user":
            parts.append(_file_part(part, dialect, place))
        else:
            raise unsupported(
                dialect, f"{place}.type", f"content part {kind!r} in a {item.get('role')} message"
            )
    if refusal:
        message["refusal"] = "".join(refusal)
    if all(p["type"] == "text" for p in parts) and (
        role != "user" or dialect.text_only_strings or len(parts) == 1
    ):
        message["content"] = ("" if role == "assistant" else "\n").join(p["text"] for p in parts)
    else:
        message["content"] = parts
    return message


def _image_part(part: dict[str, Any], dialect: ChatDialect, place: str) -> dict[str, Any]:
    if not dialect.images:
        raise unsupported(dialect, place, "this provider takes no image input")
    url = part.get("image_url")
    if isinstance(url, dict):  # the chat shape, passed by mistake: accept its url
        url = url.get("url")
    if not isinstance(url, str) or not url:
        if part.get("file_id"):
            raise unsupported(dialect, f"{place}.file_id", "pass image_url (a URL or a data: URL) instead")
        raise UnsupportedParameterError(f"{place} has no image_url", param=place)
    image: dict[str, Any] = {"url": url}
    if part.get("detail") is not None:
        image["detail"] = part["detail"]
    return {"type": "image_url", "image_url": image}


def _file_part(part: dict[str, Any], dialect: ChatDialect, place: str) -> dict[str, Any]:
    data = part.get("file_data")
    filename = part.get("filename")
    if dialect.files == "openai":
        file: dict[str, Any] = {}
        if data:
            file["file_data"] = (
                data if str(data).startswith("data:") else f"data:{_mime(filename)};base64,{data}"
            )
        elif part.get("file_id"):
            file["file_id"] = part["file_id"]
        else:
            raise unsupported(dialect, f"{place}.file_url", "chat 'file' parts take file_data or file_id")
        if filename:
            file["filename"] = filename
        return {"type": "file", "file": file}
    if dialect.files == "mistral":
        if data:
            url = data if str(data).startswith("data:") else f"data:{_mime(filename)};base64,{data}"
        elif part.get("file_url"):
            url = part["file_url"]
        else:
            raise unsupported(dialect, f"{place}.file_id", "Mistral documents take file_data or file_url")
        document: dict[str, Any] = {"type": "document_url", "document_url": url}
        if filename:
            document["document_name"] = filename
        return document
    raise unsupported(dialect, place, "this provider takes no file input")


def _mime(filename: Any) -> str:
    guessed = mimetypes.guess_type(str(filename or ""))[0]
    return guessed or "application/pdf"


def _tool_output(output: Any, dialect: ChatDialect, where: str) -> tuple[str, list[dict[str, Any]]]:
    """A function_call_output's output: tool messages carry text; images and files follow
    in a user message (chat tool messages cannot hold them)."""
    if output is None:
        return "", []
    if isinstance(output, str):
        return output, []
    if not isinstance(output, list):
        return json.dumps(output), []
    texts: list[str] = []
    extra: list[dict[str, Any]] = []
    for number, part in enumerate(output):
        place = f"{where}.output[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            texts.append(str(part.get("text", "")))
        elif kind == "input_image":
            extra.append(_image_part(part, dialect, place))
        elif kind == "input_file":
            extra.append(_file_part(part, dialect, place))
        else:
            raise unsupported(dialect, f"{place}.type", f"tool output part {kind!r}")
    if extra and not texts:
        texts.append("(the tool's output follows in the next message)")
    return "\n".join(texts), extra
