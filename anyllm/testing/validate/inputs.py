"""What the entry points accept, made plain JSON: dicts, pydantic models, JSON text or bytes.

Undecodable input becomes an ``INPUT-MALFORMED`` violation, never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from anyllm.testing.validate.violations import JsonPath, Sink

__all__ = ["as_json_value", "as_request", "json_type", "media_type", "parse_json_text"]


def media_type(content_type: str) -> str:
    """``text/event-stream; charset=utf-8`` -> ``text/event-stream`` (parameters do not matter)."""
    return content_type.split(";", 1)[0].strip().lower()


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages about a body of the wrong kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def as_json_value(obj: Any) -> Any:
    """Dicts pass; pydantic models (openresponses-types, openai SDK) are dumped as sent."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True, by_alias=True)
    return obj


def parse_json_text(sink: Sink, text: str | bytes, path: JsonPath) -> tuple[bool, Any]:
    """``(True, value)``, or ``(False, None)`` after reporting why the text is not JSON."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            sink.add("INPUT-MALFORMED", path, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
            return False, None
    try:
        return True, json.loads(text)
    except json.JSONDecodeError as exc:
        sink.add(
            "INPUT-MALFORMED",
            path,
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            exc.lineno,
        )
        return False, None


def as_request(request: Any) -> dict[str, Any] | None:
    """The request body as a dict, or None: a request that cannot be read enables no rule."""
    if request is None:
        return None
    request = as_json_value(request)
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
    return request if isinstance(request, dict) else None
