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
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, get_args, get_origin

from anyllm.errors import InvalidRequestError

__all__ = ["ToolLike", "callable_to_tool", "normalize_tools"]

ToolLike = dict[str, Any] | Callable[..., Any]

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NoneType = type(None)

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_LIST_ORIGINS = (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable)
_SET_ORIGINS = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)
_DICT_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


class _Unsupported(Exception):
    """A type that has no faithful JSON Schema; the caller adds which parameter it was."""


@dataclass
class _Ctx:
    """State of one schema build: hoisted recursive pydantic definitions, the class stack."""

    defs: dict[str, Any] = field(default_factory=dict)
    def_sources: dict[str, str] = field(default_factory=dict)
    stack: list[type] = field(default_factory=list)


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

    ctx = _Ctx()
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
            schema = _schema_for(hints[pname], ctx)
        except _Unsupported as exc:
            raise InvalidRequestError(f"Cannot turn {label} into a tool: parameter {pname!r}: {exc}") from exc
        if pname in arg_docs and not _described_by_annotation(hints[pname]):
            schema = {**schema, "description": arg_docs[pname]}
        if param.default is inspect.Parameter.empty:
            required.append(pname)
        else:
            if param.default is None and not _admits_null(schema):
                # `x: int = None` means "may be omitted or null"; say so rather than lie.
                schema = _nullable(schema)
            ok, value = _json_default(param.default)
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
        _enforce_strict(parameters, label, "")
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


# --------------------------------------------------------------------------- types -> schema


def _type_repr(tp: Any) -> str:
    if isinstance(tp, type) and not get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def _schema_for(tp: Any, ctx: _Ctx) -> dict[str, Any]:
    """JSON Schema of one type hint, or _Unsupported naming the type."""
    origin = get_origin(tp)
    if origin is not None:
        return _generic_schema(tp, origin, get_args(tp), ctx)
    if tp is Any:
        return {}
    if tp is None or tp is _NoneType:
        return {"type": "null"}
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _schema_for(supertype, ctx)
    if isinstance(tp, type):
        if tp in _SCALARS:
            return {"type": _SCALARS[tp]}
        if tp in (list, collections.abc.Sequence):
            return {"type": "array"}
        if tp in (set, frozenset):
            return {"type": "array", "uniqueItems": True}
        if tp is tuple:
            return {"type": "array"}
        if tp is dict:
            return {"type": "object"}
        return _class_schema(tp, ctx)
    if isinstance(tp, typing.TypeVar):
        raise _Unsupported(f"type variable {tp!r} is not supported; use a concrete type")
    if isinstance(tp, str | typing.ForwardRef):
        raise _Unsupported(f"forward reference {tp!r} could not be resolved")
    raise _Unsupported(f"type {_type_repr(tp)} is not supported")


def _generic_schema(tp: Any, origin: Any, args: tuple[Any, ...], ctx: _Ctx) -> dict[str, Any]:
    if origin is typing.Annotated:
        return _annotated(args[0], tp.__metadata__, ctx)
    if origin in (Required, NotRequired):
        return _schema_for(args[0], ctx)
    if origin is Literal:
        return _literal(args)
    if origin is typing.Union or origin is types.UnionType:
        return _union(args, ctx)
    if origin in _LIST_ORIGINS:
        return {"type": "array", "items": _schema_for(args[0], ctx)} if args else {"type": "array"}
    if origin in _SET_ORIGINS:
        base: dict[str, Any] = {"type": "array", "uniqueItems": True}
        return {**base, "items": _schema_for(args[0], ctx)} if args else base
    if origin is tuple:
        return _tuple(args, ctx)
    if origin in _DICT_ORIGINS:
        return _mapping(tp, args, ctx)
    if origin is collections.abc.Callable:
        raise _Unsupported(f"{_type_repr(tp)} is a callable, which cannot be sent as JSON")
    raise _Unsupported(f"type {_type_repr(tp)} is not supported")


