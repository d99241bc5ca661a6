"""Python callables -> OpenResponses function tool definitions.

Callers pass plain functions as tools; the model needs a JSON Schema of their arguments.
The schema is read from the signature's type hints and the docstring, so what the model
sees and what the function accepts cannot drift apart. Anything that cannot be described
faithfully raises :class:`~anyllm.errors.InvalidRequestError` naming the function and the
parameter, before any network call.

Choices, and why:

* ``strict`` defaults to ``False``: OpenAI's strict mode requires every property to be
  required and every object closed, which rules out parameters with defaults, and most
  other providers ignore the flag. ``strict=True`` checks those rules (raising on a
  parameter with a default or an open ``dict``) and closes every object.
* The root object is closed (``"additionalProperties": false``): a Python function rejects
  unknown keyword arguments, so the model should not invent any. Dataclasses and
  TypedDicts are closed for the same reason; pydantic models keep their own setting.
* Pydantic models use ``model_json_schema()``; ``$ref`` to non-recursive definitions are
  inlined (several providers, Gemini among them, do not resolve ``$ref``); recursive
  definitions are kept and hoisted to the root ``$defs``, which is where ``#/$defs/...``
  points once the schema is nested inside ``parameters``.
* The description is the docstring's prose before its first section (Args, Parameters,
  ``:param``, Returns, ...), so an extended explanation reaches the model too. A tool
  without a docstring has no ``description`` key (null trips some Chat Completions servers).
* pydantic is imported only when a pydantic model is met (it is already in
  ``sys.modules`` then), keeping ``import anyllm.tools`` cheap.

The work is split three ways: this module turns tools (callables and dicts) into
Responses function tools; :mod:`anyllm.tools.schema_from_hints` turns type hints into
JSON Schema; :mod:`anyllm.tools.docstrings` reads argument descriptions from Google,
NumPy and Sphinx docstrings.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from anyllm.errors import InvalidRequestError
from anyllm.tools.docstrings import parse_docstring
from anyllm.tools.schema_from_hints import (
    SchemaContext,
    UnsupportedType,
    admits_null,
    described_by_annotation,
    enforce_strict,
    json_default,
    nullable,
    schema_for,
)

__all__ = ["ToolLike", "callable_to_tool", "normalize_tools", "parse_docstring"]

ToolLike = dict[str, Any] | Callable[..., Any]

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


# --------------------------------------------------------------------------- public API


def callable_to_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Describe ``fn`` as a Responses function tool: ``{"type": "function", "name", ...}``.

    ``name`` and ``description`` override what is read from the function. Works for plain
    and async functions, bound methods, ``functools.partial`` objects (bound arguments
    disappear from the schema) and callable instances.
    """
    target, label, default_name, doc = _resolve_target(fn)
    tool_name = name if name is not None else default_name
    if not isinstance(tool_name, str) or not _NAME_RE.match(tool_name):
        raise InvalidRequestError(
            f"Cannot turn {label} into a tool: its name {tool_name!r} must be 1-64 characters of "
            "letters, digits, '_' or '-'; pass name=... to choose one"
        )
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"Cannot turn {label} into a tool: no readable signature ({exc})") from exc
    hints = _type_hints(target, label)
    bound = _partial_keywords(fn)
    summary, arg_docs = parse_docstring(doc)

    ctx = SchemaContext()
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in sig.parameters.values():
        pname = param.name
        if pname in bound:
            # Fixed by the caller (often a secret such as an API key): not the model's business,
            # and its value must not leak into the schema as a default.
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise InvalidRequestError(
                f"Cannot turn {label} into a tool: parameter '*{pname}' is variadic; a tool receives "
                "one JSON object of named arguments, so list each argument explicitly"
            )
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            raise InvalidRequestError(
                f"Cannot turn {label} into a tool: parameter '**{pname}' is variadic; a tool receives "
                "one JSON object of named arguments, so list each argument explicitly"
            )
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise InvalidRequestError(
                f"Cannot turn {label} into a tool: parameter {pname!r} is positional-only, but tool "
                "arguments are passed by keyword; remove the '/' from the signature"
            )
        if pname not in hints:
            raise InvalidRequestError(
                f"Cannot turn {label} into a tool: parameter {pname!r} has no type hint; "
                f"annotate it (e.g. '{pname}: str') so the model knows what to send"
            )
        try:
            schema = schema_for(hints[pname], ctx)
        except UnsupportedType as exc:
            raise InvalidRequestError(f"Cannot turn {label} into a tool: parameter {pname!r}: {exc}") from exc
        if pname in arg_docs and not described_by_annotation(hints[pname]):
            schema = {**schema, "description": arg_docs[pname]}
        if param.default is inspect.Parameter.empty:
            required.append(pname)
        else:
            if param.default is None and not admits_null(schema):
                # `x: int = None` means "may be omitted or null"; say so rather than lie.
                schema = nullable(schema)
            ok, value = json_default(param.default)
            if ok:
                schema = {**schema, "default": value}
        properties[pname] = schema

    parameters: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if ctx.defs:
        parameters["$defs"] = ctx.defs
    if strict:
        enforce_strict(parameters, label, "")
    tool: dict[str, Any] = {"type": "function", "name": tool_name}
    final_description = description if description is not None else summary
    if final_description:
        tool["description"] = final_description
    tool["parameters"] = parameters
    tool["strict"] = strict
    return tool


