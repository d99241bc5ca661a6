"""Python callables -> function tool schemas: a table of signatures with exact expected schemas.

This module uses ``from __future__ import annotations`` on purpose: every hint is a string
and must be resolved with ``typing.get_type_hints`` (one row is compiled without it).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Dict, List, Literal, NewType, NotRequired, Optional, TypedDict  # noqa: UP035

import pytest
from jsonschema.validators import Draft202012Validator
from pydantic import BaseModel, Field

from anyllm.errors import InvalidRequestError
from anyllm.tools import callable_to_tool, normalize_tools


def obj(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    """The closed object schema the library emits for functions, dataclasses and TypedDicts."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **extra,
    }


# ------------------------------------------------------------------ types used in signatures


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Movie(TypedDict):
    """A film."""

    title: str
    year: NotRequired[int]


@dataclass
class Point:
    """A point on the plane."""

    x: float
    y: float = 0.0
    tags: list[str] = dataclasses.field(default_factory=list)
    label: str = dataclasses.field(default="origin", metadata={"description": "shown on the map"})


@dataclass
class Undocumented:
    a: int


class Address(BaseModel):
    """Where someone lives."""

    street: str
    city: str = "Paris"


class Person(BaseModel):
    name: str
    home: Address


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


UserId = NewType("UserId", int)

ADDRESS_SCHEMA = {
    "description": "Where someone lives.",
    "properties": {
        "street": {"title": "Street", "type": "string"},
        "city": {"default": "Paris", "title": "City", "type": "string"},
    },
    "required": ["street"],
    "title": "Address",
    "type": "object",
}
TREE_SCHEMA = {
    "properties": {
        "value": {"title": "Value", "type": "integer"},
        "children": {
            "default": [],
            "items": {"$ref": "#/$defs/TreeNode"},
            "title": "Children",
            "type": "array",
        },
    },
    "required": ["value"],
    "title": "TreeNode",
    "type": "object",
}

# ------------------------------------------------------------------ the signatures


def scalars(s: str, i: int, x: float, b: bool) -> None:
    """Four scalars."""


def none_only(nothing: None) -> None: ...


def list_of_str(tags: list[str]) -> None: ...


def dict_str_int(counts: dict[str, int]) -> None: ...


def tuple_fixed(pair: tuple[int, str]) -> None: ...


def tuple_variadic(values: tuple[float, ...]) -> None: ...


def set_of_int(ids: set[int], names: frozenset[str]) -> None: ...


def optional_typing(x: Optional[int]) -> None: ...  # noqa: UP045


def pipe_none_default(x: str | None = None) -> None: ...


def implicit_optional(limit: int = None) -> None: ...  # type: ignore[assignment]  # noqa: RUF013


def defaults(a: int = 3, b: str = "x", c: tuple[int, ...] = (1, 2), d: float = float("nan")) -> None: ...


def literal_str(unit: Literal["celsius", "fahrenheit"]) -> None: ...


def literal_mixed(v: Literal["a", 1, None]) -> None: ...


def str_enum(color: Color = Color.RED) -> None: ...


def int_enum(priority: Priority) -> None: ...


def nested(matrix: list[list[float]], index: dict[str, list[str]]) -> None: ...


def union(v: int | str) -> None: ...


def typed_dict(movie: Movie) -> None: ...


def with_dataclass(point: Point, other: Undocumented) -> None: ...


def pydantic_model(address: Address) -> None: ...


def pydantic_nested(person: Person) -> None: ...


def pydantic_recursive(tree: TreeNode) -> None: ...


def annotated_str(city: Annotated[str, "The city name"]) -> None: ...


def annotated_field(n: Annotated[int, Field(description="How many", ge=1, le=10)] = 1) -> None: ...


def annotated_string_constraints(
    code: Annotated[str, Field(min_length=2, max_length=3, pattern="^[A-Z]+$")],
) -> None: ...


async def async_fn(query: str) -> str:
    """Search asynchronously."""
    return query