def _annotated(base: Any, metadata: tuple[Any, ...], ctx: _Ctx) -> dict[str, Any]:
    """Annotated[X, "text"] or Annotated[X, Field(description=..., ge=...)]: X's schema, described."""
    schema = dict(_schema_for(base, ctx))
    description: str | None = None
    for meta in metadata:
        if isinstance(meta, str):
            description = description or meta
            continue
        is_field_info = type(meta).__name__ == "FieldInfo"
        desc = getattr(meta, "description", None)
        if isinstance(desc, str) and desc:
            description = desc
        title = getattr(meta, "title", None)
        if is_field_info and isinstance(title, str) and title:
            schema["title"] = title
        examples = getattr(meta, "examples", None)
        if is_field_info and isinstance(examples, list) and examples:
            schema["examples"] = examples
        for constraint in list(getattr(meta, "metadata", None) or []) if is_field_info else [meta]:
            _apply_constraint(schema, constraint)
    if description:
        schema["description"] = description
    return schema


_NUMERIC_CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "multiple_of": "multipleOf",
}


def _apply_constraint(schema: dict[str, Any], constraint: Any) -> None:
    """annotated-types / pydantic constraints (Ge, Le, MinLen, pattern...) as schema keywords."""
    for attr, keyword in _NUMERIC_CONSTRAINTS.items():
        value = getattr(constraint, attr, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[keyword] = value
    kind = schema.get("type")
    suffix = {"string": "Length", "array": "Items", "object": "Properties"}.get(
        kind if isinstance(kind, str) else ""
    )
    for attr, prefix in (("min_length", "min"), ("max_length", "max")):
        value = getattr(constraint, attr, None)
        if isinstance(value, int) and suffix:
            schema[prefix + suffix] = value
    pattern = getattr(constraint, "pattern", None)
    if isinstance(pattern, str) and kind == "string":
        schema["pattern"] = pattern


def _json_type(values: list[Any]) -> dict[str, Any]:
    if values and all(isinstance(v, bool) for v in values):
        return {"type": "boolean"}
    if values and all(isinstance(v, str) for v in values):
        return {"type": "string"}
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"type": "integer"}
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"type": "number"}
    return {}


def _literal(args: tuple[Any, ...]) -> dict[str, Any]:
    values = [v.value if isinstance(v, enum.Enum) else v for v in args]
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise _Unsupported(f"Literal value {value!r} is not a JSON value")
    non_null = [v for v in values if v is not None]
    schema = {**_json_type(non_null), "enum": values}
    if None in values and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    return schema


def _union(args: tuple[Any, ...], ctx: _Ctx) -> dict[str, Any]:
    members = [_schema_for(a, ctx) for a in args if a is not _NoneType]
    if _NoneType in args:
        members.append({"type": "null"})
    if len(members) == 1:
        return members[0]
    return {"anyOf": members}


def _tuple(args: tuple[Any, ...], ctx: _Ctx) -> dict[str, Any]:
    if not args:
        return {"type": "array"}
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _schema_for(args[0], ctx)}
    if args == ((),):  # tuple[()]
        return {"type": "array", "maxItems": 0}
    prefix = [_schema_for(a, ctx) for a in args]
    return {
        "type": "array",
        "prefixItems": prefix,
        "items": False,
        "minItems": len(prefix),
        "maxItems": len(prefix),
    }


def _mapping(tp: Any, args: tuple[Any, ...], ctx: _Ctx) -> dict[str, Any]:
    if not args:
        return {"type": "object"}
    key, value = args
    key_base = get_args(key)[0] if get_origin(key) is typing.Annotated else key
    if key_base is not str and get_origin(key_base) is not Literal:
        raise _Unsupported(
            f"{_type_repr(tp)} has non-string keys; JSON object keys are strings, use dict[str, ...]"
        )
    schema: dict[str, Any] = {"type": "object", "additionalProperties": _schema_for(value, ctx)}
    if get_origin(key_base) is Literal:
        schema["propertyNames"] = _literal(get_args(key_base))
    return schema