def normalize_tools(tools: Sequence[ToolLike] | None) -> list[dict[str, Any]] | None:
    """Turn a user's tools into Responses-shaped dicts; bad entries raise with their index.

    Callables are described with :func:`callable_to_tool`; Chat Completions dicts
    (``{"type": "function", "function": {...}}``) are flattened; Responses dicts pass
    through (non-function types such as OpenAI's hosted tools pass through unchanged; the
    provider layer decides whether it can express them). Function names must be unique.
    """
    if tools is None:
        return None
    if isinstance(tools, dict | str | bytes) or not isinstance(tools, Sequence):
        raise InvalidRequestError(
            f"tools must be a list of dicts or callables, got {type(tools).__name__}", param="tools"
        )
    result: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(tools):
        where = f"tools[{index}]"
        if isinstance(item, dict):
            tool = _normalize_dict(item, where)
        elif callable(item):
            try:
                tool = callable_to_tool(item)
            except InvalidRequestError as exc:
                raise InvalidRequestError(f"{where}: {exc.message}", param=where) from exc
        else:
            raise InvalidRequestError(
                f"{where}: expected a dict or a callable, got {type(item).__name__} ({item!r:.80})",
                param=where,
            )
        if tool.get("type") == "function":
            tname = tool["name"]
            if tname in seen:
                raise InvalidRequestError(
                    f"{where}: duplicate tool name {tname!r} (also used by tools[{seen[tname]}]); "
                    "tool names must be unique",
                    param=where,
                )
            seen[tname] = index
        result.append(tool)
    return result


# --------------------------------------------------------------------------- dict tools


def _normalize_dict(item: dict[str, Any], where: str) -> dict[str, Any]:
    kind = item.get("type")
    if "function" in item and isinstance(item.get("function"), dict):
        if kind not in (None, "function"):
            raise InvalidRequestError(
                f"{where}: a Chat Completions tool must have type 'function', got {kind!r}", param=where
            )
        inner: dict[str, Any] = item["function"]
        extra = sorted(set(item) - {"type", "function"})
        if extra:
            raise InvalidRequestError(
                f"{where}: mixes the Chat Completions shape ('function': {{...}}) with top-level keys "
                f"{extra}; use one shape",
                param=where,
            )
        flat: dict[str, Any] = {"type": "function", "name": inner.get("name")}
        for key in ("description", "parameters", "strict"):
            if key in inner:
                flat[key] = inner[key]
        _check_function_dict(flat, where)
        return flat
    if kind is None:
        raise InvalidRequestError(
            f"{where}: tool dict has no 'type'; expected {{'type': 'function', 'name': ..., 'parameters': "
            "{...}} (keys found: " + ", ".join(map(repr, item)) + ")",
            param=where,
        )
    if not isinstance(kind, str):
        raise InvalidRequestError(f"{where}: 'type' must be a string, got {kind!r}", param=where)
    if kind == "function":
        if "function" in item:
            raise InvalidRequestError(
                f"{where}: 'function' must be an object holding name/description/parameters", param=where
            )
        _check_function_dict(item, where)
    return dict(item)


def _check_function_dict(tool: dict[str, Any], where: str) -> None:
    name = tool.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidRequestError(
            f"{where}: function tool 'name' must be 1-64 characters of letters, digits, '_' or '-', "
            f"got {name!r}",
            param=where,
        )
    params = tool.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise InvalidRequestError(
            f"{where}: 'parameters' of tool {name!r} must be a JSON Schema object, "
            f"got {type(params).__name__}",
            param=where,
        )
    desc = tool.get("description")
    if desc is not None and not isinstance(desc, str):
        raise InvalidRequestError(f"{where}: 'description' of tool {name!r} must be a string", param=where)
    strict = tool.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidRequestError(f"{where}: 'strict' of tool {name!r} must be a boolean", param=where)


# --------------------------------------------------------------------------- callables


def _resolve_target(fn: Any) -> tuple[Any, str, str | None, str | None]:
    """(object holding the annotations, label for messages, default tool name, docstring)."""
    if isinstance(fn, type):
        raise InvalidRequestError(
            f"Cannot turn class {fn.__qualname__!r} into a tool: pass a function (or an instance "
            "with __call__)"
        )
    if not callable(fn):
        raise InvalidRequestError(f"Cannot turn {type(fn).__name__} object into a tool: it is not callable")
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.ismethod(target):
        target = target.__func__
    if inspect.isfunction(target) or inspect.isbuiltin(target):
        qual = getattr(target, "__qualname__", getattr(target, "__name__", "?"))
        return target, f"function {qual!r}", getattr(target, "__name__", None), inspect.getdoc(target)
    cls = type(target)
    call = cls.__call__
    doc = inspect.getdoc(call) if call.__doc__ else inspect.getdoc(cls)
    return call, f"callable {cls.__qualname__!r}", cls.__name__, doc


def _partial_keywords(fn: Any) -> set[str]:
    """Names bound by keyword in (possibly nested) functools.partial objects."""
    names: set[str] = set()
    while isinstance(fn, functools.partial):
        names.update(fn.keywords)
        fn = fn.func
    return names


def _type_hints(target: Any, label: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:  # NameError, TypeError, SyntaxError from string annotations
        raw = getattr(target, "__annotations__", {}) or {}
        globalns = getattr(inspect.unwrap(target), "__globals__", {})
        for pname, annotation in raw.items():
            if pname == "return":
                continue
            shim = types.SimpleNamespace(__annotations__={pname: annotation})
            try:
                typing.get_type_hints(shim, globalns=globalns, include_extras=True)
            except Exception as inner:
                raise InvalidRequestError(
                    f"Cannot turn {label} into a tool: the type hint of parameter {pname!r} "
                    f"({annotation}) cannot be resolved: {inner}"
                ) from inner
        raise InvalidRequestError(
            f"Cannot turn {label} into a tool: its type hints cannot be resolved: {exc}"
        ) from exc
