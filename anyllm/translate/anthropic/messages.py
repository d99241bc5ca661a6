"""Responses input items -> Anthropic's ``system`` text and alternating ``messages``.

System and developer messages go to ``system``; consecutive items of one role merge into
one message; function calls, their outputs and reasoning items become ``tool_use``,
``tool_result`` and thinking blocks; images and files become ``image`` and ``document``
blocks (see the request decisions in :mod:`anyllm.translate.anthropic.request`).
``anthropic:*`` extension items and Anthropic ``compaction`` items go back as the blocks
they carry; ``anthropic:citations`` puts the citations back on the message's text; other
implementors' extension items are skipped (see :mod:`anyllm.translate.anthropic.hosted`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from anyllm.errors import InvalidRequestError
from anyllm.translate.anthropic.common import (
    REDACTED_PREFIX,
    THINKING_PREFIX,
    decode_thinking,
    invalid,
    unsupported,
)
from anyllm.translate.anthropic.hosted import (
    CITATIONS_TYPE,
    COMPACTION_PREFIX,
    SLUG,
    block_of_item,
    decode_compaction,
    split_cited_text,
)
from anyllm.translate.base import input_items, is_foreign_extension

__all__ = ["messages_of"]

_FILE_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/plain"}


def messages_of(body: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(the system text, alternating user/assistant messages)."""
    system: list[str] = []
    if body.get("instructions"):
        system.append(str(body["instructions"]))
    messages: list[dict[str, Any]] = []
    texts: dict[str, dict[str, Any]] = {}  # assistant message item id -> its one text block

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
                blocks = _content_blocks(item.get("content"), where, role)
                if role == "assistant" and len(blocks) == 1 and blocks[0]["type"] == "text":
                    texts[str(item.get("id"))] = blocks[0]
                add(role, blocks)
            else:
                raise invalid(f"{where}.role", f"{role!r} is not user, assistant, system or developer")
        elif kind == "function_call":
            add("assistant", [_tool_use(item, where)])
        elif kind == "function_call_output":
            add("user", [_tool_result(item, where)])
        elif kind == "reasoning":
            add("assistant", [_thinking_block(item, where)])
        elif kind == "item_reference":
            raise unsupported(where, "item_reference (Anthropic stores no items; pass the items themselves)")
        elif kind == "compaction":
            add("assistant", [_compaction_block(item, where)])
        elif kind == CITATIONS_TYPE:
            _restore_citations(messages, texts.get(str(item.get("message_id"))), item)
        elif isinstance(kind, str) and kind.startswith(SLUG):
            add("assistant", [block_of_item(item, where)])
        elif is_foreign_extension(kind, SLUG):
            continue  # another implementation's item: not portable (spec, "Extending Items")
        else:
            raise unsupported(where, f"input item type {kind!r}")
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
            raise unsupported(f"{where}.content[{number}]", f"{kind!r} in a system message (text only)")
        texts.append(str(part.get("text", "")))
    return "\n".join(text for text in texts if text)


def _content_blocks(content: Any, where: str, role: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise invalid(f"{where}.content", "must be a string or a list of content parts")
    blocks: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        block = _content_block(part, f"{where}.content[{number}]", role)
        if block is not None:
            blocks.append(block)
    return blocks


def _content_block(part: Any, where: str, role: str) -> dict[str, Any] | None:
    if not isinstance(part, Mapping):
        raise invalid(where, f"a content part must be a dict, got {type(part).__name__}")
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
    raise unsupported(where, f"content part {kind!r} in a {role} message")


def _data_url(url: str, where: str) -> tuple[str, str]:
    """(media type, base64 data) of a ``data:<type>;base64,<data>`` URL."""
    header, sep, data = url.partition(",")
    if not sep or ";base64" not in header:
        raise invalid(where, "a data URL must be data:<media type>;base64,<data>")
    return header[len("data:") :].split(";")[0], data


def _image(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    url = part.get("image_url")
    if not url:
        if part.get("file_id"):
            raise unsupported(f"{where}.file_id", "Anthropic cannot read OpenAI file ids")
        raise invalid(where, "input_image needs image_url")
    url = str(url)
    if url.startswith("data:"):
        media_type, data = _data_url(url, f"{where}.image_url")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise invalid(f"{where}.image_url", "must be an http(s) URL or a base64 data URL")


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
                raise invalid(f"{where}.file_data", f"not base64 of UTF-8 text ({exc})") from exc
            block = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
        else:
            raise unsupported(f"{where}.file_data", f"media type {media_type!r} (PDF or plain text only)")
    elif part.get("file_url"):
        block = {"type": "document", "source": {"type": "url", "url": str(part["file_url"])}}
    elif part.get("file_id"):
        raise unsupported(f"{where}.file_id", "Anthropic cannot read OpenAI file ids")
    else:
        raise invalid(where, "input_file needs file_data or file_url")
    if filename:
        block["title"] = str(filename)
    return block


def _tool_use(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    arguments = item.get("arguments") or "{}"
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError as exc:
        raise invalid(f"{where}.arguments", f"not valid JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise invalid(f"{where}.arguments", "must be a JSON object (Anthropic's tool input is an object)")
    call_id = item.get("call_id")
    if not call_id:
        raise invalid(f"{where}.call_id", "a function_call needs its call_id")
    return {"type": "tool_use", "id": str(call_id), "name": str(item.get("name", "")), "input": parsed}


def _tool_result(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id = item.get("call_id")
    if not call_id:
        raise invalid(f"{where}.call_id", "a function_call_output needs its call_id")
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
        raise unsupported(
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


def _compaction_block(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    encrypted = item.get("encrypted_content")
    if not isinstance(encrypted, str) or not encrypted.startswith(COMPACTION_PREFIX):
        raise unsupported(where, "a compaction item that Anthropic did not produce (its content is opaque)")
    return decode_compaction(encrypted, f"{where}.encrypted_content")


def _restore_citations(
    messages: list[dict[str, Any]], block: dict[str, Any] | None, item: Mapping[str, Any]
) -> None:
    """Split the message's text block back into the cited blocks an ``anthropic:citations``
    item describes. Without that message in the input there is nothing to cite: skipped."""
    if block is None:
        return
    blocks = split_cited_text(str(block.get("text", "")), item.get("blocks"))
    if blocks is None:
        return
    for message in reversed(messages):
        content = message["content"]
        for position, candidate in enumerate(content):
            if candidate is block:
                content[position : position + 1] = blocks
                return