def google(city: str, days: int = 1) -> None:
    """Get the forecast.

    Looks the city up first, then asks the weather service.

    Args:
        city: The city, e.g. "Paris". Spelled
            in English.
        days (int): How many days ahead.

    Returns:
        The forecast.
    """


def numpy_style(city: str, days: int) -> None:
    """Get the forecast.

    Parameters
    ----------
    city : str
        The city.
    days : int
        Days ahead,
        at most 7.

    Returns
    -------
    str
        The forecast.
    """


def sphinx(city: str, days: int) -> None:
    """Get the forecast.

    :param city: The city.
    :type city: str
    :param int days: Days ahead,
        at most 7.
    :returns: The forecast.
    """


def annotation_beats_docstring(city: Annotated[str, "From the annotation"]) -> None:
    """Doc.

    Args:
        city: From the docstring.
    """


def keyword_only(*, a: int, b: bool = False) -> None: ...


def any_value(payload: Any) -> None: ...


def literal_keys(scores: dict[Literal["low", "high"], float]) -> None: ...


def new_type(user: UserId) -> None: ...


def legacy_generics(a: List[int], b: Dict[str, bool], c: Sequence[str]) -> None: ...  # noqa: UP006


class Weather:
    def lookup(self, city: str) -> str:
        """Look up the weather of a city."""
        return city


class Adder:
    """Add two numbers."""

    def __call__(self, a: int, b: int) -> int:
        return a + b


def to_partial(city: str, units: Literal["c", "f"], api_key: str) -> None:
    """Forecast with a bound key."""


_NO_FUTURE: dict[str, Any] = {}
exec(  # a module without `from __future__ import annotations`: hints are real objects
    compile("def plain(n: int, names: list[str] | None = None) -> None: ...", "<no_future>", "exec"),
    _NO_FUTURE,
)

