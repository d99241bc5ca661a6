"""Conformance validator: the judge of the harness.

Checks responses, request bodies and streams against the OpenResponses schemas (``schemas/``,
generated from the official OpenAPI document) and against every observable MUST of the
prose specification: SSE framing, sequence numbers, item and content-part lifecycles,
deltas against their ``done`` events, terminal events, identity of streamed and final
items, extension prefixes, tool_choice and previous_response_id given the request.

Each finding is a :class:`Violation` naming a rule of :mod:`anyllm.testing.rules`.
Two profiles: ``openresponses`` (the spec, strict) and ``openai`` (OpenAI's superset; see
the rules module for exactly what it tolerates).

Engine: jsonschema-rs, one validator per schema, compiled lazily and once; the event's
``type`` selects the schema, ``is_valid`` runs first and errors are collected only on
failure. On failure, unions (items, content parts, tools, ...) are split and checked member
by member, so an error names the one schema that failed and its JSON path.

Importing this module imports neither openai nor pytest, and loads no schema.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from anyllm.testing import rules as R
from anyllm.testing.rules import Profile, Severity

__all__ = [
    "SchemaStore",
    "StreamValidator",
    "Violation",
    "default_store",
    "has_errors",
    "validate_request",
    "validate_response",
    "validate_stream",
]

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_SLUG_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:[A-Za-z0-9_.:\-]+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_MESSAGE = 700
_REQUIRED = re.compile(r'^"(.*)" is a required property$')


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding: which rule, how bad, where (JSON path), what, and the spec section."""

    rule: str
    severity: Severity
    path: str
    message: str
    section: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "section": self.section,
        }
        if self.line is not None:
            out["line"] = self.line
        return out

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.severity}: {self.rule} at {self.path}{where}: {self.message} [{self.section}]"


def has_errors(violations: Iterable[Violation]) -> bool:
    """True when any violation is an error."""
    return any(v.severity == "error" for v in violations)


