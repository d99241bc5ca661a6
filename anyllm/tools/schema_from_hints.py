"""Type hints -> JSON Schema, for the arguments of a function tool.

One job: describe a Python type faithfully as JSON Schema, or say exactly why it cannot
be (:class:`UnsupportedType`; the caller adds which parameter it was). Scalars, lists,
sets, tuples, dicts with string keys, ``Literal``, ``Enum``, unions, ``Annotated``
descriptions and constraints (annotated-types / pydantic ``Field``), ``NewType``,
TypedDicts, dataclasses and pydantic models are described; pydantic is only used when a
pydantic model is met (it is in ``sys.modules`` then). :func:`enforce_strict` applies
OpenAI's strict-mode rules to a finished schema.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import inspect
import json
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, get_args, get_origin

from anyllm.errors import InvalidRequestError
from anyllm.tools.docstrings import parse_docstring

__all__ = [
    "SchemaContext",
    "UnsupportedType",
    "admits_null",
    "described_by_annotation",
    "enforce_strict",
    "json_default",
    "nullable",
    "schema_for",
]

_NoneType = type(None)

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_LIST_ORIGINS = (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable)
_SET_ORIGINS = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)
_DICT_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


class UnsupportedType(Exception):
    """A type that has no faithful JSON Schema; the caller adds which parameter it was."""


@dataclass
class SchemaContext:
    """State of one schema build: hoisted recursive pydantic definitions, the class stack."""

    defs: dict[str, Any] = field(default_factory=dict)
    def_sources: dict[str, str] = field(default_factory=dict)
    stack: list[type] = field(default_factory=list)


# --------------------------------------------------------------------------- types -> schema


def _type_repr(tp: Any) -> str:
    if isinstance(tp, type) and not get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def schema_for(tp: Any, ctx: SchemaContext) -> dict[str, Any]:
    """JSON Schema of one type hint, or UnsupportedType naming the type."""
    origin = get_origin(tp)
    if origin is not None:
        return _generic_schema(tp, origin, get_args(tp), ctx)
    if tp is Any:
        return {}
    if tp is None or tp is _NoneType:
        return {"type": "null"}
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return schema_for(supertype, ctx)
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
        raise UnsupportedType(f"type variable {tp!r} is not supported; use a concrete type")
    if isinstance(tp, str | typing.ForwardRef):
        raise UnsupportedType(f"forward reference {tp!r} could not be resolved")
    raise UnsupportedType(f"type {_type_repr(tp)} is not supported")


def _generic_schema(tp: Any, origin: Any, args: tuple[Any, ...], ctx: SchemaContext) -> dict[str, Any]:
    if origin is typing.Annotated:
        return _annotated(args[0], tp.__metadata__, ctx)
    if origin in (Required, NotRequired):
        return schema_for(args[0], ctx)
    if origin is Literal:
        return _literal(args)
    if origin is typing.Union or origin is types.UnionType:
        return _union(args, ctx)
    if origin in _LIST_ORIGINS:
        return {"type": "array", "items": schema_for(args[0], ctx)} if args else {"type": "array"}
    if origin in _SET_ORIGINS:
        base: dict[str, Any] = {"type": "array", "uniqueItems": True}
        return {**base, "items": schema_for(args[0], ctx)} if args else base
    if origin is tuple:
        return _tuple(args, ctx)
    if origin in _DICT_ORIGINS:
        return _mapping(tp, args, ctx)
    if origin is collections.abc.Callable:
        raise UnsupportedType(f"{_type_repr(tp)} is a callable, which cannot be sent as JSON")
    raise UnsupportedType(f"type {_type_repr(tp)} is not supported")


def _annotated(base: Any, metadata: tuple[Any, ...], ctx: SchemaContext) -> dict[str, Any]:
    """Annotated[X, "text"] or Annotated[X, Field(description=..., ge=...)]: X's schema, described."""
    schema = dict(schema_for(base, ctx))
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
            raise UnsupportedType(f"Literal value {value!r} is not a JSON value")
    non_null = [v for v in values if v is not None]
    schema = {**_json_type(non_null), "enum": values}
    if None in values and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    return schema


def _union(args: tuple[Any, ...], ctx: SchemaContext) -> dict[str, Any]:
    members = [schema_for(a, ctx) for a in args if a is not _NoneType]
    if _NoneType in args:
        members.append({"type": "null"})
    if len(members) == 1:
        return members[0]
    return {"anyOf": members}


def _tuple(args: tuple[Any, ...], ctx: SchemaContext) -> dict[str, Any]:
    if not args:
        return {"type": "array"}
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": schema_for(args[0], ctx)}
    if args == ((),):  # tuple[()]
        return {"type": "array", "maxItems": 0}
    prefix = [schema_for(a, ctx) for a in args]
    return {
        "type": "array",
        "prefixItems": prefix,
        "items": False,
        "minItems": len(prefix),
        "maxItems": len(prefix),
    }


def _mapping(tp: Any, args: tuple[Any, ...], ctx: SchemaContext) -> dict[str, Any]:
    if not args:
        return {"type": "object"}
    key, value = args
    key_base = get_args(key)[0] if get_origin(key) is typing.Annotated else key
    if key_base is not str and get_origin(key_base) is not Literal:
        raise UnsupportedType(
            f"{_type_repr(tp)} has non-string keys; JSON object keys are strings, use dict[str, ...]"
        )
    schema: dict[str, Any] = {"type": "object", "additionalProperties": schema_for(value, ctx)}
    if get_origin(key_base) is Literal:
        schema["propertyNames"] = _literal(get_args(key_base))
    return schema