def _class_schema(tp: type, ctx: _Ctx) -> dict[str, Any]:
    if issubclass(tp, enum.Enum):
        return _enum(tp)
    if tp is object:
        raise _Unsupported("type 'object' says nothing about the value; use a concrete type (or typing.Any)")
    if tp in (bytes, bytearray, memoryview):
        raise _Unsupported(f"type {tp.__name__!r} cannot be sent as JSON; use str")
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(tp, pydantic.BaseModel):
        return _pydantic(tp, ctx)
    if tp in ctx.stack:
        raise _Unsupported(
            f"{tp.__qualname__} refers to itself; recursive dataclasses and TypedDicts are not supported "
            "(a pydantic model is)"
        )
    if typing.is_typeddict(tp):
        return _with_stack(tp, ctx, _typeddict)
    if dataclasses.is_dataclass(tp):
        return _with_stack(tp, ctx, _dataclass)
    if issubclass(tp, collections.abc.Callable):  # type: ignore[arg-type]
        raise _Unsupported(f"{tp.__qualname__} is a callable, which cannot be sent as JSON")
    raise _Unsupported(
        f"type {tp.__qualname__!r} is not supported; use str/int/float/bool, list, dict, Literal, "
        "an Enum, a TypedDict, a dataclass or a pydantic model"
    )


def _with_stack(tp: type, ctx: _Ctx, build: Callable[[type, _Ctx], dict[str, Any]]) -> dict[str, Any]:
    ctx.stack.append(tp)
    try:
        return build(tp, ctx)
    finally:
        ctx.stack.pop()


def _enum(tp: type[enum.Enum]) -> dict[str, Any]:
    values = [member.value for member in tp]
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise _Unsupported(f"enum {tp.__qualname__} has value {value!r}, which is not a JSON value")
    schema: dict[str, Any] = {**_json_type(values), "enum": values}
    return schema


def _class_description(tp: type) -> str | None:
    doc = tp.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if dataclasses.is_dataclass(tp) and doc.startswith(tp.__name__ + "("):
        return None  # the signature dataclasses writes when there is no docstring
    return parse_docstring(inspect.cleandoc(doc))[0] or None


