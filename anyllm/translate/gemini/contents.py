"""Responses input items -> Gemini ``systemInstruction`` parts and ``contents``.

One content per run of same-role items; media parts as ``inlineData`` or ``fileData``;
function calls and outputs as ``functionCall`` / ``functionResponse`` (names looked up by
``call_id``); thought signatures placed back exactly where Gemini gave them (see the
request decisions in :mod:`anyllm.translate.gemini.request`); ``gemini:<kind>`` extension
items as the parts they carry (:mod:`anyllm.translate.gemini.hosted`).
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from anyllm.translate.base import input_items, is_foreign_extension
from anyllm.translate.gemini.common import SIGNATURE_PREFIX, invalid, unsupported
from anyllm.translate.gemini.hosted import METADATA_ITEMS, SLUG

__all__ = ["GENERATED_CALL_ID", "contents_of"]

_METADATA_TYPES = frozenset(item_type for item_type, _ in METADATA_ITEMS.values())
# The call ids this bridge makes up for models that give none: never sent back to Gemini.
GENERATED_CALL_ID = re.compile(r"^call_[0-9a-f]{32}$")
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]+)?(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.DOTALL)


class _Contents:
    """Builds ``contents``: one content per run of same-role items, signatures placed."""

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.pending_signature: str | None = None  # a ``gemini:next:`` signature waiting for its part

    def _parts(self, role: str) -> list[dict[str, Any]]:
        if role != "model":
            self.flush_signature()
        if not self.contents or self.contents[-1]["role"] != role:
            self.contents.append({"role": role, "parts": []})
        parts: list[dict[str, Any]] = self.contents[-1]["parts"]
        return parts

    def user(self, part: dict[str, Any]) -> None:
        self._parts("user").append(part)

    def model(self, part: dict[str, Any]) -> None:
        if self.pending_signature is not None:
            part["thoughtSignature"] = self.pending_signature
            self.pending_signature = None
        self._parts("model").append(part)

    def flush_signature(self) -> None:
        """A ``next`` signature with no model part after it keeps an empty part of its own."""
        if self.pending_signature is None:
            return
        signature, self.pending_signature = self.pending_signature, None
        if not self.contents or self.contents[-1]["role"] != "model":
            self.contents.append({"role": "model", "parts": []})
        self.contents[-1]["parts"].append({"text": "", "thoughtSignature": signature})

    def signature(self, encrypted: str) -> None:
        """Place one signature from a reasoning item's ``encrypted_content``."""
        where, _, signature = encrypted[len(SIGNATURE_PREFIX) :].partition(":")
        if not signature:
            return
        if where == "next":
            if self.pending_signature is not None:
                self.model({"text": ""})  # two signatures in a row: the first one keeps its own part
            self.pending_signature = signature
            return
        last = self.contents[-1] if self.contents and self.contents[-1]["role"] == "model" else None
        if (
            where == "prev"
            and last
            and "text" in last["parts"][-1]
            and "thoughtSignature" not in last["parts"][-1]
        ):
            last["parts"][-1]["thoughtSignature"] = signature
            return
        if self.pending_signature is not None:
            self.model({"text": ""})
        self._parts("model").append({"text": "", "thoughtSignature": signature})


def contents_of(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = input_items(body.get("input"))
    system: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        system.append({"text": str(instructions)})
    names = {
        str(item.get("call_id")): str(item.get("name"))
        for item in items
        if isinstance(item, Mapping) and item.get("type") == "function_call"
    }
    out = _Contents()
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise invalid(where, f"expected an item dict, got {type(item).__name__}")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            _message(item, where, system, out)
        elif kind == "function_call":
            out.model({"functionCall": _function_call(item, where)})
        elif kind == "function_call_output":
            out.user({"functionResponse": _function_response(item, where, names)})
        elif kind == "reasoning":
            encrypted = item.get("encrypted_content")
            if isinstance(encrypted, str) and encrypted.startswith(SIGNATURE_PREFIX):
                out.signature(encrypted)
        elif kind in _METADATA_TYPES or is_foreign_extension(kind, SLUG):
            continue  # grounding describes an answer; other implementations' items are not portable
        elif isinstance(kind, str) and kind.startswith(SLUG):
            part = item.get("part")
            if not isinstance(part, Mapping) or not part:
                raise invalid(f"{where}.part", f"a {kind} item carries its Gemini part in 'part'")
            out.model(dict(part))
        else:
            raise unsupported(f"{where}.type", f"{kind!r} items have no generateContent counterpart")
    out.flush_signature()
    if not out.contents:
        raise invalid("input", "no user or assistant content to send (Gemini needs at least one turn)")
    return system, out.contents


def _message(item: Mapping[str, Any], where: str, system: list[dict[str, Any]], out: _Contents) -> None:
    role = item.get("role")
    content = item.get("content")
    raw_parts: list[Any] = (
        [{"type": "input_text", "text": content}] if isinstance(content, str) else content or []
    )
    if not isinstance(raw_parts, list):
        raise invalid(f"{where}.content", "must be a string or a list of content parts")
    if role in ("system", "developer"):
        for number, part in enumerate(raw_parts):
            converted = _part(part, f"{where}.content[{number}]")
            if "text" not in converted:
                raise unsupported(f"{where}.content[{number}]", "a system instruction holds text only")
            system.append(converted)
        return
    if role not in ("user", "assistant"):
        raise invalid(f"{where}.role", f"{role!r} is not user, assistant, system or developer")
    for number, part in enumerate(raw_parts):
        converted = _part(part, f"{where}.content[{number}]")
        if role == "assistant":
            out.model(converted)
        else:
            out.user(converted)


def _part(part: Any, where: str) -> dict[str, Any]:
    if isinstance(part, str):
        return {"text": part}
    if not isinstance(part, Mapping):
        raise invalid(where, f"expected a content part dict, got {type(part).__name__}")
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"text": str(part.get("refusal", ""))}
    if kind == "input_image":
        if part.get("file_id"):
            raise unsupported(f"{where}.file_id", "Gemini cannot resolve OpenAI file ids; send image_url")
        return _media(part.get("image_url"), None, f"{where}.image_url")
    if kind == "input_file":
        if part.get("file_id"):
            raise unsupported(
                f"{where}.file_id", "Gemini cannot resolve OpenAI file ids; send file_data or file_url"
            )
        filename = part.get("filename")
        if part.get("file_data"):
            return _media(part["file_data"], filename, f"{where}.file_data")
        return _media(part.get("file_url"), filename, f"{where}.file_url")
    if kind == "input_video":
        return _media(part.get("video_url"), None, f"{where}.video_url")
    raise unsupported(f"{where}.type", f"content part type {kind!r}")