def _class_schema(tp: type, ctx: SchemaContext) -> dict[str, Any]:
    if issubclass(tp, enum.Enum):
        return _enum(tp)
    if tp is object:
        raise UnsupportedType(
            "type 'object' says nothing about the value; use a concrete type (or typing.Any)"
        )
    if tp in (bytes, bytearray, memoryview):
        raise UnsupportedType(f"type {tp.__name__!r} cannot be sent as JSON; use str")
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(tp, pydantic.BaseModel):
        return _pydantic(tp, ctx)
    if tp in ctx.stack:
        raise UnsupportedType(
            f"{tp.__qualname__} refers to itself; recursive dataclasses and TypedDicts are not supported "
            "(a pydantic model is)"
        )
    if typing.is_typeddict(tp):
        return _with_stack(tp, ctx, _typeddict)
    if dataclasses.is_dataclass(tp):
        return _with_stack(tp, ctx, _dataclass)
    if issubclass(tp, collections.abc.Callable):  # type: ignore[arg-type]
        raise UnsupportedType(f"{tp.__qualname__} is a callable, which cannot be sent as JSON")
    raise UnsupportedType(
        f"type {tp.__qualname__!r} is not supported; use str/int/float/bool, list, dict, Literal, "
        "an Enum, a TypedDict, a dataclass or a pydantic model"
    )


def _with_stack(
    tp: type, ctx: SchemaContext, build: Callable[[type, SchemaContext], dict[str, Any]]
) -> dict[str, Any]:
    ctx.stack.append(tp)
    try:
        return build(tp, ctx)
    finally:
        ctx.stack.pop()


def _enum(tp: type[enum.Enum]) -> dict[str, Any]:
    values = [member.value for member in tp]
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise UnsupportedType(f"enum {tp.__qualname__} has value {value!r}, which is not a JSON value")
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
        raise UnsupportedType(f"the type hints of {tp.__qualname__} cannot be resolved: {exc}") from exc


def _field_schema(owner: str, fname: str, hint: Any, ctx: SchemaContext) -> dict[str, Any]:
    try:
        return schema_for(hint, ctx)
    except UnsupportedType as exc:
        raise UnsupportedType(f"field {fname!r} of {owner}: {exc}") from exc


def _typeddict(tp: type, ctx: SchemaContext) -> dict[str, Any]:
    hints = _class_hints(tp)
    required_keys: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
    _, arg_docs = parse_docstring(inspect.getdoc(tp))
    props: dict[str, Any] = {}
    for fname, hint in hints.items():
        schema = _field_schema(tp.__qualname__, fname, hint, ctx)
        if fname in arg_docs and not described_by_annotation(hint):
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


def _dataclass(tp: type, ctx: SchemaContext) -> dict[str, Any]:
    hints = _class_hints(tp)
    _, arg_docs = parse_docstring(inspect.getdoc(tp))
    props: dict[str, Any] = {}
    required: list[str] = []
    for fld in dataclasses.fields(tp):
        if not fld.init:
            continue
        schema = _field_schema(tp.__qualname__, fld.name, hints.get(fld.name, fld.type), ctx)
        if not described_by_annotation(hints.get(fld.name)):
            desc = fld.metadata.get("description") if fld.metadata else None
            desc = desc if isinstance(desc, str) else arg_docs.get(fld.name)
            if desc:
                schema = {**schema, "description": desc}
        if fld.default is not dataclasses.MISSING:
            ok, value = json_default(fld.default)
            if ok:
                schema = {**schema, "default": value}
        elif fld.default_factory is dataclasses.MISSING:
            required.append(fld.name)
        props[fld.name] = schema
    schema = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    desc = _class_description(tp)
    return {**schema, "description": desc} if desc else schema


def _pydantic(tp: type, ctx: SchemaContext) -> dict[str, Any]:
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


def described_by_annotation(hint: Any) -> bool:
    """True when the hint itself carries a description (Annotated[X, "..."]), which wins."""
    while get_origin(hint) in (Required, NotRequired):
        hint = get_args(hint)[0]
    if get_origin(hint) is not typing.Annotated:
        return False
    return any(
        (isinstance(m, str) and m) or isinstance(getattr(m, "description", None), str)
        for m in hint.__metadata__
    )


def json_default(value: Any) -> tuple[bool, Any]:
    """(True, JSON form) when a default can be shown to the model, else (False, None)."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return True, json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return False, None


def admits_null(schema: dict[str, Any]) -> bool:
    if not schema:
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in schema.get("enum", [object()]):
        return True
    return any(admits_null(s) for s in schema.get("anyOf", []))


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    described = {k: schema[k] for k in ("description",) if k in schema}
    inner = {k: v for k, v in schema.items() if k != "description"}
    return {"anyOf": [inner, {"type": "null"}], **described}


def enforce_strict(schema: Any, label: str, path: str) -> None:
    """Strict mode: every object closed and every property required, or a clear error."""
    if isinstance(schema, list):
        for item in schema:
            enforce_strict(item, label, path)
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
            enforce_strict(sub, label, f"{path}.{pname}" if path else pname)
    for key in ("items", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in schema:
            enforce_strict(schema[key], label, path)
    for sub in schema.get("$defs", {}).values():
        enforce_strict(sub, label, path)
