"""The request body must be JSON the wire can carry, and ``input`` items must be items.

``params.py`` checks the parameters ``responses()`` names; this module checks what no
parameter fact covers: the caller's ``input`` items (a message ``content`` of ``5`` used to
reach the wire, or a bridge's ``TypeError``) and every value of the body, ``**kwargs``
included, against what JSON can say. ``json.dumps`` writes ``NaN`` for ``float("nan")`` (not
JSON: strict servers refuse it), raises ``TypeError`` for ``object()`` and the encoder
raises ``UnicodeEncodeError`` for a lone surrogate; each of those is an
InvalidRequestError here, before any network call, whose ``param`` is the path to the
value (``input[0].content``, ``metadata.tag``, the kwarg's name).
This module imports only ``anyllm.errors``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from anyllm.errors import InvalidRequestError

__all__ = ["MAX_DEPTH", "MESSAGE_ROLES", "check_input", "check_json", "check_json_body"]

MAX_DEPTH: Final = 200
"""Deepest nesting accepted (tool schemas run to a few dozen levels); a cycle fails here too."""

MESSAGE_ROLES: Final = ("user", "assistant", "system", "developer")
"""The spec's message item roles (UserMessageItemParam ... DeveloperMessageItemParam)."""

# Members the spec types as strings, per input item type (ItemParam's union).
_STRING_MEMBERS: Final[dict[str, tuple[str, ...]]] = {
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id",),
    "item_reference": ("id",),
}


def _member(path: str, key: Any) -> str:
    return f"{path}.{key}" if isinstance(key, str) and key.isidentifier() else f"{path}[{key!r}]"


def _fail(path: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{path} {message}", param=path)


def _check_string(value: str, path: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(
            path,
            f"holds a lone surrogate ({value[exc.start]!r} at position {exc.start}), "
            "which UTF-8 cannot encode",
        ) from None


def check_json(value: Any, path: str) -> None:
    """Raise InvalidRequestError naming the first place in ``value`` that JSON cannot carry:
    a type other than dict (string keys), list, tuple, str, int, float, bool or None; a float
    that is not finite; a string with a lone surrogate; nesting past MAX_DEPTH."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            _check_string(node, where)
        elif node is None or isinstance(node, bool | int):
            continue
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise _fail(where, f"is {node!r}, which JSON cannot represent (only finite numbers)")
        elif depth >= MAX_DEPTH:
            raise InvalidRequestError(
                f"{path} is nested deeper than {MAX_DEPTH} levels, or refers to itself (at {where[:80]}...)",
                param=path,
            )
        elif isinstance(node, Mapping):
            for key, member in node.items():
                if not isinstance(key, str):
                    raise _fail(
                        where, f"has a key {key!r} of type {type(key).__name__}; JSON keys are strings"
                    )
                _check_string(key, where)
                stack.append((member, _member(where, key), depth + 1))
        elif isinstance(node, list | tuple):
            stack.extend((member, f"{where}[{index}]", depth + 1) for index, member in enumerate(node))
        else:
            raise _fail(where, f"is a {type(node).__name__}, which is not a JSON value")


def check_json_body(body: Mapping[str, Any]) -> None:
    """The whole body, each top-level member named by its key (a kwarg is named as given).

    Encoding it is the fast check (the C encoder: a few microseconds for a usual request);
    only when that fails is the body walked by :func:`check_json` to name the culprit.
    Keys that ``json`` turns into strings itself (int, float, bool, None) are accepted.
    """
    try:
        json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        for name, value in body.items():
            check_json(value, name)
        raise InvalidRequestError(f"the request body cannot be sent as JSON: {exc}", param="body") from exc


def _check_content(content: Any, path: str) -> None:
    """A message's content: a string, or a list of content parts (dicts with a string type)."""
    if isinstance(content, str):
        return
    if not isinstance(content, list | tuple):
        raise _fail(path, f"must be a string or a list of content parts, got {type(content).__name__}")
    for index, part in enumerate(content):
        where = f"{path}[{index}]"
        if not isinstance(part, Mapping):
            raise _fail(where, f"must be a content part dict, got {type(part).__name__}")
        kind = part.get("type")
        if not isinstance(kind, str) or not kind:
            raise _fail(where, "needs a string 'type' (input_text, input_image, output_text, ...)")
        if kind in ("input_text", "output_text", "refusal") and not isinstance(
            part.get("text" if kind != "refusal" else "refusal"), str
        ):
            member = "text" if kind != "refusal" else "refusal"
            raise _fail(f"{where}.{member}", f"must be a string in a {kind} part")


def _check_item(item: Any, path: str) -> None:
    if not isinstance(item, Mapping):
        raise _fail(path, f"must be an item dict, got {type(item).__name__}")
    kind = item.get("type")
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise _fail(f"{path}.type", f"must be a non-empty string, got {kind!r}")
    if kind is None and "role" not in item:
        if isinstance(item.get("id"), str):
            return  # ItemReferenceParam: its type is optional
        raise _fail(path, "has neither 'type' nor 'role'")
    if kind in (None, "message"):
        role = item.get("role")
        if role not in MESSAGE_ROLES:
            raise _fail(f"{path}.role", f"must be one of {', '.join(MESSAGE_ROLES)}, got {role!r}")
        if "content" not in item:
            raise _fail(path, "is a message without 'content'")
        _check_content(item["content"], f"{path}.content")
        return
    for member in _STRING_MEMBERS.get(kind, ()):
        if not isinstance(item.get(member), str):
            raise _fail(f"{path}.{member}", f"must be a string in a {kind} item, got {item.get(member)!r}")
    if kind == "function_call_output":
        output = item.get("output")
        if isinstance(output, str):
            return
        if not isinstance(output, list | tuple):
            raise _fail(
                f"{path}.output", f"must be a string or a list of content parts, got {type(output).__name__}"
            )
        _check_content(output, f"{path}.output")


def check_input(input_data: Any) -> None:
    """``input``: a string, or a list of input items whose required members have the
    spec's types (message roles and content; function call and output identifiers)."""
    if isinstance(input_data, str):
        return
    if not isinstance(input_data, list):
        raise InvalidRequestError(
            f"input_data must be a string or a list of input items, got {type(input_data).__name__}",
            param="input",
        )
    for index, item in enumerate(input_data):
        _check_item(item, f"input[{index}]")
