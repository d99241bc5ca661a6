"""The schema-driven generator: values valid against the named schemas of ``schemas/``.

Requests, input items, tools and whole ``ResponseResource`` objects that pass the
validator. The schemas are read and the strategies built on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from anyllm.testing.strategies.values import (
    _ID_TAIL,
    _MAX_ITEMS,
    _MAX_OPTIONAL,
    _MAX_TEXT,
    Strategy,
    _json_schema_objects,
    _text,
    json_values,
)

if TYPE_CHECKING:
    from anyllm.testing.validate import SchemaStore

__all__ = [
    "SchemaStrategies",
    "create_response_bodies",
    "from_schema",
    "input_items",
    "response_resources",
    "tools",
]


class SchemaStrategies:
    """Strategies for the named schemas of one :class:`SchemaStore`, built on demand."""

    def __init__(
        self, store: SchemaStore, overrides: Mapping[str, Callable[[], Strategy]] | None = None
    ) -> None:
        self.store = store
        self.overrides = dict(overrides or {})
        self._named: dict[str, Strategy] = {}

    def named(self, name: str) -> Strategy:
        strategy = self._named.get(name)
        if strategy is None:
            if name in self.overrides:
                strategy = self.overrides[name]()
            else:
                # deferred: a schema may refer back to itself through its members
                strategy = st.deferred(lambda: self.node(self.store.schemas[name]))
            self._named[name] = strategy
        return strategy

    def _ref(self, ref: str) -> Strategy:
        target, _, pointer = ref.partition("#")
        name = target.rsplit("/", 1)[-1].removesuffix(".json")
        if not pointer:
            return self.named(name)
        node: Any = self.store.schemas[name]
        for key in pointer.strip("/").split("/"):
            node = node[int(key)] if isinstance(node, list) else node[key]
        return self.node(node)

    def _deref(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node and "#" not in node["$ref"]:
            node = self.store.schemas[node["$ref"].rsplit("/", 1)[-1].removesuffix(".json")]
        return node

    def node(self, node: Any) -> Strategy:
        if node is True or node == {}:
            return json_values()
        if node is False:
            return st.nothing()
        if "$ref" in node:
            return self._ref(node["$ref"])
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if "allOf" in node:
            return self.node(self._merge(node["allOf"]))
        for key in ("oneOf", "anyOf"):
            if key in node:
                return st.one_of([self.node(branch) for branch in node[key]])
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([self.node({**node, "type": k}) for k in kind])
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            low = node.get("minimum", -10)
            return st.integers(min_value=low, max_value=node.get("maximum", max(low, 0) + 10**6))
        if kind == "number":
            return st.floats(
                min_value=node.get("minimum", -1e6),
                max_value=node.get("maximum", 1e6),
                allow_nan=False,
                allow_infinity=False,
            )
        if kind == "string":
            return self._string(node)
        if kind == "array":
            items = self.node(node.get("items", {}))
            low = node.get("minItems", 0)
            return st.lists(
                items, min_size=low, max_size=max(low, min(node.get("maxItems", _MAX_ITEMS), _MAX_ITEMS))
            )
        if kind == "object" or "properties" in node:
            return self._object(node)
        return json_values()

    def _merge(self, members: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for member in members:
            resolved = self._deref(member)
            for key, value in resolved.items():
                if key == "properties":
                    merged.setdefault("properties", {}).update(value)
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", []), *value})
                elif key not in ("description", "$id", "$schema", "title"):
                    merged.setdefault(key, value)
        return merged

    @staticmethod
    def _string(node: Mapping[str, Any]) -> Strategy:
        low = node.get("minLength", 0)
        high = max(low, min(node.get("maxLength", _MAX_TEXT), _MAX_TEXT))
        pattern = node.get("pattern")
        if pattern:
            return st.from_regex(pattern, fullmatch=True).filter(
                lambda s: low <= len(s) <= node.get("maxLength", 1e9)
            )
        return _text(low, high)

    def _object(self, node: Mapping[str, Any]) -> Strategy:
        props: dict[str, Any] = dict(node.get("properties", {}))
        required = [name for name in node.get("required", [])]
        extra = node.get("additionalProperties")
        if not props and extra not in (None, False):
            values = self.node(extra)
            size = min(node.get("maxProperties", 4), 4)
            return st.dictionaries(_text(max_size=8), values, max_size=size)
        if not props and not required:
            return st.dictionaries(_text(max_size=8), json_values(4), max_size=3)
        fixed = {name: self.node(props[name]) if name in props else st.none() | _text() for name in required}
        optional = sorted(name for name in props if name not in fixed)
        if not optional:
            return st.fixed_dictionaries(fixed)
        strategies = {name: self.node(props[name]) for name in optional}
        chosen = st.lists(st.sampled_from(optional), max_size=min(_MAX_OPTIONAL, len(optional)), unique=True)

        @st.composite
        def sparse(draw: st.DrawFn) -> dict[str, Any]:
            out = draw(st.fixed_dictionaries(fixed))
            for name in draw(chosen):
                out[name] = draw(strategies[name])
            return out

        return sparse()


def _overrides() -> dict[str, Callable[[], Strategy]]:
    """Hand-tuned corners: free-form JSON Schemas where the spec says only 'object'."""
    return {"EmptyModelParam": _json_schema_objects}


@functools.cache
def _generator() -> SchemaStrategies:
    from anyllm.testing.validate import default_store

    return SchemaStrategies(default_store(), _overrides())


def from_schema(name: str) -> Strategy:
    """Values valid against the named schema of ``schemas/`` (e.g. ``"ItemParam"``)."""
    return _generator().named(name)


def input_items() -> Strategy:
    """One input item of any spec type (``ItemParam``)."""
    return from_schema("ItemParam")


def tools() -> Strategy:
    """One request tool (``ResponsesToolParam``)."""
    return from_schema("ResponsesToolParam")


def create_response_bodies(*, model: str | None = "fuzz-model") -> Strategy:
    """Request bodies valid against ``CreateResponseBody``; ``model`` fixed unless None,
    ``input`` always present (a string or a list of items)."""
    body = from_schema("CreateResponseBody")
    inputs = _text(1) | st.lists(input_items(), min_size=1, max_size=_MAX_ITEMS)

    def fix(value: dict[str, Any], text_input: Any) -> dict[str, Any]:
        value = dict(value)
        if model is not None:
            value["model"] = model
        if value.get("input") is None:
            value["input"] = text_input
        return value

    return st.builds(fix, body, inputs)


# --- Responses that pass the validator -----------------------------------------------------------

_STATUSES = ("completed", "incomplete", "failed", "in_progress", "queued", "cancelled")


def _consistent(resource: dict[str, Any], status: str, unique: list[str]) -> dict[str, Any]:
    """Make a schema-valid ResponseResource obey the prose rules too (status vs error and
    incomplete_details, unique item ids, incomplete items last, no in_progress in completed)."""
    out = dict(resource)
    out["status"] = status
    items = [dict(item) for item in out.get("output", [])]
    for index, item in enumerate(items):
        item["id"] = f"{unique[index % len(unique)]}_{index}"
        if "status" in item:
            if item["status"] == "incomplete" and (status != "incomplete" or index != len(items) - 1):
                item["status"] = "completed"
            if item["status"] == "in_progress" and status == "completed":
                item["status"] = "completed"
    out["output"] = items
    if status == "failed" and not out.get("error"):
        out["error"] = {"code": "server_error", "message": "failed"}
    if status == "incomplete" and not out.get("incomplete_details"):
        out["incomplete_details"] = {"reason": "max_output_tokens"}
    return out


def response_resources() -> Strategy:
    """ResponseResource dicts that pass ``validate_response`` with no error."""
    return st.builds(
        _consistent,
        from_schema("ResponseResource"),
        st.sampled_from(_STATUSES),
        st.lists(_ID_TAIL.map(lambda tail: f"item_{tail}"), min_size=1, max_size=1),
    )