def _guess_type(name: str | None) -> str | None:
    if not name:
        return None
    return mimetypes.guess_type(urlsplit(name).path or name)[0]


def _media(value: Any, filename: Any, where: str) -> dict[str, Any]:
    """A data URL or bare base64 -> ``inlineData``; an http(s)/gs URL -> ``fileData``."""
    if not isinstance(value, str) or not value:
        raise invalid(where, "is missing")
    match = _DATA_URL.match(value)
    if match:
        mime = match.group("mime") or _guess_type(filename if isinstance(filename, str) else None)
        if not mime:
            raise invalid(where, "data URL without a media type")
        data = match.group("data")
        if ";base64" not in (match.group("params") or ""):
            data = base64.b64encode(data.encode("utf-8")).decode("ascii")
        return {"inlineData": {"mimeType": mime, "data": data}}
    scheme = urlsplit(value).scheme.lower()
    if scheme in ("http", "https", "gs"):
        file_data = {"fileUri": value}
        mime = _guess_type(filename if isinstance(filename, str) else None) or _guess_type(value)
        if mime:
            file_data = {"mimeType": mime, "fileUri": value}
        return {"fileData": file_data}
    # Bare base64 (Responses file_data may be that, with a filename giving the type).
    mime = _guess_type(filename if isinstance(filename, str) else None)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(where, "is neither a data URL, an http(s)/gs URL nor base64 data") from None
    if not mime:
        raise invalid(where, "base64 data needs a filename with a known extension (or send a data URL)")
    return {"inlineData": {"mimeType": mime, "data": value}}


def _call_id(item: Mapping[str, Any], where: str) -> str:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise invalid(f"{where}.call_id", "is missing")
    return call_id


def _function_call(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id = _call_id(item, where)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise invalid(f"{where}.name", "is missing")
    raw = item.get("arguments") or "{}"
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise invalid(f"{where}.arguments", f"is not JSON: {str(raw)[:80]!r}") from None
    if not isinstance(args, Mapping):
        raise invalid(f"{where}.arguments", "must be a JSON object (Gemini's args is an object)")
    call: dict[str, Any] = {"name": name, "args": dict(args)}
    if not GENERATED_CALL_ID.match(call_id):
        call["id"] = call_id
    return call


def _function_response(item: Mapping[str, Any], where: str, names: Mapping[str, str]) -> dict[str, Any]:
    call_id = _call_id(item, where)
    name = names.get(call_id)
    if name is None:
        raise invalid(
            f"{where}.call_id",
            f"no function_call item with call_id {call_id!r} in the input: Gemini's functionResponse "
            "needs the function's name (send the function_call item too, or use previous_response_id)",
        )
    output = item.get("output", "")
    if isinstance(output, list):
        texts = []
        for number, part in enumerate(output):
            if not isinstance(part, Mapping) or part.get("type") not in ("input_text", "output_text"):
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise unsupported(
                    f"{where}.output[{number}]", f"{kind!r} parts in a function output (text only)"
                )
            texts.append(str(part.get("text", "")))
        output = "".join(texts)
    response: Any = output
    if isinstance(output, str):
        try:
            response = json.loads(output)
        except ValueError:
            response = output
    if not isinstance(response, Mapping):
        response = {"output": output}
    result: dict[str, Any] = {"name": name, "response": dict(response)}
    if not GENERATED_CALL_ID.match(call_id):
        result["id"] = call_id
    return result