def _class_hints(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except Exception as exc:
        raise _Unsupported(f"the type hints of {tp.__qualname__} cannot be resolved: {exc}") from exc


def _field_schema(owner: str, fname: str, hint: Any, ctx: _Ctx) -> dict[str, Any]:
    try:
        return _schema_for(hint, ctx)
    except _Unsupported as exc:
        raise _Unsupported(f"field {fname!r} of {owner}: {exc}") from exc


def _typeddict(tp: type, ctx: _Ctx) -> dict[str, Any]:
    hints = _class_hints(tp)
    required_keys: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
    _, arg_docs = parse_docstring(inspect.getdoc(tp))
    props: dict[str, Any] = {}
    for fname, hint in hints.items():
        schema = _field_schema(tp.__qualname__, fname, hint, ctx)
        if fname in arg_docs and not _described_by_annotation(hint):
            schema = {**schema, "description": arg_docs[fname]}
        props[fname] = schema
    schema = {
        "type": "object",
        "properties": props,
        "required": [k for k, hint in hints.items() if _typeddict_required(hint, k in required_keys)],
        "additionalProperties": False,
    }
    desc = _class_description(tp)
    return {**schema, "description": desc} if desc else schema


def _typeddict_required(hint: Any, default: bool) -> bool:
    """Required/NotRequired read from the resolved hint: with ``from __future__ import
    annotations`` Python 3.11 cannot see them, and ``__required_keys__`` is wrong."""
    while True:
        origin = get_origin(hint)
        if origin is Required:
            return True
        if origin is NotRequired:
            return False
        if origin is not typing.Annotated:
            return default
        hint = get_args(hint)[0]


def _dataclass(tp: type, ctx: _Ctx) -> dict[str, Any]:
    hints = _class_hints(tp)
    _, arg_docs = parse_docstring(inspect.getdoc(tp))
    props: dict[str, Any] = {}
    required: list[str] = []
    for fld in dataclasses.fields(tp):
        if not fld.init:
            continue
        schema = _field_schema(tp.__qualname__, fld.name, hints.get(fld.name, fld.type), ctx)
        if not _described_by_annotation(hints.get(fld.name)):
            desc = fld.metadata.get("description") if fld.metadata else None
            desc = desc if isinstance(desc, str) else arg_docs.get(fld.name)
            if desc:
                schema = {**schema, "description": desc}
        if fld.default is not dataclasses.MISSING:
            ok, value = _json_default(fld.default)
            if ok:
                schema = {**schema, "default": value}
        elif fld.default_factory is dataclasses.MISSING:
            required.append(fld.name)
        props[fld.name] = schema
    schema = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    desc = _class_description(tp)
    return {**schema, "description": desc} if desc else schema


def _pydantic(tp: type, ctx: _Ctx) -> dict[str, Any]:
    """model_json_schema(), with non-recursive $refs inlined and recursive ones hoisted."""
    raw: dict[str, Any] = tp.model_json_schema()  # type: ignore[attr-defined]
    local_defs: dict[str, Any] = raw.pop("$defs", {})
    renames: dict[str, str] = {}

    def hoisted_name(name: str) -> str:
        if name in renames:
            return renames[name]
        source = json.dumps(local_defs[name], sort_keys=True)
        candidate, n = name, 1
        while candidate in ctx.def_sources and ctx.def_sources[candidate] != source:
            n += 1
            candidate = f"{name}_{n}"
        renames[name] = candidate
        if candidate not in ctx.def_sources:
            ctx.def_sources[candidate] = source
            ctx.defs[candidate] = {}  # placeholder, so a self-reference does not loop
            ctx.defs[candidate] = inline(local_defs[name], (name,))
        return candidate

    def inline(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(v, path) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = ref[len("#/$defs/") :]
            rest = {k: inline(v, path) for k, v in node.items() if k != "$ref"}
            if target in path:
                return {"$ref": f"#/$defs/{hoisted_name(target)}", **rest}
            return {**inline(local_defs[target], (*path, target)), **rest}
        return {k: inline(v, path) for k, v in node.items()}

    result: dict[str, Any] = inline(raw, ())
    return result


# --------------------------------------------------------------------------- helpers


def _described_by_annotation(hint: Any) -> bool:
    """True when the hint itself carries a description (Annotated[X, "..."]), which wins."""
    while get_origin(hint) in (Required, NotRequired):
        hint = get_args(hint)[0]
    if get_origin(hint) is not typing.Annotated:
        return False
    return any(
        (isinstance(m, str) and m) or isinstance(getattr(m, "description", None), str)
        for m in hint.__metadata__
    )


def _json_default(value: Any) -> tuple[bool, Any]:
    """(True, JSON form) when a default can be shown to the model, else (False, None)."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return True, json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return False, None


def _admits_null(schema: dict[str, Any]) -> bool:
    if not schema:
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in schema.get("enum", [object()]):
        return True
    return any(_admits_null(s) for s in schema.get("anyOf", []))


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    described = {k: schema[k] for k in ("description",) if k in schema}
    inner = {k: v for k, v in schema.items() if k != "description"}
    return {"anyOf": [inner, {"type": "null"}], **described}


def _enforce_strict(schema: Any, label: str, path: str) -> None:
    """Strict mode: every object closed and every property required, or a clear error."""
    if isinstance(schema, list):
        for item in schema:
            _enforce_strict(item, label, path)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        if not props and additional not in (None, False):
            raise InvalidRequestError(
                f"Cannot turn {label} into a strict tool: {path or 'the arguments'} is an open mapping "
                "(dict[str, ...]); strict mode needs fixed properties, use strict=False or a TypedDict"
            )
        required = set(schema.get("required", []))
        for pname in props:
            if pname not in required:
                where = f"{path}.{pname}" if path else pname
                raise InvalidRequestError(
                    f"Cannot turn {label} into a strict tool: parameter {where!r} is optional "
                    "(has a default), but strict mode requires every property; drop the default "
                    "(use 'X | None' to let the model pass null) or use strict=False"
                )
        schema["additionalProperties"] = False
        for pname, sub in props.items():
            _enforce_strict(sub, label, f"{path}.{pname}" if path else pname)
    for key in ("items", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in schema:
            _enforce_strict(schema[key], label, path)
    for sub in schema.get("$defs", {}).values():
        _enforce_strict(sub, label, path)


# --------------------------------------------------------------------------- docstrings

_GOOGLE_PARAM_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "kwargs",
    "other parameters",
}
_GOOGLE_OTHER_SECTIONS = {
    "returns",
    "return",
    "yields",
    "yield",
    "raises",
    "examples",
    "example",
    "notes",
    "note",
    "warnings",
    "warning",
    "see also",
    "references",
    "todo",
    "attributes",
    "methods",
}
_GOOGLE_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\s*\**(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^\s*(\**\w+(?:\s*,\s*\**\w+)*)\s*(?::.*)?$")
_SPHINX_FIELD = re.compile(r"^\s*:(\w+)([^:]*):\s*(.*)$")
_SPHINX_PARAM_KINDS = {"param", "parameter", "arg", "argument", "key", "keyword"}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _section_kind(lines: list[str], i: int) -> str | None:
    """'google-params', 'google-other', 'numpy', 'sphinx' or None for the line at i."""
    line = lines[i]
    if i + 1 < len(lines) and line.strip() and _NUMPY_RULE.match(lines[i + 1]):
        return "numpy"
    match = _GOOGLE_HEADER.match(line)
    if match:
        word = match.group(1).lower()
        if word in _GOOGLE_PARAM_SECTIONS:
            return "google-params"
        if word in _GOOGLE_OTHER_SECTIONS:
            return "google-other"
    if _SPHINX_FIELD.match(line):
        return "sphinx"
    return None


def _join(parts: list[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {argument: description}) from a Google, NumPy or Sphinx docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    first_section = next((i for i in range(len(lines)) if _section_kind(lines, i)), len(lines))
    description = "\n".join(lines[:first_section]).strip()
    args: dict[str, str] = {}
    i = first_section
    while i < len(lines):
        kind = _section_kind(lines, i)
        if kind == "google-params":
            i = _google_args(lines, i, args)
        elif kind == "numpy":
            i = _numpy_section(lines, i, args)
        elif kind == "sphinx":
            i = _sphinx_field(lines, i, args)
        else:
            i += 1
    return description, args


def _google_args(lines: list[str], start: int, out: dict[str, str]) -> int:
    header_indent = _indent(lines[start])
    entry_indent: int | None = None
    current: str | None = None
    parts: list[str] = []
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        ind = _indent(line)
        if ind <= header_indent:
            break
        if entry_indent is None:
            entry_indent = ind
        match = _GOOGLE_ENTRY.match(line) if ind <= entry_indent else None
        if match:
            if current:
                out.setdefault(current, _join(parts))
            current, parts = match.group(1), [match.group(2)]
        elif current:
            parts.append(line)
        i += 1
    if current:
        out.setdefault(current, _join(parts))
    return i


def _numpy_section(lines: list[str], start: int, out: dict[str, str]) -> int:
    title = lines[start].strip().lower()
    base = _indent(lines[start])
    i = start + 2
    is_params = title in _GOOGLE_PARAM_SECTIONS
    names: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        for name in names:
            out.setdefault(name, _join(parts))

    while i < len(lines):
        if _section_kind(lines, i) == "numpy":
            break
        line = lines[i]
        if line.strip() and is_params:
            if _indent(line) <= base:
                match = _NUMPY_ENTRY.match(line)
                if match:
                    flush()
                    names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
                    parts = []
            else:
                parts.append(line)
        i += 1
    if is_params:
        flush()
    return i


def _sphinx_field(lines: list[str], start: int, out: dict[str, str]) -> int:
    match = _SPHINX_FIELD.match(lines[start])
    assert match is not None
    kind, spec, text = match.group(1).lower(), match.group(2).split(), match.group(3)
    base = _indent(lines[start])
    parts = [text]
    i = start + 1
    while (
        i < len(lines) and lines[i].strip() and _indent(lines[i]) > base and not _SPHINX_FIELD.match(lines[i])
    ):
        parts.append(lines[i])
        i += 1
    if kind in _SPHINX_PARAM_KINDS and spec:
        out.setdefault(spec[-1].lstrip("*"), _join(parts))
    return i
