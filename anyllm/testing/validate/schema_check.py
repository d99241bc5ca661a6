"""Schema checks that name the one schema that failed: unions split by ``type``, profiles applied.

A plain validator reports a failed ``oneOf`` as "matches none"; here, on failure, an object
holding unions (items, content parts, tools, ...) is re-checked as its shell and each union
member is dispatched on its ``type``, so an error names the member schema and its JSON path.
Types outside the spec are judged as extensions (slug-prefixed), OpenAI types (profile
``openai``) or violations. ``is_valid`` runs first; errors are collected only on failure.
"""

from __future__ import annotations

import re
from typing import Any

from anyllm.testing import rules as R
from anyllm.testing.validate.schema_store import UNION_SITES, SchemaStore, union_pointer
from anyllm.testing.validate.violations import JsonPath, Sink

__all__ = ["SchemaChecker", "is_slug_prefixed"]

_SLUG_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:[A-Za-z0-9_.:\-]+$")
_REQUIRED = re.compile(r'^"(.*)" is a required property$')

# Which rule a failure of each union kind violates.
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
    "user_part": "SCHEMA-CONTENT",
    "assistant_part": "SCHEMA-CONTENT",
    "annotation_param": "SCHEMA-CONTENT",
    "include": "SCHEMA-REQUEST",
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
    "user_part": R.OPENAI_CONTENT_TYPES,
    "assistant_part": R.OPENAI_CONTENT_TYPES,
    "annotation_param": R.OPENAI_ANNOTATION_TYPES,
    "text_format_param": R.OPENAI_TEXT_FORMAT_TYPES,
}
_OBJ_RULE = {
    "ResponseResource": "SCHEMA-RESPONSE",
    "Reasoning": "SCHEMA-RESPONSE",
    "TextField": "SCHEMA-RESPONSE",
    "TextParam": "SCHEMA-REQUEST",
}


def is_slug_prefixed(type_name: str) -> bool:
    """``acme:search_result`` is an extension type; ``web_search_call`` is not."""
    return bool(_SLUG_TYPE.match(type_name))


class SchemaChecker:
    """Schema checks with union splitting and profile tolerances (shared by all entry points)."""

    def __init__(self, store: SchemaStore, sink: Sink) -> None:
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
        for prop, kind, is_array in UNION_SITES[name]:
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
        """Dispatch one union member on its ``type`` (input messages on their ``role`` too)."""
        rule = _KIND_RULE[kind]
        if kind == "include":
            self._include(value, path, line)
            return
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
            self.errors(union_pointer(kind), value, path, rule, line)
            return
        target = table.get(type_name)
        if type_name == "message" and isinstance(value, dict):
            target = self.store.message_roles(kind).get(str(value.get("role")), target)
        if target is not None:
            if target in UNION_SITES:
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

    def _include(self, value: Any, path: JsonPath, line: int | None) -> None:
        """One ``include`` value: the spec's two, or (profile ``openai``) one of OpenAI's."""
        if self.store.validator("IncludeEnum").is_valid(value):
            return
        if self.profile == "openai" and value in R.OPENAI_INCLUDE_VALUES:
            self.sink.once(
                "OPENAI-EXTENSION", f"include:{value}", path, f"OpenAI include value {value!r}", line
            )
            return
        self.errors("IncludeEnum", value, path, "SCHEMA-REQUEST", line)

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
        if (
            kind == "text_format_param"
            and self.profile == "openai"
            and type_name in R.OPENAI_TEXT_FORMAT_TYPES
        ):
            self.foreign(kind, str(type_name), value, path, line)  # OpenAI's json_object (a request-side gap)
            return
        self.errors(pointer, value, path, rule, line)

    # Error bodies and payloads
    def error_payload(self, err: Any, path: JsonPath, line: int | None = None) -> None:
        self.errors("ErrorPayload", err, path, "SCHEMA-ERROR", line)
        if isinstance(err, dict):
            self.error_type(err, path, line)

    def error_type(self, err: dict[str, Any], path: JsonPath, line: int | None = None) -> None:
        """The error ``type`` against the spec's table (and its own example: see the rules)."""
        etype = err.get("type")
        if not isinstance(etype, str) or etype in R.SPEC_ERROR_TYPES:
            return
        if etype in R.SPEC_EXAMPLE_ERROR_TYPES:
            self.sink.add(
                "ERROR-TYPE-SPEC-EXAMPLE",
                (*path, "type"),
                f"error type {etype!r}: the spec's Error Types table lists 'invalid_request', its "
                "example in Errors uses 'invalid_request_error'",
                line,
            )
            return
        known = " (an OpenAI error type)" if etype in R.OPENAI_ERROR_TYPES else ""
        self.sink.add(
            "ERROR-TYPE-KNOWN",
            (*path, "type"),
            f"error type {etype!r} is not one of {', '.join(sorted(R.SPEC_ERROR_TYPES))}{known}",
            line,
        )