def json_path(parts: Sequence[PathPart]) -> str:
    """``("output", 0, "id")`` -> ``$.output[0].id``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT.match(part):
            out.append("." + part)
        else:
            out.append("[" + json.dumps(part) + "]")
    return "".join(out)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_slug_prefixed(type_name: str) -> bool:
    """``acme:search_result`` is an extension type; ``web_search_call`` is not."""
    return bool(_SLUG_TYPE.match(type_name))


# --- Schemas -------------------------------------------------------------------------------

# Where a schema holds a union (or an object with its own rules): property -> (kind, is array).
# On failure the schema is re-checked with these properties blanked ("shell") and each
# value is dispatched on its `type`.
_SITES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "ResponseResource": (
        ("output", "item", True),
        ("tools", "tool", True),
        ("tool_choice", "tool_choice", False),
        ("text", "obj:TextField", False),
        ("reasoning", "obj:Reasoning", False),
    ),
    "TextField": (("format", "text_format", False),),
    "Reasoning": (),
    "Message": (("content", "part", True),),
    "OutputTextContent": (("annotations", "annotation", True),),
    "CreateResponseBody": (
        ("input", "input_item", True),
        ("tools", "tool_param", True),
        ("tool_choice", "tool_choice_param", False),
        ("text", "obj:TextParam", False),
    ),
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
    _SITES[_envelope] = (("response", "obj:ResponseResource", False),)

# Union members per dispatch kind: (schema holding the union, JSON pointer to the oneOf).
_UNIONS: dict[str, tuple[str, str]] = {
    "item": ("ItemField", "/oneOf"),
    "input_item": ("ItemParam", "/oneOf"),
    "tool": ("Tool", "/oneOf"),
    "tool_param": ("ResponsesToolParam", "/oneOf"),
    "part": ("Message", "/properties/content/items/oneOf"),
    "annotation": ("Annotation", "/oneOf"),
}
_KIND_RULE = {
    "item": "SCHEMA-ITEM",
    "input_item": "SCHEMA-ITEM",
    "tool": "SCHEMA-TOOL",
    "tool_param": "SCHEMA-TOOL",
    "tool_choice": "SCHEMA-TOOL",
    "tool_choice_param": "SCHEMA-TOOL",
    "text_format": "SCHEMA-TOOL",
    "text_format_param": "SCHEMA-TOOL",
    "part": "SCHEMA-CONTENT",
    "annotation": "SCHEMA-CONTENT",
}
_OPENAI_KNOWN: dict[str, frozenset[str]] = {
    "item": R.OPENAI_ITEM_TYPES,
    "input_item": R.OPENAI_ITEM_TYPES,
    "tool": R.OPENAI_TOOL_TYPES,
    "tool_param": R.OPENAI_TOOL_TYPES,
    "tool_choice": R.OPENAI_TOOL_TYPES | {"web_search_preview", "file_search", "mcp", "custom"},
    "tool_choice_param": R.OPENAI_TOOL_TYPES,
    "part": R.OPENAI_CONTENT_TYPES,
    "annotation": R.OPENAI_ANNOTATION_TYPES,
}
_OBJ_RULE = {
    "ResponseResource": "SCHEMA-RESPONSE",
    "Reasoning": "SCHEMA-RESPONSE",
    "TextField": "SCHEMA-RESPONSE",
    "TextParam": "SCHEMA-REQUEST",
}


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
    return Path(__file__).resolve().parents[2] / "schemas"


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
        self._nullable: dict[tuple[str, str], bool] = {}

    # Derived schemas: shells (union properties blanked) per profile; the files stay untouched.
    def _build_derived(self) -> None:
        for name, sites in _SITES.items():
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
            owner, pointer = _UNIONS[kind]
            node: Any = self.schemas[owner]
            for key in pointer.strip("/").split("/"):
                node = node[key]
            table = {}
            seen: dict[str, int] = {}
            for member in node:
                ref = member["$ref"][: -len(".json")]
                type_schema = self.schemas[ref].get("properties", {}).get("type", {})
                for value in type_schema.get("enum", []):
                    seen[value] = seen.get(value, 0) + 1
                    table[value] = ref
            for value, count in seen.items():
                if count > 1:
                    table[value] = (
                        f"{owner}#{pointer.rsplit('/', 1)[0] or ''}" if pointer != "/oneOf" else owner
                    )
            self._tables[kind] = table
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


# --- Collecting findings -------------------------------------------------------------------


class _Sink:
    """Collects violations; severity comes from the rule and the profile."""

    __slots__ = ("items", "once_keys", "profile")

    def __init__(self, profile: Profile) -> None:
        if profile not in R.PROFILES:
            raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(R.PROFILES)}")
        self.profile: Profile = profile
        self.items: list[Violation] = []
        self.once_keys: set[tuple[str, str]] = set()

    def add(self, rule_id: str, path: JsonPath, message: str, line: int | None = None) -> None:
        rule = R.RULES[rule_id]
        self.items.append(
            Violation(
                rule_id, rule.severity_for(self.profile), json_path(path), _short(message), rule.section, line
            )
        )

    def once(self, rule_id: str, key: str, path: JsonPath, message: str, line: int | None = None) -> None:
        if (rule_id, key) not in self.once_keys:
            self.once_keys.add((rule_id, key))
            self.add(rule_id, path, message, line)


class _Checker:
    """Schema checks with union splitting and profile tolerances (shared by all entry points)."""

    def __init__(self, store: SchemaStore, sink: _Sink) -> None:
        self.store = store
        self.sink = sink
        self.profile = sink.profile

    def errors(self, name: str, inst: Any, path: JsonPath, rule: str, line: int | None = None) -> None:
        v = self.store.validator(name)
        if v.is_valid(inst):
            return
        label = name.split("~", 1)[0]
        missing: dict[JsonPath, list[str]] = {}
        for err in v.iter_errors(inst):
            where = path + tuple(err.instance_path)
            found = _REQUIRED.match(err.message)
            if found:
                if where not in missing:
                    missing[where] = []
                missing[where].append(found.group(1))
                continue
            self.sink.add(rule, where, f"{label}: {err.message}", line)
        for where, names in missing.items():
            plural = "properties are" if len(names) > 1 else "property is"
            self.sink.add(rule, where, f"{label}: required {plural} missing: {', '.join(names)}", line)

    def obj(self, name: str, inst: Any, path: JsonPath, rule: str, line: int | None = None) -> None:
        """Check an object whose schema has union sites (split on failure)."""
        store = self.store
        if store.validator(name).is_valid(inst):
            return
        if not isinstance(inst, dict):
            self.errors(name, inst, path, rule, line)
            return
        relaxed = R.OPENAI_RELAXED_FIELDS.get(name, frozenset()) if self.profile == "openai" else frozenset()
        if relaxed:
            required = store.required(name)
            for prop in sorted(relaxed):
                if prop not in inst:
                    if prop in required:
                        self.sink.add(
                            "OPENAI-FIELD-RELAXED",
                            (*path, prop),
                            f"{name}.{prop} is required by the spec but absent (optional in OpenAI's type)",
                            line,
                        )
                elif inst[prop] is None and not store.nullable(name, prop):
                    self.sink.add(
                        "OPENAI-FIELD-RELAXED",
                        (*path, prop),
                        f"{name}.{prop} is null; the spec forbids null (nullable in OpenAI's type)",
                        line,
                    )
        self.errors(f"{name}~shell~{self.profile}", inst, path, rule, line)
        for prop, kind, is_array in _SITES[name]:
            if prop not in inst:
                continue
            value = inst[prop]
            if value is None and prop in relaxed:
                continue
            where = (*path, prop)
            if kind.startswith("obj:"):
                target = kind[4:]
                if isinstance(value, dict):
                    self.obj(target, value, where, _OBJ_RULE.get(target, rule), line)
                else:
                    self.errors(f"{name}#/properties/{prop}", value, where, rule, line)
            elif is_array and isinstance(value, list):
                for i, member in enumerate(value):
                    self.member(kind, member, (*where, i), line)
            elif not is_array and isinstance(value, dict):
                self.member(kind, value, where, line, owner=name, prop=prop)
            else:
                self.errors(f"{name}#/properties/{prop}", value, where, rule, line)

    def member(
        self,
        kind: str,
        value: Any,
        path: JsonPath,
        line: int | None = None,
        owner: str | None = None,
        prop: str | None = None,
    ) -> None:
        """Dispatch one union member on its ``type``."""
        rule = _KIND_RULE[kind]
        type_name = value.get("type") if isinstance(value, dict) else None
        if kind in ("tool_choice", "tool_choice_param", "text_format", "text_format_param"):
            self._single(kind, value, path, rule, line, owner or "", prop or "")
            return
        table = self.store.members(kind)
        easy_message = kind == "input_item" and isinstance(value, dict) and "role" in value
        if type_name is None and easy_message and self.profile == "openai":
            # OpenAI's EasyInputMessage: a message given by role and content, no `type`.
            self.sink.once(
                "OPENAI-EXTENSION",
                "input_item:<no type>",
                path,
                "input message without `type` (OpenAI EasyInputMessage)",
                line,
            )
            value = {"type": "message", **value}
            type_name = "message"
        if not isinstance(type_name, str):
            self.errors(
                _UNIONS[kind][0] if kind != "part" else "Message#/properties/content/items",
                value,
                path,
                rule,
                line,
            )
            return
        target = table.get(type_name)
        if target is not None:
            if target in _SITES:
                self.obj(target, value, path, rule, line)
            else:
                self.errors(target, value, path, rule, line)
            return
        self.foreign(kind, type_name, value, path, line)

    def foreign(self, kind: str, type_name: str, value: Any, path: JsonPath, line: int | None) -> None:
        """A type outside the spec: slug-prefixed extension, OpenAI-known, or a violation."""
        label = kind.replace("_", " ")
        if is_slug_prefixed(type_name):
            self.sink.once(
                "EXTENSION-TYPE", f"{kind}:{type_name}", path, f"extension {label} type {type_name!r}", line
            )
            if kind == "item" and isinstance(value, dict):
                missing = [f for f in ("id", "type", "status") if f not in value]
                if missing:
                    self.sink.add(
                        "EXTENSION-ITEM-FIELDS",
                        path,
                        f"extension item {type_name!r} lacks {', '.join(missing)}",
                        line,
                    )
        elif self.profile == "openai" and type_name in _OPENAI_KNOWN.get(kind, frozenset()):
            self.sink.once(
                "OPENAI-EXTENSION", f"{kind}:{type_name}", path, f"OpenAI {label} type {type_name!r}", line
            )
        else:
            self.sink.add(
                "EXTENSION-TYPE-PREFIXED",
                path,
                f"{label} type {type_name!r} is not in the spec and not slug-prefixed "
                f"(e.g. 'acme:{type_name}')",
                line,
            )

    def _single(
        self, kind: str, value: Any, path: JsonPath, rule: str, line: int | None, owner: str, prop: str
    ) -> None:
        pointer = f"{owner}#/properties/{prop}"
        type_name = value.get("type") if isinstance(value, dict) else None
        if kind == "text_format" and type_name == "json_schema" and isinstance(value.get("schema"), dict):
            self.sink.add(
                "SPEC-BUG-TEXT-FORMAT-SCHEMA",
                (*path, "schema"),
                "text.format.schema holds the schema object; the spec's output-side "
                "JsonSchemaResponseFormat.schema admits only null (known spec bug)",
                line,
            )
            value = {**value, "schema": None}
        if (
            kind.startswith("tool_choice")
            and isinstance(type_name, str)
            and type_name not in ("function", "allowed_tools")
            and not self.store.validator(pointer).is_valid(value)
        ):
            self.foreign(kind, type_name, value, path, line)
            return
        self.errors(pointer, value, path, rule, line)

    # Error bodies and payloads
    def error_payload(self, err: Any, path: JsonPath, line: int | None = None) -> None:
        self.errors("ErrorPayload", err, path, "SCHEMA-ERROR", line)
        if isinstance(err, dict) and isinstance(err.get("type"), str):
            etype = err["type"]
            if etype not in R.SPEC_ERROR_TYPES:
                known = " (an OpenAI error type)" if etype in R.OPENAI_ERROR_TYPES else ""
                self.sink.add(
                    "ERROR-TYPE-KNOWN",
                    (*path, "type"),
                    f"error type {etype!r} is not one of {', '.join(sorted(R.SPEC_ERROR_TYPES))}{known}",
                    line,
                )


# --- Rules on a whole response ---------------------------------------------------------------

_TOOL_CALL_SUFFIX = "_call"


def _is_tool_call(item: dict[str, Any]) -> bool:
    t = item.get("type")
    return isinstance(t, str) and (t == "function_call" or t.endswith(_TOOL_CALL_SUFFIX))


def _response_rules(
    sink: _Sink, resp: dict[str, Any], path: JsonPath, request: dict[str, Any] | None, line: int | None = None
) -> None:
    """Rules on a final response that no schema expresses."""
    status = resp.get("status")
    if isinstance(status, str) and status not in R.RESPONSE_STATUSES:
        sink.add(
            "RESPONSE-STATUS-KNOWN",
            (*path, "status"),
            f"status {status!r} is not one of {', '.join(sorted(R.RESPONSE_STATUSES))}",
            line,
        )
    if status == "failed" and not resp.get("error"):
        sink.add(
            "RESPONSE-FAILED-HAS-ERROR",
            (*path, "error"),
            "status is 'failed' but error is null/absent",
            line,
        )
    if status == "incomplete" and not resp.get("incomplete_details"):
        sink.add(
            "RESPONSE-INCOMPLETE-DETAILS",
            (*path, "incomplete_details"),
            "status is 'incomplete' but incomplete_details is null/absent",
            line,
        )
    output = resp.get("output")
    items = [it for it in output if isinstance(it, dict)] if isinstance(output, list) else []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in seen:
                sink.add(
                    "ITEM-ID-UNIQUE",
                    (*path, "output", i, "id"),
                    f"item id {item_id!r} already used by output[{seen[item_id]}]",
                    line,
                )
            else:
                seen[item_id] = i
        item_status = item.get("status")
        if item_status == "incomplete":
            if i != len(items) - 1:
                sink.add(
                    "ITEM-INCOMPLETE-LAST",
                    (*path, "output", i, "status"),
                    f"output[{i}] is incomplete but {len(items) - 1 - i} item(s) follow it",
                    line,
                )
            if status != "incomplete":
                sink.add(
                    "ITEM-INCOMPLETE-RESPONSE-STATUS",
                    (*path, "status"),
                    f"output[{i}] is incomplete but the response status is {status!r}",
                    line,
                )
        elif item_status == "in_progress" and status == "completed":
            sink.add(
                "ITEM-STATUS-TERMINAL",
                (*path, "output", i, "status"),
                f"output[{i}] is still in_progress in a completed response",
                line,
            )
    if request is not None:
        _request_rules(sink, resp, items, path, request, line)


def _request_rules(
    sink: _Sink,
    resp: dict[str, Any],
    items: list[dict[str, Any]],
    path: JsonPath,
    request: dict[str, Any],
    line: int | None,
) -> None:
    prev = request.get("previous_response_id")
    if prev is not None and resp.get("previous_response_id") != prev:
        sink.add(
            "PREVIOUS-RESPONSE-ID-ECHOED",
            (*path, "previous_response_id"),
            f"request had previous_response_id {prev!r}, response has {resp.get('previous_response_id')!r}",
            line,
        )
    calls = [(i, it) for i, it in enumerate(items) if _is_tool_call(it)]
    completed = resp.get("status") == "completed"
    choice = request.get("tool_choice")
    if choice == "none":
        for i, it in calls:
            sink.add(
                "TOOL-CHOICE-NONE",
                (*path, "output", i),
                f"tool_choice is 'none' but the model called {it.get('name') or it.get('type')!r}",
                line,
            )
    elif isinstance(choice, dict):
        ctype = choice.get("type")
        if ctype == "function" and completed:
            name = choice.get("name")
            if not any(it.get("type") == "function_call" and it.get("name") == name for _i, it in calls):
                sink.add(
                    "TOOL-CHOICE-FUNCTION",
                    (*path, "output"),
                    f"tool_choice forces function {name!r} but it was not called",
                    line,
                )
        elif ctype == "allowed_tools":
            allowed = {t.get("name") for t in choice.get("tools") or [] if isinstance(t, dict)}
            for i, it in calls:
                if it.get("type") == "function_call" and it.get("name") not in allowed:
                    sink.add(
                        "ALLOWED-TOOLS-ENFORCED",
                        (*path, "output", i, "name"),
                        f"function {it.get('name')!r} called; allowed_tools is {sorted(map(str, allowed))}",
                        line,
                    )
            if choice.get("mode") == "required" and completed and not calls:
                sink.add(
                    "TOOL-CHOICE-REQUIRED",
                    (*path, "output"),
                    "allowed_tools mode 'required' but no tool was called",
                    line,
                )
    if choice == "required" and completed and not calls:
        sink.add(
            "TOOL-CHOICE-REQUIRED",
            (*path, "output"),
            "tool_choice is 'required' but no tool was called",
            line,
        )


# --- Inputs --------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
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


def _as_json_value(obj: Any) -> Any:
    """Dicts pass; pydantic models (openresponses-types, openai SDK) are dumped as sent."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True, by_alias=True)
    return obj


