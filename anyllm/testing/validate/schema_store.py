"""The generated OpenResponses schemas, loaded once and compiled lazily (jsonschema-rs).

Besides the files of ``schemas/`` the store derives, per profile, "shells" of the schemas
that hold unions (the union properties blanked, OpenAI's relaxed fields made optional), so
a failure can be re-checked member by member (:mod:`.schema_check`). Loading the store
reads the JSON files; jsonschema-rs is imported on the first compile only.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from anyllm.testing import rules as R

__all__ = ["UNIONS", "UNION_SITES", "SchemaStore", "default_store"]

# Where a schema holds a union (or an object with its own rules): property -> (kind, is array).
# On failure the schema is re-checked with these properties blanked ("shell") and each
# value is dispatched on its `type`.
UNION_SITES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "ResponseResource": (
        ("output", "item", True),
        ("tools", "tool", True),
        ("tool_choice", "tool_choice", False),
        ("text", "obj:TextField", False),
        ("reasoning", "obj:Reasoning", False),
    ),
    "CompactResource": (("output", "item", True),),
    "TextField": (("format", "text_format", False),),
    "Reasoning": (),
    "Message": (("content", "part", True),),
    "OutputTextContent": (("annotations", "annotation", True),),
    "CreateResponseBody": (
        ("input", "input_item", True),
        ("tools", "tool_param", True),
        ("tool_choice", "tool_choice_param", False),
        ("text", "obj:TextParam", False),
        ("include", "include", True),
    ),
    "UserMessageItemParam": (("content", "user_part", True),),
    "AssistantMessageItemParam": (("content", "assistant_part", True),),
    "OutputTextContentParam": (("annotations", "annotation_param", True),),
    "TextParam": (("format", "text_format_param", False),),
    "ResponseOutputItemAddedStreamingEvent": (("item", "item", False),),
    "ResponseOutputItemDoneStreamingEvent": (("item", "item", False),),
    "ResponseContentPartAddedStreamingEvent": (("part", "part", False),),
    "ResponseContentPartDoneStreamingEvent": (("part", "part", False),),
    "ResponseOutputTextAnnotationAddedStreamingEvent": (("annotation", "annotation", False),),
}
for _envelope in (
    "ResponseCreatedStreamingEvent",
    "ResponseQueuedStreamingEvent",
    "ResponseInProgressStreamingEvent",
    "ResponseCompletedStreamingEvent",
    "ResponseFailedStreamingEvent",
    "ResponseIncompleteStreamingEvent",
):
    UNION_SITES[_envelope] = (("response", "obj:ResponseResource", False),)

# Union members per dispatch kind: (schema holding the union, JSON pointer to the oneOf).
UNIONS: dict[str, tuple[str, str]] = {
    "item": ("ItemField", "/oneOf"),
    "input_item": ("ItemParam", "/oneOf"),
    "tool": ("Tool", "/oneOf"),
    "tool_param": ("ResponsesToolParam", "/oneOf"),
    "part": ("Message", "/properties/content/items/oneOf"),
    "annotation": ("Annotation", "/oneOf"),
    "user_part": ("UserMessageItemParam", "/properties/content/oneOf/0/items/oneOf"),
    "assistant_part": ("AssistantMessageItemParam", "/properties/content/oneOf/0/items/oneOf"),
    "annotation_param": ("OutputTextContentParam", "/properties/annotations/oneOf/0/items"),
}


def union_pointer(kind: str) -> str:
    """The schema (``Name`` or ``Name#/pointer``) a member of a union kind must match."""
    owner, pointer = UNIONS[kind]
    return owner if pointer == "/oneOf" else f"{owner}#{pointer.removesuffix('/oneOf')}"


def _locate_schema_dir() -> Path:
    env = os.environ.get("ANYLLM_SCHEMAS_DIR")
    if env:
        return Path(env)
    try:
        packaged = resources.files("anyllm") / "schemas"
        if packaged.is_dir() and (packaged / "index.json").is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - odd loaders
        pass
    return Path(__file__).resolve().parents[3] / "schemas"


class SchemaStore:
    """The generated schemas, their registry and compiled validators (lazy, cached)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or _locate_schema_dir()
        index_file = self.directory / "index.json"
        if not index_file.is_file():
            raise FileNotFoundError(
                f"OpenResponses schemas not found in {self.directory} (no index.json); "
                "run scripts/generate_schemas.py or set ANYLLM_SCHEMAS_DIR"
            )
        self.index: dict[str, Any] = json.loads(index_file.read_text("utf-8"))
        self.base_uri: str = self.index["base_uri"]
        self.events: dict[str, str] = dict(self.index["events"])
        self.schemas: dict[str, dict[str, Any]] = {}
        for name in self.index["schemas"]:
            self.schemas[name] = json.loads((self.directory / f"{name}.json").read_text("utf-8"))
        self._derived: dict[str, dict[str, Any]] = {}
        self._registry: Any = None
        self._validators: dict[str, Any] = {}
        self._tables: dict[str, dict[str, str]] = {}
        self._roles: dict[str, dict[str, str]] = {}
        self._nullable: dict[tuple[str, str], bool] = {}

    # Derived schemas: shells (union properties blanked) per profile; the files stay untouched.
    def _build_derived(self) -> None:
        for name, sites in UNION_SITES.items():
            for profile in R.PROFILES:
                schema = json.loads(json.dumps(self.schemas[name]))
                schema["$id"] = f"{self.base_uri}{name}~shell~{profile}.json"
                props = schema.get("properties", {})
                for prop, _kind, _arr in sites:
                    if prop in props:
                        props[prop] = True
                relaxed = (
                    R.OPENAI_RELAXED_FIELDS.get(name, frozenset()) if profile == "openai" else frozenset()
                )
                if relaxed:
                    schema["required"] = [f for f in schema.get("required", []) if f not in relaxed]
                    for prop in relaxed:
                        if prop in props and props[prop] is not True:
                            props[prop] = {"anyOf": [props[prop], {"type": "null"}]}
                self._derived[f"{name}~shell~{profile}"] = schema

    def registry(self) -> Any:
        if self._registry is None:
            import jsonschema_rs

            self._build_derived()
            resources_ = [(s["$id"], s) for s in self.schemas.values()]
            resources_ += [(s["$id"], s) for s in self._derived.values()]
            self._registry = jsonschema_rs.Registry(resources_)
        return self._registry

    def schema(self, name: str) -> dict[str, Any]:
        if name in self.schemas:
            return self.schemas[name]
        self.registry()
        return self._derived[name]

    def validator(self, name: str) -> Any:
        """Compiled validator for a schema (or derived shell, or ``Name#/pointer``)."""
        v = self._validators.get(name)
        if v is None:
            import jsonschema_rs

            registry = self.registry()
            if "#" in name:
                schema: dict[str, Any] = {"$ref": self.base_uri + name.replace("#", ".json#", 1)}
            else:
                schema = self.schema(name)
            v = jsonschema_rs.validator_for(schema, registry=registry)
            self._validators[name] = v
        return v

    def members(self, kind: str) -> dict[str, str]:
        """``type`` value -> member schema for a union kind (ambiguous types map to the union)."""
        table = self._tables.get(kind)
        if table is None:
            table = {}
            seen: dict[str, int] = {}
            for member in self._union_members(kind):
                ref = member["$ref"][: -len(".json")]
                type_schema = self.schemas[ref].get("properties", {}).get("type", {})
                for value in type_schema.get("enum", []):
                    seen[value] = seen.get(value, 0) + 1
                    table[value] = ref
            for value, count in seen.items():
                if count > 1:
                    table[value] = union_pointer(kind)
            self._tables[kind] = table
        return table

    def _union_members(self, kind: str) -> list[dict[str, Any]]:
        owner, pointer = UNIONS[kind]
        node: Any = self.schemas[owner]
        for key in pointer.strip("/").split("/"):
            node = node[int(key) if key.isdigit() else key]
        return list(node) if isinstance(node, list) else [node]  # a one-member "union" is a $ref

    def message_roles(self, kind: str) -> dict[str, str]:
        """``role`` -> member schema, for the members of type ``message`` (input items differ by role)."""
        table = self._roles.get(kind)
        if table is None:
            table = {}
            for member in self._union_members(kind):
                schema = self.schemas[member["$ref"][: -len(".json")]]
                props = schema.get("properties", {})
                if "message" in props.get("type", {}).get("enum", []):
                    for role in props.get("role", {}).get("enum", []):
                        table[role] = member["$ref"][: -len(".json")]
            self._roles[kind] = table
        return table

    def required(self, name: str) -> list[str]:
        return list(self.schemas[name].get("required", []))

    def nullable(self, name: str, prop: str) -> bool:
        key = (name, prop)
        if key not in self._nullable:
            self._nullable[key] = bool(self.validator(f"{name}#/properties/{prop}").is_valid(None))
        return self._nullable[key]


_STORE: SchemaStore | None = None


def default_store() -> SchemaStore:
    """The process-wide schema store (created on first use)."""
    global _STORE
    if _STORE is None:
        _STORE = SchemaStore()
    return _STORE
