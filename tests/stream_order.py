"""A reusable checker for Responses event streams: order, identity and (optionally) schemas.

Every bridge test (chat, Anthropic, Gemini, live llama.cpp) pushes its streams through
``assert_stream_conforms``. What real Responses bridges get wrong is mostly order and
identity, not field shapes, so ``check_stream_order`` checks exactly those:

* ``response.created`` first (``queued``/``in_progress`` may follow), ``in_progress`` present;
* ``sequence_number`` strictly increasing by 1;
* ``output_item.added`` before anything else of that item, ``output_index`` contiguous
  from 0, unique item ids, and every later event naming the same ``item_id``;
* ``content_part.added`` before deltas, ``content_index`` contiguous per item;
* every ``*.done`` text equals its concatenated deltas, and ``content_part.done`` /
  ``output_item.done`` carry that same final content;
* exactly one terminal event (completed / incomplete / failed), last, with the matching
  ``status``; its response holds every streamed item with the same ids and final content.

Events are plain dicts: from typed events use
``event.model_dump(mode="json", exclude_unset=True)``.

The schema part validates each event against the spec's component for its ``type`` from
``openapi.json`` (in ``../shared/openresponses`` beside the checkout, or
``$ANYLLM_SHARED_DIR/openresponses``); when that file is absent it is skipped cleanly (the
order checks still run). One documented spec bug is tolerated, and only that one: the
output-side ``JsonSchemaResponseFormat.schema`` admits only ``null``, so a response echoing
a real ``text.format`` json_schema would always fail.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "assert_stream_conforms",
    "check_stream_order",
    "openapi_path",
    "response_schema_problems",
    "schema_problems",
]

TERMINAL_TYPES = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}

# delta event -> (done event, part type, the field of the done event/part holding the text)
_TEXT_DELTAS: dict[str, tuple[str, str, str]] = {
    "response.output_text.delta": ("response.output_text.done", "output_text", "text"),
    "response.refusal.delta": ("response.refusal.done", "refusal", "refusal"),
    "response.reasoning.delta": ("response.reasoning.done", "reasoning_text", "text"),
}
_TEXT_DONES = {done: (delta, part, key) for delta, (done, part, key) in _TEXT_DELTAS.items()}


def openapi_path() -> Path | None:
    """The spec's OpenAPI document beside the checkout, or None when it is not there."""
    env = os.environ.get("ANYLLM_SHARED_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    path = base / "openresponses" / "openapi.json"
    return path if path.is_file() else None


class _Item:
    """The checker's view of one streamed output item."""

    def __init__(self, index: int, item_id: str | None, item_type: str | None) -> None:
        self.index = index
        self.id = item_id
        self.type = item_type
        self.parts: list[dict[str, Any]] = []  # {"type", "chunks", "closed", "final"}
        self.args_chunks: list[str] = []
        self.args_done: str | None = None
        self.summary_chunks: dict[int, list[str]] = {}
        self.done_item: dict[str, Any] | None = None


def check_stream_order(events: list[dict[str, Any]]) -> list[str]:
    """Problems with the order and identity of a Responses event stream; empty when conforming."""
    problems: list[str] = []
    if not events:
        return ["the stream has no events"]

    def bad(position: int, message: str) -> None:
        event_type = events[position].get("type") if position < len(events) else None
        problems.append(f"event {position} ({event_type}): {message}")

    # -- preamble and sequence numbers ------------------------------------------------------
    if events[0].get("type") != "response.created":
        bad(0, "the first event must be response.created")
    types = [event.get("type") for event in events]
    if "response.in_progress" not in types:
        problems.append("no response.in_progress event")
    else:
        first_progress = types.index("response.in_progress")
        if any(t not in ("response.created", "response.queued") for t in types[1:first_progress]):
            bad(first_progress, "response.in_progress must follow response.created directly (queued aside)")
    previous_seq: Any = None
    for position, event in enumerate(events):
        seq = event.get("sequence_number")
        if not isinstance(seq, int) or isinstance(seq, bool):
            bad(position, f"sequence_number is {seq!r}, not an integer")
        elif previous_seq is not None and seq != previous_seq + 1:
            bad(position, f"sequence_number {seq} does not follow {previous_seq} by 1")
        previous_seq = seq if isinstance(seq, int) else previous_seq

    # -- terminal event -----------------------------------------------------------------------
    terminal_positions = [i for i, t in enumerate(types) if t in TERMINAL_TYPES]
    if len(terminal_positions) != 1:
        problems.append(f"expected exactly one terminal event, found {len(terminal_positions)}")
    if terminal_positions and terminal_positions[-1] != len(events) - 1:
        bad(terminal_positions[-1], "the terminal event is not the last event")
    if not terminal_positions:
        problems.append(f"the stream ends with {types[-1]!r}, not a terminal event")

    created_id = _response_id(events[0])

    # -- items, parts, deltas -----------------------------------------------------------------
    items: list[_Item] = []
    by_id: dict[str, _Item] = {}

    def item_for(position: int, event: dict[str, Any]) -> _Item | None:
        index = event.get("output_index")
        if not isinstance(index, int) or not 0 <= index < len(items):
            bad(position, f"output_index {index!r} names no added item")
            return None
        item = items[index]
        if "item_id" in event and event["item_id"] != item.id:
            bad(position, f"item_id {event['item_id']!r} is not the id {item.id!r} of output {index}")
        if item.done_item is not None:
            bad(position, f"output {index} is already done")
        return item

    def open_part(position: int, event: dict[str, Any], item: _Item, part_type: str) -> dict[str, Any] | None:
        index = event.get("content_index")
        if not isinstance(index, int) or not 0 <= index < len(item.parts):
            bad(position, f"content_index {index!r} names no added content part")
            return None
        part = item.parts[index]
        if part["closed"]:
            bad(position, f"content part {index} is already done")
        if part["type"] != part_type:
            bad(position, f"content part {index} is {part['type']!r}, not {part_type!r}")
        return part

    for position, event in enumerate(events):
        event_type = event.get("type")
        if not isinstance(event_type, str):
            bad(position, "no type")
            continue
        late = position > 2 or event_type == "response.created"
        if (
            position > 0
            and late
            and event_type in ("response.created", "response.in_progress", "response.queued")
        ):
            bad(position, f"{event_type} after the stream has begun")
        if "response" in event and created_id is not None:
            rid = _response_id(event)
            if rid != created_id:
                bad(position, f"response id {rid!r} differs from the created response {created_id!r}")

        if event_type == "response.output_item.added":
            index = event.get("output_index")
            item_data = _dict(event.get("item"))
            if index != len(items):
                bad(position, f"output_index {index!r}, expected {len(items)} (contiguous from 0)")
            item = _Item(len(items), item_data.get("id"), item_data.get("type"))
            if item.id is None:
                bad(position, "the added item has no id")
            elif item.id in by_id:
                bad(position, f"item id {item.id!r} was already used")
            else:
                by_id[item.id] = item
            if item.type == "function_call" and not item_data.get("name"):
                bad(position, "a function_call item is added without its name")
            items.append(item)
        elif event_type == "response.content_part.added":
            found = item_for(position, event)
            if found is not None:
                part = _dict(event.get("part"))
                if event.get("content_index") != len(found.parts):
                    bad(
                        position,
                        f"content_index {event.get('content_index')!r}, expected {len(found.parts)}",
                    )
                if found.parts and not found.parts[-1]["closed"]:
                    bad(position, "a content part is added while the previous one is open")
                found.parts.append({"type": part.get("type"), "chunks": [], "closed": False, "final": None})
        elif event_type in _TEXT_DELTAS:
            found = item_for(position, event)
            if found is not None:
                slot = open_part(position, event, found, _TEXT_DELTAS[event_type][1])
                if slot is not None:
                    delta = event.get("delta")
                    if not isinstance(delta, str):
                        bad(position, "delta is not a string")
                    else:
                        slot["chunks"].append(delta)
        elif event_type in _TEXT_DONES:
            found = item_for(position, event)
            if found is not None:
                _, part_type, key = _TEXT_DONES[event_type]
                slot = open_part(position, event, found, part_type)
                if slot is not None:
                    joined = "".join(slot["chunks"])
                    if event.get(key) != joined:
                        bad(
                            position,
                            f"{key} {event.get(key)!r} differs from the concatenated deltas {joined!r}",
                        )
                    slot["final"] = event.get(key)
        elif event_type == "response.content_part.done":
            found = item_for(position, event)
            if found is not None:
                part_data = _dict(event.get("part"))
                slot = open_part(position, event, found, str(part_data.get("type")))
                if slot is not None:
                    key = "refusal" if slot["type"] == "refusal" else "text"
                    joined = "".join(slot["chunks"])
                    if part_data.get(key) != joined:
                        bad(position, f"part {key} {part_data.get(key)!r} differs from the deltas {joined!r}")
                    slot["closed"] = True
                    slot["final"] = part_data
        elif event_type == "response.function_call_arguments.delta":
            found = item_for(position, event)
            if found is not None:
                if found.type != "function_call":
                    bad(position, f"arguments delta for a {found.type!r} item")
                if found.args_done is not None:
                    bad(position, "arguments delta after arguments.done")
                delta = event.get("delta")
                if isinstance(delta, str):
                    found.args_chunks.append(delta)
                else:
                    bad(position, "delta is not a string")
        elif event_type == "response.function_call_arguments.done":
            found = item_for(position, event)
            if found is not None:
                joined = "".join(found.args_chunks)
                if event.get("arguments") != joined:
                    bad(position, f"arguments {event.get('arguments')!r} differ from the deltas {joined!r}")
                found.args_done = str(event.get("arguments"))
        elif event_type == "response.reasoning_summary_text.delta":
            found = item_for(position, event)
            if found is not None and isinstance(event.get("delta"), str):
                found.summary_chunks.setdefault(int(event.get("summary_index", 0)), []).append(event["delta"])
        elif event_type == "response.reasoning_summary_text.done":
            found = item_for(position, event)
            if found is not None:
                joined = "".join(found.summary_chunks.get(int(event.get("summary_index", 0)), []))
                if event.get("text") != joined:
                    bad(position, f"summary text {event.get('text')!r} differs from the deltas {joined!r}")
        elif event_type == "response.output_item.done":
            found = item_for(position, event)
            if found is not None:
                item_data = _dict(event.get("item"))
                if item_data.get("id") != found.id:
                    bad(position, f"done item id {item_data.get('id')!r} differs from the added {found.id!r}")
                if item_data.get("type") != found.type:
                    bad(position, f"done item type {item_data.get('type')!r} differs from {found.type!r}")
                for number, part in enumerate(found.parts):
                    if not part["closed"]:
                        bad(position, f"content part {number} was never done")
                content = item_data.get("content")
                if found.parts:
                    finals = [part["final"] for part in found.parts]
                    if content != finals:
                        bad(position, f"item content {content!r} differs from the done parts {finals!r}")
                if found.type == "function_call":
                    if found.args_done is None:
                        bad(position, "function_call done without function_call_arguments.done")
                    elif item_data.get("arguments") != found.args_done:
                        bad(position, "item arguments differ from function_call_arguments.done")
                found.done_item = item_data

    # -- the terminal response against what was streamed ---------------------------------------
    if terminal_positions:
        position = terminal_positions[-1]
        terminal = events[position]
        response = _dict(terminal.get("response"))
        expected_status = TERMINAL_TYPES[str(terminal.get("type"))]
        if response.get("status") != expected_status:
            bad(position, f"response status {response.get('status')!r}, expected {expected_status!r}")
        if expected_status == "incomplete" and not response.get("incomplete_details"):
            bad(position, "an incomplete response without incomplete_details")
        if expected_status == "failed" and not response.get("error"):
            bad(position, "a failed response without error")
        output = response.get("output")
        if not isinstance(output, list):
            bad(position, "the terminal response has no output list")
            output = []
        if len(output) != len(items):
            bad(position, f"the terminal response has {len(output)} output items, {len(items)} were streamed")
        for item in items:
            if item.done_item is None and expected_status != "failed":
                problems.append(f"output {item.index} ({item.id}) was added but never done")
            if item.index >= len(output):
                continue
            final = output[item.index]
            if not isinstance(final, dict) or final.get("id") != item.id:
                got = final.get("id") if isinstance(final, dict) else final
                bad(position, f"output {item.index} has id {got!r}, the stream had {item.id!r}")
                continue
            if item.done_item is not None:
                for key in ("type", "content", "summary", "arguments", "name", "call_id", "role"):
                    if item.done_item.get(key) != final.get(key):
                        bad(position, f"output {item.index} {key} differs from its output_item.done")
    return problems


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _response_id(event: dict[str, Any]) -> Any:
    response = event.get("response")
    return response.get("id") if isinstance(response, dict) else None


# -- schemas ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _spec() -> tuple[dict[str, Any], dict[str, str]] | None:
    path = openapi_path()
    if path is None:
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = document["components"]["schemas"]
    by_type: dict[str, str] = {}
    for name, schema in schemas.items():
        type_field = schema.get("properties", {}).get("type", {}) if isinstance(schema, dict) else {}
        enum = type_field.get("enum") if isinstance(type_field, dict) else None
        if name.endswith("StreamingEvent") and isinstance(enum, list) and len(enum) == 1:
            by_type[str(enum[0])] = name
    return document, by_type


@cache
def _validator(component: str) -> Any:
    """One compiled jsonschema validator per component (the reference engine, not the fast one)."""
    import jsonschema  # type: ignore[import-untyped]
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = _spec()
    assert spec is not None
    document = spec[0]
    uri = "urn:openresponses:openapi"
    resource: Resource[Any] = DRAFT202012.create_resource(document)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    schema = {"$ref": f"{uri}#/components/schemas/{component}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _tolerate_output_schema_bug(response: dict[str, Any]) -> dict[str, Any]:
    """The documented spec bug: output-side text.format json_schema ``schema`` admits only null.

    The same field dumped without ``by_alias=True`` from openresponses-types is named
    ``schema_`` (its Python name); that is read as ``schema`` too, since it is the same field.
    """
    text = response.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    echoed = isinstance(fmt, dict) and (fmt.get("schema") is not None or "schema_" in fmt)
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and echoed:
        response = copy.deepcopy(response)
        fixed = response["text"]["format"]
        fixed.pop("schema_", None)
        fixed["schema"] = None
    return response


def _errors(component: str, instance: dict[str, Any]) -> list[str]:
    validator = _validator(component)
    found = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
    return [
        f"{component} at /{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:300]}"
        for error in found
    ]


def response_schema_problems(response: dict[str, Any]) -> list[str]:
    """A ResponseResource against the spec (empty when valid or when the spec is absent)."""
    if _spec() is None:
        return []
    return _errors("ResponseResource", _tolerate_output_schema_bug(response))


def schema_problems(events: list[dict[str, Any]]) -> list[str]:
    """Each event against the spec component for its ``type`` (empty when the spec is absent)."""
    spec = _spec()
    if spec is None:
        return []
    by_type = spec[1]
    problems: list[str] = []
    for position, event in enumerate(events):
        component = by_type.get(str(event.get("type")))
        if component is None:
            problems.append(f"event {position}: type {event.get('type')!r} is not a spec streaming event")
            continue
        instance = event
        if isinstance(event.get("response"), dict):
            instance = dict(event)
            instance["response"] = _tolerate_output_schema_bug(event["response"])
        problems.extend(f"event {position} ({event.get('type')}): {p}" for p in _errors(component, instance))
    return problems


def assert_stream_conforms(events: list[dict[str, Any]], schema_check: bool = True) -> None:
    """Raise AssertionError listing every order, identity and (optionally) schema problem."""
    problems = check_stream_order(events)
    if schema_check:
        problems.extend(schema_problems(events))
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise AssertionError(f"stream does not conform ({len(problems)} problems):\n  {shown}{more}")