# (id, callable, expected name, expected description or None, expected parameters, valid sample)
ROWS: list[tuple[str, Callable[..., Any], str, str | None, dict[str, Any], dict[str, Any]]] = [
    (
        "scalars",
        scalars,
        "scalars",
        "Four scalars.",
        obj(
            {
                "s": {"type": "string"},
                "i": {"type": "integer"},
                "x": {"type": "number"},
                "b": {"type": "boolean"},
            },
            ["s", "i", "x", "b"],
        ),
        {"s": "a", "i": 1, "x": 1.5, "b": True},
    ),
    (
        "none",
        none_only,
        "none_only",
        None,
        obj({"nothing": {"type": "null"}}, ["nothing"]),
        {"nothing": None},
    ),
    (
        "list",
        list_of_str,
        "list_of_str",
        None,
        obj({"tags": {"type": "array", "items": {"type": "string"}}}, ["tags"]),
        {"tags": ["a", "b"]},
    ),
    (
        "dict",
        dict_str_int,
        "dict_str_int",
        None,
        obj({"counts": {"type": "object", "additionalProperties": {"type": "integer"}}}, ["counts"]),
        {"counts": {"a": 1}},
    ),
    (
        "tuple_fixed",
        tuple_fixed,
        "tuple_fixed",
        None,
        obj(
            {
                "pair": {
                    "type": "array",
                    "prefixItems": [{"type": "integer"}, {"type": "string"}],
                    "items": False,
                    "minItems": 2,
                    "maxItems": 2,
                }
            },
            ["pair"],
        ),
        {"pair": [1, "a"]},
    ),
    (
        "tuple_variadic",
        tuple_variadic,
        "tuple_variadic",
        None,
        obj({"values": {"type": "array", "items": {"type": "number"}}}, ["values"]),
        {"values": [1.0, 2]},
    ),
    (
        "set",
        set_of_int,
        "set_of_int",
        None,
        obj(
            {
                "ids": {"type": "array", "uniqueItems": True, "items": {"type": "integer"}},
                "names": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
            },
            ["ids", "names"],
        ),
        {"ids": [1, 2], "names": []},
    ),
    (
        "optional_typing",
        optional_typing,
        "optional_typing",
        None,
        obj({"x": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}, ["x"]),
        {"x": None},
    ),
    (
        "pipe_none_default",
        pipe_none_default,
        "pipe_none_default",
        None,
        obj({"x": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}, []),
        {},
    ),
    (
        "implicit_optional",
        implicit_optional,
        "implicit_optional",
        None,
        obj({"limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}}, []),
        {"limit": None},
    ),
    (
        "defaults",
        defaults,
        "defaults",
        None,
        obj(
            {
                "a": {"type": "integer", "default": 3},
                "b": {"type": "string", "default": "x"},
                "c": {"type": "array", "items": {"type": "integer"}, "default": [1, 2]},
                "d": {"type": "number"},  # NaN is not JSON: no default shown
            },
            [],
        ),
        {"a": 5},
    ),
    (
        "literal",
        literal_str,
        "literal_str",
        None,
        obj({"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, ["unit"]),
        {"unit": "celsius"},
    ),
    (
        "literal_mixed",
        literal_mixed,
        "literal_mixed",
        None,
        obj({"v": {"enum": ["a", 1, None]}}, ["v"]),
        {"v": None},
    ),
    (
        "str_enum",
        str_enum,
        "str_enum",
        None,
        obj({"color": {"type": "string", "enum": ["red", "green"], "default": "red"}}, []),
        {"color": "green"},
    ),
    (
        "int_enum",
        int_enum,
        "int_enum",
        None,
        obj({"priority": {"type": "integer", "enum": [1, 2]}}, ["priority"]),
        {"priority": 2},
    ),
    (
        "nested",
        nested,
        "nested",
        None,
        obj(
            {
                "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "index": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            ["matrix", "index"],
        ),
        {"matrix": [[1.0, 2.0]], "index": {"k": ["v"]}},
    ),
    (
        "union",
        union,
        "union",
        None,
        obj({"v": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}, ["v"]),
        {"v": "x"},
    ),
    (
        "typed_dict",
        typed_dict,
        "typed_dict",
        None,
        obj(
            {
                "movie": obj(
                    {"title": {"type": "string"}, "year": {"type": "integer"}},
                    ["title"],
                    description="A film.",
                )
            },
            ["movie"],
        ),
        {"movie": {"title": "Alien"}},
    ),
    (
        "dataclass",
        with_dataclass,
        "with_dataclass",
        None,
        obj(
            {
                "point": obj(
                    {
                        "x": {"type": "number"},
                        "y": {"type": "number", "default": 0.0},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "label": {"type": "string", "description": "shown on the map", "default": "origin"},
                    },
                    ["x"],
                    description="A point on the plane.",
                ),
                "other": obj({"a": {"type": "integer"}}, ["a"]),  # no auto-generated "Undocumented(a: int)"
            },
            ["point", "other"],
        ),
        {"point": {"x": 1, "tags": ["a"]}, "other": {"a": 1}},
    ),
    (
        "pydantic",
        pydantic_model,
        "pydantic_model",
        None,
        obj({"address": ADDRESS_SCHEMA}, ["address"]),
        {"address": {"street": "1 rue X"}},
    ),
    (
        "pydantic_nested_inlined",
        pydantic_nested,
        "pydantic_nested",
        None,
        obj(
            {
                "person": {
                    "properties": {"name": {"title": "Name", "type": "string"}, "home": ADDRESS_SCHEMA},
                    "required": ["name", "home"],
                    "title": "Person",
                    "type": "object",
                }
            },
            ["person"],
        ),
        {"person": {"name": "Ada", "home": {"street": "s", "city": "c"}}},
    ),
    (
        "pydantic_recursive_defs",
        pydantic_recursive,
        "pydantic_recursive",
        None,
        obj({"tree": TREE_SCHEMA}, ["tree"], **{"$defs": {"TreeNode": TREE_SCHEMA}}),
        {"tree": {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}},
    ),
    (
        "annotated_str",
        annotated_str,
        "annotated_str",
        None,
        obj({"city": {"type": "string", "description": "The city name"}}, ["city"]),
        {"city": "Paris"},
    ),
    (
        "annotated_field",
        annotated_field,
        "annotated_field",
        None,
        obj(
            {"n": {"type": "integer", "description": "How many", "minimum": 1, "maximum": 10, "default": 1}},
            [],
        ),
        {"n": 10},
    ),
    (
        "annotated_string_constraints",
        annotated_string_constraints,
        "annotated_string_constraints",
        None,
        obj({"code": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[A-Z]+$"}}, ["code"]),
        {"code": "FR"},
    ),
    (
        "async",
        async_fn,
        "async_fn",
        "Search asynchronously.",
        obj({"query": {"type": "string"}}, ["query"]),
        {"query": "q"},
    ),
    (
        "google_docstring",
        google,
        "google",
        "Get the forecast.\n\nLooks the city up first, then asks the weather service.",
        obj(
            {
                "city": {"type": "string", "description": 'The city, e.g. "Paris". Spelled in English.'},
                "days": {"type": "integer", "description": "How many days ahead.", "default": 1},
            },
            ["city"],
        ),
        {"city": "Paris"},
    ),
    (
        "numpy_docstring",
        numpy_style,
        "numpy_style",
        "Get the forecast.",
        obj(
            {
                "city": {"type": "string", "description": "The city."},
                "days": {"type": "integer", "description": "Days ahead, at most 7."},
            },
            ["city", "days"],
        ),
        {"city": "Paris", "days": 2},
    ),
    (
        "sphinx_docstring",
        sphinx,
        "sphinx",
        "Get the forecast.",
        obj(
            {
                "city": {"type": "string", "description": "The city."},
                "days": {"type": "integer", "description": "Days ahead, at most 7."},
            },
            ["city", "days"],
        ),
        {"city": "Paris", "days": 2},
    ),
    (
        "annotation_beats_docstring",
        annotation_beats_docstring,
        "annotation_beats_docstring",
        "Doc.",
        obj({"city": {"type": "string", "description": "From the annotation"}}, ["city"]),
        {"city": "x"},
    ),
    (
        "keyword_only",
        keyword_only,
        "keyword_only",
        None,
        obj({"a": {"type": "integer"}, "b": {"type": "boolean", "default": False}}, ["a"]),
        {"a": 1},
    ),
    ("any", any_value, "any_value", None, obj({"payload": {}}, ["payload"]), {"payload": [1, {"x": None}]}),
    (
        "literal_keys",
        literal_keys,
        "literal_keys",
        None,
        obj(
            {
                "scores": {
                    "type": "object",
                    "additionalProperties": {"type": "number"},
                    "propertyNames": {"type": "string", "enum": ["low", "high"]},
                }
            },
            ["scores"],
        ),
        {"scores": {"low": 0.5}},
    ),
    ("new_type", new_type, "new_type", None, obj({"user": {"type": "integer"}}, ["user"]), {"user": 7}),
    (
        "legacy_generics",
        legacy_generics,
        "legacy_generics",
        None,
        obj(
            {
                "a": {"type": "array", "items": {"type": "integer"}},
                "b": {"type": "object", "additionalProperties": {"type": "boolean"}},
                "c": {"type": "array", "items": {"type": "string"}},
            },
            ["a", "b", "c"],
        ),
        {"a": [1], "b": {"x": True}, "c": ["s"]},
    ),
    (
        "bound_method",
        Weather().lookup,
        "lookup",
        "Look up the weather of a city.",
        obj({"city": {"type": "string"}}, ["city"]),
        {"city": "Oslo"},
    ),
    (
        "callable_instance",
        Adder(),
        "Adder",
        "Add two numbers.",
        obj({"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"]),
        {"a": 1, "b": 2},
    ),
    (
        "partial",
        functools.partial(to_partial, api_key="secret"),
        "to_partial",
        "Forecast with a bound key.",
        # Arguments bound by keyword are the caller's (often a secret): absent from the schema.
        obj({"city": {"type": "string"}, "units": {"type": "string", "enum": ["c", "f"]}}, ["city", "units"]),
        {"city": "Rome", "units": "c"},
    ),
    (
        "partial_positional",
        functools.partial(to_partial, "Rome"),
        "to_partial",
        "Forecast with a bound key.",
        obj(
            {"units": {"type": "string", "enum": ["c", "f"]}, "api_key": {"type": "string"}},
            ["units", "api_key"],
        ),
        {"units": "f", "api_key": "k"},
    ),
    (
        "no_future_import",
        _NO_FUTURE["plain"],
        "plain",
        None,
        obj(
            {
                "n": {"type": "integer"},
                "names": {
                    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
                    "default": None,
                },
            },
            ["n"],
        ),
        {"n": 1, "names": ["a"]},
    ),
]


@pytest.mark.parametrize(
    ("fn", "name", "description", "parameters", "sample"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_signature_table(
    fn: Callable[..., Any],
    name: str,
    description: str | None,
    parameters: dict[str, Any],
    sample: dict[str, Any],
) -> None:
    tool = callable_to_tool(fn)
    assert tool["parameters"] == parameters
    expected = {"type": "function", "name": name, "parameters": parameters, "strict": False}
    if description is not None:
        expected["description"] = description
    assert tool == expected
    json.dumps(tool)  # the whole definition is JSON


@pytest.mark.parametrize(("fn", "sample"), [(r[1], r[5]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_generated_schema_is_valid_and_accepts_sample(fn: Callable[..., Any], sample: dict[str, Any]) -> None:
    parameters = callable_to_tool(fn)["parameters"]
    Draft202012Validator.check_schema(parameters)
    validator = Draft202012Validator(parameters)
    validator.validate(sample)
    # The root is closed: an argument the function does not take is rejected.
    assert not validator.is_valid({**sample, "not_a_parameter": 1})


def test_samples_are_rejected_when_wrong() -> None:
    """The schemas constrain something: type, enum, bounds, required and nested shapes."""
    cases: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (scalars, {"s": "a", "i": 1.5, "x": 1.0, "b": True}),
        (literal_str, {"unit": "kelvin"}),
        (str_enum, {"color": "blue"}),
        (annotated_field, {"n": 11}),
        (tuple_fixed, {"pair": [1, "a", 3]}),
        (set_of_int, {"ids": [1, 1], "names": []}),
        (typed_dict, {"movie": {"year": 1979}}),
        (with_dataclass, {"point": {"x": 1, "z": 2}, "other": {"a": 1}}),
        (pydantic_recursive, {"tree": {"value": 1, "children": [{"children": []}]}}),
        (literal_keys, {"scores": {"medium": 1.0}}),
        (google, {}),
    ]
    for fn, bad in cases:
        assert not Draft202012Validator(callable_to_tool(fn)["parameters"]).is_valid(bad), fn.__name__


def test_tool_matches_spec_function_tool_param() -> None:
    """Every generated tool is a valid FunctionToolParam of the official OpenAPI document."""
    doc = _spec_document()
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/ResponsesToolParam", "components": doc["components"]}
    )
    for row in ROWS:
        tool = callable_to_tool(row[1])
        assert validator.is_valid(tool), (row[0], [e.message for e in validator.iter_errors(tool)])
    assert not validator.is_valid({"type": "function", "name": "bad name!"})


def _spec_document() -> dict[str, Any]:
    try:
        from importlib.resources import files

        return dict(json.loads((files("openresponses") / "openapi" / "2026-04-24.json").read_text()))
    except (ImportError, FileNotFoundError):
        spec = Path(__file__).resolve().parents[2] / "shared" / "openresponses" / "openapi.json"
        if not spec.is_file():
            pytest.skip("the OpenResponses OpenAPI document is not available")
        return dict(json.loads(spec.read_text()))


class Home(BaseModel):
    street: str


class Owner(BaseModel):
    name: str
    nickname: str | None
    home: Home


def strict_ok(owner: Owner, tags: list[str], when: str | None) -> None: ...


def test_overrides_and_strict_mode() -> None:
    tool = callable_to_tool(scalars, name="renamed", description="Custom.", strict=True)
    assert tool["name"] == "renamed"
    assert tool["description"] == "Custom."
    assert tool["strict"] is True
    nested_strict = callable_to_tool(typed_dict, strict=False)
    assert "additionalProperties" in nested_strict["parameters"]["properties"]["movie"]

    params = callable_to_tool(strict_ok, strict=True)["parameters"]
    assert params["additionalProperties"] is False
    assert params["required"] == ["owner", "tags", "when"]
    assert params["properties"]["owner"]["additionalProperties"] is False  # pydantic objects closed
    assert params["properties"]["owner"]["properties"]["home"]["additionalProperties"] is False
    assert "additionalProperties" not in callable_to_tool(strict_ok)["parameters"]["properties"]["owner"]
    Draft202012Validator.check_schema(params)
    sample = {"owner": {"name": "a", "nickname": None, "home": {"street": "s"}}, "tags": [], "when": None}
    Draft202012Validator(params).validate(sample)


# ------------------------------------------------------------------ errors


def _missing_hint(city, days: int) -> None: ...  # type: ignore[no-untyped-def]


def _var_positional(*cities: str) -> None: ...


def _var_keyword(**options: str) -> None: ...


def _positional_only(city: str, /, days: int) -> None: ...


def _bare_object(thing: object) -> None: ...


def _callable_param(callback: Callable[[int], str]) -> None: ...


def _bytes_param(blob: bytes) -> None: ...


def _int_keys(table: dict[int, str]) -> None: ...


def _unresolvable(widget: UndefinedWidget) -> None: ...  # type: ignore[name-defined]  # noqa: F821


class _Custom:
    pass


def _custom_class(value: _Custom) -> None: ...


def _nested_unsupported(items: list[object]) -> None: ...


@dataclass
class _BadField:
    fn: Callable[[], None]


def _bad_dataclass_field(config: _BadField) -> None: ...


@dataclass
class _Linked:
    next: _Linked | None


def _recursive_dataclass(head: _Linked) -> None: ...


class _ObjectEnum(enum.Enum):
    A = object()


def _object_enum(v: _ObjectEnum) -> None: ...


def _strict_default(city: str, days: int = 3) -> None: ...


def _strict_dict(meta: dict[str, str]) -> None: ...


ERRORS: list[tuple[str, Any, dict[str, Any], list[str]]] = [
    ("missing_hint", _missing_hint, {}, ["'_missing_hint'", "'city'", "no type hint"]),
    ("var_positional", _var_positional, {}, ["'*cities'", "variadic"]),
    ("var_keyword", _var_keyword, {}, ["'**options'", "variadic"]),
    ("positional_only", _positional_only, {}, ["'city'", "positional-only"]),
    ("bare_object", _bare_object, {}, ["'thing'", "'object'"]),
    ("callable", _callable_param, {}, ["'callback'", "callable"]),
    ("bytes", _bytes_param, {}, ["'blob'", "'bytes'"]),
    ("int_keys", _int_keys, {}, ["'table'", "non-string keys"]),
    ("unresolvable", _unresolvable, {}, ["'widget'", "UndefinedWidget"]),
    ("custom_class", _custom_class, {}, ["'value'", "_Custom", "not supported"]),
    ("nested_unsupported", _nested_unsupported, {}, ["'items'", "'object'"]),
    ("dataclass_field", _bad_dataclass_field, {}, ["'config'", "field 'fn' of _BadField", "callable"]),
    ("recursive_dataclass", _recursive_dataclass, {}, ["'head'", "_Linked refers to itself"]),
    ("object_enum", _object_enum, {}, ["'v'", "not a JSON value"]),
    ("lambda_name", lambda x: x, {}, ["'<lambda>'", "name=..."]),
    ("bad_name_override", scalars, {"name": "has space"}, ["'has space'"]),
    ("class_not_function", Address, {}, ["class 'Address'", "pass a function"]),
    ("not_callable", 42, {}, ["not callable"]),
    ("strict_default", _strict_default, {"strict": True}, ["'days'", "strict", "default"]),
    ("strict_open_dict", _strict_dict, {"strict": True}, ["meta", "open mapping"]),
    ("strict_pydantic_default", pydantic_model, {"strict": True}, ["'address.city'", "strict"]),
]


@pytest.mark.parametrize(("fn", "kwargs", "fragments"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_function_and_parameter(
    fn: Any, kwargs: dict[str, Any], fragments: list[str]
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        callable_to_tool(fn, **kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


# ------------------------------------------------------------------ normalize_tools

CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time.",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
        "strict": True,
    },
}
RESPONSES_TOOL = {
    "type": "function",
    "name": "get_date",
    "description": "Today's date.",
    "parameters": {"type": "object", "properties": {}},
}


def test_normalize_mixed_list() -> None:
    hosted = {"type": "web_search_preview"}
    tools = normalize_tools([scalars, CHAT_TOOL, RESPONSES_TOOL, hosted])
    assert tools == [
        callable_to_tool(scalars),
        {
            "type": "function",
            "name": "get_time",
            "description": "Current time.",
            "parameters": CHAT_TOOL["function"]["parameters"],  # type: ignore[index]
            "strict": True,
        },
        RESPONSES_TOOL,
        hosted,
    ]
    assert normalize_tools(None) is None
    assert normalize_tools([]) == []
    assert normalize_tools((RESPONSES_TOOL,)) == [RESPONSES_TOOL]


def test_normalize_chat_shape_minimal() -> None:
    assert normalize_tools([{"type": "function", "function": {"name": "ping"}}]) == [
        {"type": "function", "name": "ping"}
    ]


NORMALIZE_ERRORS: list[tuple[str, Any, list[str]]] = [
    ("not_a_list", scalars, ["tools must be a list", "function"]),
    ("dict_not_list", RESPONSES_TOOL, ["tools must be a list", "dict"]),
    ("bad_item", [RESPONSES_TOOL, "get_weather"], ["tools[1]", "expected a dict or a callable", "str"]),
    ("no_type", [{"name": "x", "parameters": {}}], ["tools[0]", "no 'type'"]),
    ("bad_name", [{"type": "function", "name": "with space"}], ["tools[0]", "'with space'"]),
    ("missing_name", [scalars, {"type": "function", "parameters": {}}], ["tools[1]", "'name'", "None"]),
    ("chat_missing_name", [{"type": "function", "function": {"parameters": {}}}], ["tools[0]", "'name'"]),
    (
        "params_not_dict",
        [{"type": "function", "name": "f", "parameters": "{}"}],
        ["tools[0]", "JSON Schema object"],
    ),
    ("strict_not_bool", [{"type": "function", "name": "f", "strict": "yes"}], ["tools[0]", "'strict'"]),
    ("chat_wrong_type", [{"type": "tool", "function": {"name": "f"}}], ["tools[0]", "'tool'"]),
    ("mixed_shape", [{"type": "function", "name": "f", "function": {"name": "f"}}], ["tools[0]", "mixes"]),
    ("function_not_object", [{"type": "function", "name": "f", "function": "f"}], ["tools[0]", "'function'"]),
    (
        "duplicate",
        [scalars, {"type": "function", "function": {"name": "scalars"}}],
        ["tools[1]", "duplicate", "'scalars'", "tools[0]"],
    ),
    ("callable_error_indexed", [RESPONSES_TOOL, _missing_hint], ["tools[1]", "'city'", "no type hint"]),
]


@pytest.mark.parametrize(
    ("tools", "fragments"), [e[1:] for e in NORMALIZE_ERRORS], ids=[e[0] for e in NORMALIZE_ERRORS]
)
def test_normalize_errors(tools: Any, fragments: list[str]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        normalize_tools(tools)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


def test_import_does_not_load_pydantic() -> None:
    code = textwrap.dedent(
        """
        import sys
        import anyllm.tools
        print("pydantic" in sys.modules)
        """
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo,
        env={"PYTHONPATH": str(repo)},
    )
    assert out.stdout.strip() == "False", out.stderr