def _parse_json_text(sink: _Sink, text: str | bytes, path: JsonPath) -> tuple[bool, Any]:
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


def _as_request(request: Any) -> dict[str, Any] | None:
    if request is None:
        return None
    request = _as_json_value(request)
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
    return request if isinstance(request, dict) else None


def validate_response(
    obj: Any,
    profile: Profile = "openresponses",
    *,
    request: Any = None,
    content_type: str | None = None,
    status: int | None = None,
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a non-streaming reply: a ResponseResource, or an error body ``{"error": {...}}``.

    ``obj``: dict, pydantic model, or JSON text. ``request`` (optional) enables the rules that
    depend on it (tool_choice, previous_response_id). ``content_type`` and ``status`` are the
    HTTP reply's, when known.
    """
    sink = _Sink(profile)
    checker = _Checker(store or default_store(), sink)
    if content_type is not None and _media_type(content_type) != "application/json":
        sink.add("CONTENT-TYPE-JSON", (), f"Content-Type is {content_type!r}, expected application/json")
    obj = _as_json_value(obj)
    if isinstance(obj, (str, bytes, bytearray)):
        ok, obj = _parse_json_text(sink, bytes(obj) if isinstance(obj, bytearray) else obj, ())
        if not ok:
            return sink.items
    if not isinstance(obj, dict):
        sink.add("SCHEMA-RESPONSE", (), f"a response body is a JSON object, got {_json_type(obj)}")
        return sink.items
    if "error" in obj and "object" not in obj and (status is None or status >= 400 or "id" not in obj):
        checker.error_payload(obj["error"], ("error",))
        return sink.items
    checker.obj("ResponseResource", obj, (), "SCHEMA-RESPONSE")
    _response_rules(sink, obj, (), _as_request(request))
    return sink.items


def validate_request(
    body: Any, profile: Profile = "openresponses", *, store: SchemaStore | None = None
) -> list[Violation]:
    """Validate a request body against CreateResponseBody (tools and items split by type)."""
    sink = _Sink(profile)
    checker = _Checker(store or default_store(), sink)
    body = _as_json_value(body)
    if isinstance(body, (str, bytes)):
        ok, body = _parse_json_text(sink, body, ())
        if not ok:
            return sink.items
    checker.obj("CreateResponseBody", body, (), "SCHEMA-REQUEST")
    return sink.items


# --- Streams -------------------------------------------------------------------------------

_TEXT_DELTAS: dict[str, tuple[str, str]] = {
    # delta event -> (done event, item type it belongs to)
    "response.output_text.delta": ("response.output_text.done", "message"),
    "response.refusal.delta": ("response.refusal.done", "message"),
    "response.reasoning.delta": ("response.reasoning.done", "reasoning"),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "reasoning"),  # OpenAI's name
}
_TEXT_DONES: dict[str, tuple[str, str]] = {
    # done event -> (field holding the text, item type)
    "response.output_text.done": ("text", "message"),
    "response.refusal.done": ("refusal", "message"),
    "response.reasoning.done": ("text", "reasoning"),
    "response.reasoning_text.done": ("text", "reasoning"),
}
_PART_TEXT_FIELD = {"refusal": "refusal"}  # other part types keep their text in "text"


@dataclass(slots=True)
class _Part:
    chunks: list[str] = field(default_factory=list)
    done_text: str | None = None
    closed: bool = False
    ghost: bool = False

    def text(self) -> str:
        return self.done_text if self.done_text is not None else "".join(self.chunks)


@dataclass(slots=True)
class _Item:
    id: str | None
    type: str | None
    output_index: int
    added: bool = True
    done: bool = False
    call_id: str | None = None
    parts: dict[int, _Part] = field(default_factory=dict)
    summary: dict[int, _Part] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    args_done: str | None = None
    final: dict[str, Any] | None = None


def _item_texts(item: dict[str, Any]) -> dict[str, str]:
    """The streamable values of an item, keyed by where they live."""
    out: dict[str, str] = {}
    for key in ("content", "summary"):
        parts = item.get(key)
        if isinstance(parts, list):
            for i, part in enumerate(parts):
                if isinstance(part, dict):
                    value = part.get(_PART_TEXT_FIELD.get(str(part.get("type")), "text"))
                    if isinstance(value, str):
                        out[f"{key}[{i}]"] = value
    if isinstance(item.get("arguments"), str):
        out["arguments"] = item["arguments"]
    return out


class StreamValidator:
    """Validate a stream incrementally: ``feed`` each event as it arrives, then ``finish``.

    ``feed`` accepts an event body (dict or pydantic model), an ``(event_name, data)`` pair
    (data as JSON text or an already-parsed dict), a ``{"event": ..., "data": ...}`` mapping, an
    ``SSEEvent``-like object (``.event``, ``.data``, ``.id``) or the string ``"[DONE]"``.
    Framing rules (``event:`` name, ``[DONE]``) apply only to framed input (pairs, SSE).
    """

    def __init__(
        self,
        profile: Profile = "openresponses",
        *,
        request: Any = None,
        content_type: str | None = None,
        store: SchemaStore | None = None,
    ) -> None:
        self._sink = _Sink(profile)
        self.profile: Profile = profile
        self._store = store or default_store()
        self._checker = _Checker(self._store, self._sink)
        self._request = _as_request(request)
        self._events = self._store.events
        self._count = 0
        self._last_seq: int | None = None
        self._framed = False
        self._done_at: int | None = None
        self._terminal_at: int | None = None
        self._error_at: int | None = None
        self._response_id: str | None = None
        self._items: dict[int, _Item] = {}
        self._order: list[int] = []
        self._finished = False
        self._incomplete_item: str | None = None
        self._line: int | None = None
        self._handlers = {
            "response.created": self._on_snapshot,
            "response.queued": self._on_snapshot,
            "response.in_progress": self._on_snapshot,
            "response.completed": self._on_terminal,
            "response.failed": self._on_terminal,
            "response.incomplete": self._on_terminal,
            "error": self._on_error,
            "response.output_item.added": self._on_item_added,
            "response.output_item.done": self._on_item_done,
            "response.content_part.added": self._on_part_added,
            "response.content_part.done": self._on_part_done,
            "response.output_text.annotation.added": self._on_annotation,
            "response.function_call_arguments.delta": self._on_args_delta,
            "response.function_call_arguments.done": self._on_args_done,
            "response.reasoning_summary_part.added": self._on_summary_added,
            "response.reasoning_summary_part.done": self._on_summary_done,
            "response.reasoning_summary_text.delta": self._on_summary_delta,
            "response.reasoning_summary_text.done": self._on_summary_text_done,
        }
        for name in _TEXT_DELTAS:
            self._handlers[name] = self._on_text_delta
        for name in _TEXT_DONES:
            self._handlers[name] = self._on_text_done
        if content_type is not None and _media_type(content_type) != "text/event-stream":
            self._sink.add(
                "SSE-CONTENT-TYPE", (), f"Content-Type is {content_type!r}, expected text/event-stream"
            )

    @property
    def violations(self) -> list[Violation]:
        return list(self._sink.items)

    # Input forms
    def feed(self, event: Any, *, line: int | None = None) -> list[Violation]:
        """Check one event; return the violations it caused."""
        items = self._sink.items
        start = len(items)
        self._line = line
        if isinstance(event, dict) and "type" in event:
            self._on_body(event, None)
        elif isinstance(event, tuple) or (isinstance(event, list) and len(event) == 2):
            name, data = event
            self._framed_event(name, data, None)
        elif isinstance(event, dict) and "data" in event:
            self._framed_event(event.get("event"), event["data"], event.get("id"))
        elif isinstance(event, str):
            self._framed_event(None, event, None, name_expected=False)
        elif hasattr(event, "data") and hasattr(event, "event"):
            if line is None:
                self._line = getattr(event, "line", None)
            self._framed_event(event.event, event.data, getattr(event, "id", None))
        else:
            body = _as_json_value(event)
            if isinstance(body, dict):
                self._on_body(body, None)
            else:
                self._sink.add("INPUT-MALFORMED", (self._count,), f"not an event: {type(event).__name__}")
                self._count += 1
        return items[start:] if len(items) > start else []

    def _framed_event(self, name: Any, data: Any, event_id: Any, *, name_expected: bool = True) -> None:
        self._framed = self._framed or name_expected
        index = self._count
        if event_id is not None:
            self._sink.once("SSE-ID-PRESENT", "id", (index,), f"event carries id: {event_id!r}", self._line)
        if isinstance(data, str):
            if data == "[DONE]":
                self._framed = True
                if self._done_at is not None:
                    self._sink.add("SSE-DATA-AFTER-DONE", (index,), "a second [DONE]", self._line)
                else:
                    self._done_at = index
                self._count += 1
                return
            try:
                body = json.loads(data)
            except json.JSONDecodeError as exc:
                self._sink.add(
                    "SSE-DATA-JSON", (index,), f"data is not JSON ({exc.msg}): {data[:80]!r}", self._line
                )
                self._count += 1
                return
        else:
            body = _as_json_value(data)
        if not isinstance(body, dict):
            self._sink.add(
                "SSE-DATA-JSON", (index,), f"data is not a JSON object: {str(data)[:80]!r}", self._line
            )
            self._count += 1
            return
        if name_expected:
            if name is None:
                self._sink.once(
                    "SSE-EVENT-NAME-MISSING",
                    "name",
                    (index,),
                    "event has no `event:` field (first of possibly several)",
                    self._line,
                )
            elif name != body.get("type"):
                self._sink.add(
                    "SSE-EVENT-MATCHES-TYPE",
                    (index,),
                    f"`event: {name}` but the body's type is {body.get('type')!r}",
                    self._line,
                )
        self._on_body(body, name)

    # One event body
    def _on_body(self, body: dict[str, Any], name: str | None) -> None:
        index = self._count
        self._count = index + 1
        sink = self._sink
        if self._done_at is not None:
            sink.add("SSE-DATA-AFTER-DONE", (index,), f"{body.get('type')!r} after [DONE]", self._line)
        t = body.get("type")
        if not isinstance(t, str):
            sink.add("SCHEMA-EVENT", (index, "type"), "event has no string `type`", self._line)
            return
        seq = body.get("sequence_number")
        if type(seq) is int:
            last = self._last_seq
            if last is not None and seq <= last:
                sink.add(
                    "STREAM-SEQUENCE-MONOTONIC",
                    (index, "sequence_number"),
                    f"sequence_number {seq} after {last}",
                    self._line,
                )
            self._last_seq = seq
        if index == 0 and t != "response.created":
            sink.add("STREAM-STARTS-WITH-CREATED", (index,), f"first event is {t!r}", self._line)
        if self._terminal_at is not None:
            sink.add(
                "TERMINAL-EVENT-LAST",
                (index,),
                f"{t!r} after the terminal event at [{self._terminal_at}]",
                self._line,
            )
        schema = self._events.get(t)
        if schema is not None:
            if not self._store.validator(schema).is_valid(body):
                self._schema_failure(schema, body, index)
        else:
            self._foreign_event(t, body, index)
        handler = self._handlers.get(t)
        if handler is not None:
            handler(body, index)
        elif "output_index" in body:
            self._item_for(body, index)

    def _schema_failure(self, schema: str, body: dict[str, Any], index: int) -> None:
        if schema in _SITES:
            self._checker.obj(schema, body, (index,), "SCHEMA-EVENT", self._line)
        else:
            self._checker.errors(schema, body, (index,), "SCHEMA-EVENT", self._line)

    def _foreign_event(self, t: str, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        if is_slug_prefixed(t):
            sink.once("EXTENSION-TYPE", f"event:{t}", (index,), f"extension event type {t!r}", self._line)
        elif self.profile == "openai" and t in R.OPENAI_EVENT_TYPES:
            sink.once("OPENAI-EXTENSION", f"event:{t}", (index,), f"OpenAI event type {t!r}", self._line)
        else:
            sink.once(
                "EXTENSION-TYPE-PREFIXED",
                f"event:{t}",
                (index,),
                f"event type {t!r} is not in the spec and not slug-prefixed",
                self._line,
            )
            return
        if type(body.get("sequence_number")) is not int:
            sink.add(
                "EXTENSION-EVENT-FIELDS",
                (index, "sequence_number"),
                f"extension event {t!r} has no integer sequence_number",
                self._line,
            )

    # Response snapshots
    def _check_response_id(self, resp: dict[str, Any], index: int) -> None:
        rid = resp.get("id")
        if not isinstance(rid, str):
            return
        if self._response_id is None:
            self._response_id = rid
        elif rid != self._response_id:
            self._sink.add(
                "STREAM-RESPONSE-ID-STABLE",
                (index, "response", "id"),
                f"response id {rid!r}, earlier {self._response_id!r}",
                self._line,
            )

    def _on_snapshot(self, body: dict[str, Any], index: int) -> None:
        resp = body.get("response")
        if isinstance(resp, dict):
            self._check_response_id(resp, index)

    def _on_error(self, body: dict[str, Any], index: int) -> None:
        self._error_at = index
        err = body.get("error")
        if (
            isinstance(err, dict)
            and isinstance(err.get("type"), str)
            and err["type"] not in R.SPEC_ERROR_TYPES
        ):
            self._sink.add(
                "ERROR-TYPE-KNOWN",
                (index, "error", "type"),
                f"error type {err['type']!r} is not one the spec lists",
                self._line,
            )

    def _on_terminal(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        t = body["type"]
        if self._terminal_at is not None:
            sink.add("TERMINAL-EVENT-UNIQUE", (index,), f"second terminal event {t!r}", self._line)
            return
        self._terminal_at = index
        if t == "response.failed":
            self._error_at = None
        resp = body.get("response")
        if not isinstance(resp, dict):
            return
        self._check_response_id(resp, index)
        expected = R.TERMINAL_EVENTS[t]
        if resp.get("status") != expected:
            sink.add(
                "TERMINAL-STATUS-MATCHES",
                (index, "response", "status"),
                f"{t} carries status {resp.get('status')!r}",
                self._line,
            )
        streamed = [self._items[oi] for oi in self._order]
        if t != "response.failed":
            for st in streamed:
                if not st.done:
                    sink.add(
                        "ITEM-DONE-MISSING",
                        (index,),
                        f"item {st.id!r} (output_index {st.output_index}) was never closed with "
                        "response.output_item.done",
                        self._line,
                    )
                    self._open_parts(st, index)
        self._compare_output(t, resp, streamed, index)
        _response_rules(sink, resp, (index, "response"), self._request, self._line)

    def _compare_output(self, t: str, resp: dict[str, Any], streamed: list[_Item], index: int) -> None:
        sink = self._sink
        output = resp.get("output")
        if not isinstance(output, list):
            return
        base: JsonPath = (index, "response", "output")
        if not output:
            if streamed and t != "response.failed":
                sink.add(
                    "TERMINAL-OUTPUT-EMPTY",
                    base,
                    f"{t} has an empty output but {len(streamed)} item(s) were streamed",
                    self._line,
                )
            return
        final_ids = [it.get("id") if isinstance(it, dict) else None for it in output]
        streamed_ids = {st.id for st in streamed}
        for pos, st in enumerate(streamed):
            if pos >= len(output):
                sink.add(
                    "TERMINAL-OUTPUT-MATCHES-STREAM",
                    base,
                    f"streamed item {st.id!r} (output_index {st.output_index}) is missing from the "
                    "final output",
                    self._line,
                )
                continue
            final = output[pos]
            if not isinstance(final, dict):
                continue
            if final.get("id") != st.id:
                where = "at another position" if st.id in final_ids else "missing"
                sink.add(
                    "TERMINAL-OUTPUT-MATCHES-STREAM",
                    (*base, pos, "id"),
                    f"streamed item {st.id!r} at output_index {st.output_index} is {where} in the "
                    f"final output (found {final.get('id')!r})",
                    self._line,
                )
                continue
            if st.call_id is not None and final.get("call_id") != st.call_id:
                sink.add(
                    "TOOL-CALL-ID-MATCHES",
                    (*base, pos, "call_id"),
                    f"call_id {final.get('call_id')!r} in the final response, {st.call_id!r} in the stream",
                    self._line,
                )
            if st.final is not None and final != st.final:
                got, want = _item_texts(final), _item_texts(st.final)
                for key in sorted(set(got) | set(want)):
                    if got.get(key) != want.get(key):
                        sink.add(
                            "TERMINAL-OUTPUT-MATCHES-STREAM",
                            (*base, pos),
                            f"{key} differs from the streamed item: {got.get(key)!r} vs {want.get(key)!r}",
                            self._line,
                        )
        for pos in range(len(streamed), len(output)):
            final = output[pos]
            fid = final.get("id") if isinstance(final, dict) else None
            if fid not in streamed_ids:
                sink.add(
                    "ITEM-NOT-STREAMED",
                    (*base, pos),
                    f"final output[{pos}] ({fid!r}) was never streamed (no output_item.added/done)",
                    self._line,
                )

    # Items
    def _item_for(self, body: dict[str, Any], index: int) -> _Item:
        oi = body.get("output_index")
        st = self._items.get(oi) if type(oi) is int else None
        if st is None:
            self._sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} for output_index {oi!r} before its response.output_item.added",
                self._line,
            )
            st = _Item(body.get("item_id"), None, oi if type(oi) is int else -1, added=False)
            if type(oi) is int:
                self._items[oi] = st
            return st
        if st.done:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{body.get('type')!r} for item {st.id!r} after its output_item.done",
                self._line,
            )
        item_id = body.get("item_id")
        if item_id is not None and st.id is not None and item_id != st.id:
            self._sink.add(
                "OUTPUT-INDEX-CONSISTENT",
                (index, "item_id"),
                f"item_id {item_id!r} but output_index {oi} holds {st.id!r}",
                self._line,
            )
        return st

    def _on_item_added(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        oi = body.get("output_index")
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        if type(oi) is not int:
            return
        existing = self._items.get(oi)
        if existing is not None and existing.added:
            sink.add(
                "ITEM-ADDED-UNIQUE", (index, "output_index"), f"output_index {oi} added twice", self._line
            )
            return
        if self._incomplete_item is not None:
            sink.add(
                "ITEM-INCOMPLETE-LAST",
                (index,),
                f"item added after {self._incomplete_item!r} ended incomplete (it must be the last item)",
                self._line,
            )
        if oi != len(self._order):
            sink.add(
                "OUTPUT-INDEX-SEQUENTIAL",
                (index, "output_index"),
                f"output_index {oi}, expected {len(self._order)}",
                self._line,
            )
        st = _Item(item.get("id"), item.get("type"), oi)
        if existing is not None:  # deltas arrived first (already reported)
            st.parts, st.summary, st.args = existing.parts, existing.summary, existing.args
        if isinstance(item.get("call_id"), str):
            st.call_id = item["call_id"]
        self._items[oi] = st
        self._order.append(oi)

    def _open_parts(self, st: _Item, index: int) -> None:
        for ci, part in st.parts.items():
            if not part.closed:
                self._sink.add(
                    "CONTENT-PART-DONE-MISSING",
                    (index,),
                    f"content part {ci} of item {st.id!r} was never closed with response.content_part.done",
                    self._line,
                )
                part.closed = True

    def _on_item_done(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        oi = body.get("output_index")
        st = self._items.get(oi) if type(oi) is int else None
        if st is None or not st.added:
            sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"output_item.done for output_index {oi!r} ({item.get('id')!r}) that was never added",
                self._line,
            )
            if type(oi) is not int:
                return
            ghost = st
            st = _Item(item.get("id"), item.get("type"), oi)
            if ghost is not None:
                st.parts, st.summary, st.args = ghost.parts, ghost.summary, ghost.args
            self._items[oi] = st
            self._order.append(oi)
        elif st.done:
            sink.add("ITEM-EVENT-AFTER-DONE", (index,), f"item {st.id!r} closed twice", self._line)
            return
        else:
            if item.get("id") != st.id or item.get("type") != st.type:
                sink.add(
                    "ITEM-DONE-MATCHES-ADDED",
                    (index, "item"),
                    f"done item {item.get('type')!r} {item.get('id')!r}, added {st.type!r} {st.id!r}",
                    self._line,
                )
        st.done = True
        st.final = item
        if isinstance(item.get("call_id"), str):
            if st.call_id is not None and st.call_id != item["call_id"]:
                sink.add(
                    "TOOL-CALL-ID-MATCHES",
                    (index, "item", "call_id"),
                    f"call_id {item['call_id']!r} at done, {st.call_id!r} when added",
                    self._line,
                )
            st.call_id = item["call_id"]
        if item.get("status") == "incomplete":
            self._incomplete_item = st.id
        if item.get("status") == "in_progress":
            sink.add(
                "ITEM-DONE-STATUS",
                (index, "item", "status"),
                "output_item.done with status in_progress",
                self._line,
            )
        self._open_parts(st, index)
        texts = _item_texts(item)
        for ci, part in st.parts.items():
            if part.ghost:
                continue
            key = f"content[{ci}]"
            if texts.get(key) != part.text():
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "content", ci),
                    f"{key} is {texts.get(key)!r}, streamed {part.text()!r}",
                    self._line,
                )
        for si, part in st.summary.items():
            key = f"summary[{si}]"
            if texts.get(key) != part.text():
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "summary", si),
                    f"{key} is {texts.get(key)!r}, streamed {part.text()!r}",
                    self._line,
                )
        if st.args or st.args_done is not None:
            args = st.args_done if st.args_done is not None else "".join(st.args)
            if texts.get("arguments") != args:
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "arguments"),
                    f"arguments {texts.get('arguments')!r}, streamed {args!r}",
                    self._line,
                )

    # Content parts
    def _on_part_added(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        if type(ci) is not int:
            return
        existing = st.parts.get(ci)
        if existing is not None and not existing.ghost:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci} of item {st.id!r} added twice",
                self._line,
            )
            return
        expected = sum(1 for p in st.parts.values() if not p.ghost)
        if ci != expected:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci}, expected {expected}",
                self._line,
            )
        part = _Part()
        if existing is not None:
            part.chunks = existing.chunks
            part.done_text = existing.done_text
        st.parts[ci] = part

    def _part_for(self, st: _Item, body: dict[str, Any], index: int, what: str) -> _Part:
        ci = body.get("content_index")
        key = ci if type(ci) is int else -1  # a missing content_index is reported by the schema
        part = st.parts.get(key)
        if part is None:
            self._sink.add(
                "CONTENT-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{what} for content_index {ci!r} of item {st.id!r} before response.content_part.added",
                self._line,
            )
            part = _Part(ghost=True)
            st.parts[key] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{what} for content part {ci} of item {st.id!r} after response.content_part.done",
                self._line,
            )
        return part

    def _on_text_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        t = body["type"]
        want = _TEXT_DELTAS[t][1]
        if st.type is not None and st.type != want:
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"{t!r} on a {st.type!r} item (expected {want!r})", self._line
            )
        part = self._part_for(st, body, index, t)
        delta = body.get("delta")
        if isinstance(delta, str):
            part.chunks.append(delta)

    def _on_text_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        t = body["type"]
        key, want = _TEXT_DONES[t]
        if st.type is not None and st.type != want:
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"{t!r} on a {st.type!r} item (expected {want!r})", self._line
            )
        part = self._part_for(st, body, index, t)
        text = body.get(key)
        if isinstance(text, str):
            joined = "".join(part.chunks)
            if text != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, key),
                    f"{t} holds {text!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            part.done_text = text

    def _on_annotation(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        self._part_for(st, body, index, body["type"])

    def _on_part_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        part = st.parts.get(ci) if type(ci) is int else None
        if part is None or part.ghost:
            if part is None:
                self._sink.add(
                    "CONTENT-PART-ADDED-BEFORE-DELTA",
                    (index,),
                    f"content_part.done for content_index {ci!r} of item {st.id!r} that was never added",
                    self._line,
                )
                part = _Part(ghost=True)
            if type(ci) is int:
                st.parts[ci] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE", (index,), f"content part {ci} of {st.id!r} closed twice", self._line
            )
            return
        self._close_part(part, body.get("part"), index, "text")

    def _close_part(self, part: _Part, payload: Any, index: int, kind: str) -> None:
        sink = self._sink
        if part.chunks and part.done_text is None:
            sink.add(
                "DELTA-DONE-MISSING",
                (index,),
                f"{kind} deltas were never closed by their *.done event before the part closed",
                self._line,
            )
        if isinstance(payload, dict):
            field_name = _PART_TEXT_FIELD.get(str(payload.get("type")), "text")
            value = payload.get(field_name)
            if (
                isinstance(value, str)
                and (part.chunks or part.done_text is not None)
                and value != part.text()
            ):
                sink.add(
                    "PART-DONE-MATCHES",
                    (index, "part", field_name),
                    f"part holds {value!r}, streamed {part.text()!r}",
                    self._line,
                )
            elif isinstance(value, str) and not part.chunks and part.done_text is None:
                part.done_text = value
        part.closed = True
        part.ghost = False

    # Function call arguments
    def _on_args_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        if st.type is not None and st.type != "function_call":
            self._sink.add(
                "DELTA-ITEM-TYPE",
                (index,),
                f"function_call_arguments.delta on a {st.type!r} item",
                self._line,
            )
        delta = body.get("delta")
        if isinstance(delta, str):
            st.args.append(delta)

    def _on_args_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        if st.type is not None and st.type != "function_call":
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"function_call_arguments.done on a {st.type!r} item", self._line
            )
        args = body.get("arguments")
        if isinstance(args, str):
            joined = "".join(st.args)
            if args != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, "arguments"),
                    f"arguments {args!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            st.args_done = args

    # Reasoning summaries
    def _summary_for(self, st: _Item, body: dict[str, Any], index: int) -> _Part:
        si = body.get("summary_index")
        part = st.summary.get(si if type(si) is int else -1)
        if part is None:
            self._sink.add(
                "SUMMARY-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} for summary_index {si!r} of item {st.id!r} before "
                "response.reasoning_summary_part.added",
                self._line,
            )
            part = _Part(ghost=True)
            st.summary[si if type(si) is int else -1] = part
        return part

    def _on_summary_added(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        si = body.get("summary_index")
        if type(si) is not int:
            return
        if si in st.summary and not st.summary[si].ghost:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "summary_index"),
                f"summary_index {si} added twice",
                self._line,
            )
            return
        expected = sum(1 for p in st.summary.values() if not p.ghost)
        if si != expected:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "summary_index"),
                f"summary_index {si}, expected {expected}",
                self._line,
            )
        st.summary[si] = _Part()

    def _on_summary_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        delta = body.get("delta")
        if isinstance(delta, str):
            part.chunks.append(delta)

    def _on_summary_text_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        text = body.get("text")
        if isinstance(text, str):
            joined = "".join(part.chunks)
            if text != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, "text"),
                    f"summary text {text!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            part.done_text = text

    def _on_summary_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        self._close_part(part, body.get("part"), index, "summary")

    # End of stream
    def finish(self) -> list[Violation]:
        """The stream ended: report what never came. Returns the violations it found."""
        items = self._sink.items
        start = len(items)
        if self._finished:
            return []
        self._finished = True
        end: JsonPath = (self._count,)
        if self._terminal_at is None:
            self._sink.add(
                "TERMINAL-EVENT-MISSING",
                end,
                "the stream ended without response.completed/failed/incomplete"
                if self._count
                else "the stream is empty",
            )
        if self._error_at is not None:
            self._sink.add(
                "ERROR-EVENT-FOLLOWED-BY-FAILED",
                (self._error_at,),
                "an error event was not followed by response.failed",
            )
        if self._framed and self._done_at is None:
            self._sink.add("SSE-DONE-TERMINAL", end, "the stream did not end with data: [DONE]")
        return items[start:]


def validate_stream(
    events: Any,
    profile: Profile = "openresponses",
    *,
    request: Any = None,
    content_type: str | None = None,
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a whole stream: raw SSE (bytes/str) or an iterable of events (``StreamValidator.feed``)."""
    validator = StreamValidator(profile, request=request, content_type=content_type, store=store)
    if isinstance(events, (bytes, bytearray, str)):
        from anyllm.testing.sse import split_sse

        framed, problems = split_sse(bytes(events) if isinstance(events, bytearray) else events)
        for problem in problems:
            if problem.kind == "binary":
                validator._sink.add("INPUT-MALFORMED", (), problem.message, problem.line)
                return validator.violations
        for ev in framed:
            validator.feed(ev, line=ev.line)
        for problem in problems:
            validator._sink.add("SSE-TRUNCATED", (validator._count,), problem.message, problem.line)
    else:
        for ev in events:
            validator.feed(ev)
    validator.finish()
    return validator.violations
