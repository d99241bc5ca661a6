"""Hypothesis strategies for the OpenResponses API, built from ``schemas/``.

Why our own generator rather than hypothesis-jsonschema: that package breaks on current
Hypothesis, and it builds ``oneOf`` by filtering, which is far too slow for the spec's
unions. The spec's schemas use a small part of JSON Schema, so a small generator covers
them: ``$ref`` to sibling files, ``type``, ``enum``/``const``, ``properties``/``required``,
``items``, ``anyOf``/``oneOf`` (choose a branch), ``allOf`` (merged), nullable unions,
``additionalProperties`` and the few length/range/pattern bounds. Objects are *sparse*:
required fields always, a handful of optional ones, so a generated request exercises a
few parameters at a time and shrinks to the one that matters.

Hand-tuned strategies cover what a schema cannot say: whole conforming event streams
(scripts of text, refusal, reasoning and tool-call steps played through the library's
own ``ResponseStreamBuilder``), raw SSE bytes with random framing, provider-native
chunk streams for the chat, Anthropic and Gemini bridges, and wild values for every
``responses()`` parameter.

Importing this module does no work: schemas are read and strategies built on first use.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

if TYPE_CHECKING:
    from anyllm.testing.validate import SchemaStore

__all__ = [
    "ChunkStream",
    "Script",
    "Step",
    "anthropic_streams",
    "chat_streams",
    "chunked",
    "create_response_bodies",
    "event_streams",
    "from_schema",
    "gemini_streams",
    "input_items",
    "json_values",
    "play_script",
    "response_resources",
    "responses_arguments",
    "scripts",
    "sse_streams",
    "tools",
    "wild_values",
]

Strategy = st.SearchStrategy[Any]

# --- Leaves ---------------------------------------------------------------------------------

# Text a JSON document can carry (no lone surrogates), with multi-byte characters on purpose:
# chunk boundaries inside UTF-8 sequences are one of the things the SSE property checks.
_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"])
_MAX_TEXT = 24
_MAX_ITEMS = 3
_MAX_OPTIONAL = 3  # optional properties per generated object


def _text(min_size: int = 0, max_size: int = _MAX_TEXT) -> st.SearchStrategy[str]:
    return st.text(_CHARS, min_size=min_size, max_size=max_size)


_NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,15}", fullmatch=True)
_ID_TAIL = st.text("0123456789abcdef", min_size=8, max_size=16)


def json_values(max_leaves: int = 8) -> Strategy:
    """Any small JSON value (finite numbers, valid strings)."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**31), 2**31)
        | st.floats(allow_nan=False, allow_infinity=False, width=64)
        | _text()
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text(max_size=8), inner, max_size=3),
        max_leaves=max_leaves,
    )


def wild_values() -> Strategy:
    """Values a careless caller might pass for any parameter: wrong types, NaN, huge, empty."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # NaN and infinities included
        _text(max_size=12),
        st.binary(max_size=4),
        st.lists(st.integers() | _text(max_size=4), max_size=3),
        st.dictionaries(_text(max_size=6), st.integers() | _text(max_size=4) | st.none(), max_size=3),
        st.tuples(st.integers()),
        st.just(object()),
    )


def _json_schema_objects() -> Strategy:
    """Small JSON Schemas of the kind tools take as ``parameters``."""
    prop = st.sampled_from(
        [
            {"type": "string"},
            {"type": "integer"},
            {"type": "number", "minimum": 0},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "string", "enum": ["a", "b"]},
        ]
    )
    return st.builds(
        lambda props, strict: {
            "type": "object",
            "properties": props,
            "required": sorted(props),
            **({"additionalProperties": False} if strict else {}),
        },
        st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True), prop, max_size=3),
        st.booleans(),
    )


# --- The schema-driven generator ---------------------------------------------------------------


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


# --- Whole conforming streams from scripts ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a model does while streaming.

    ``kind``: ``text``, ``refusal``, ``reasoning`` (``pieces`` are the deltas), ``tool``
    (``name`` and argument ``pieces``), ``encrypted`` (opaque reasoning state, ``pieces[0]``)
    or ``break`` (the provider closes its current block).
    """

    kind: str
    pieces: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Script:
    """A model turn: steps, then an ending (``completed``, ``incomplete`` or ``failed``)."""

    steps: tuple[Step, ...]
    ending: str = "completed"
    usage: tuple[int, int] | None = None
    model: str = "fuzz-model"
    reason: str = "max_output_tokens"
    request: Mapping[str, Any] = field(default_factory=dict)

    def texts(self, kind: str) -> list[str]:
        """The whole text of each step of ``kind`` (what the final response must hold)."""
        return ["".join(step.pieces) for step in self.steps if step.kind == kind]


def _pieces(min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(_text(1, 8), min_size=min_size, max_size=4).map(tuple)


def _argument_pieces() -> st.SearchStrategy[tuple[str, ...]]:
    """A JSON object's text, cut into fragments at arbitrary positions (as providers do)."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, ...]:
        value = draw(
            st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), json_values(3), max_size=3)
        )
        text = json.dumps(value, ensure_ascii=False)
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=3))))
        bounds = [0, *cuts, len(text)]
        return tuple(text[a:b] for a, b in itertools.pairwise(bounds) if b > a)

    return build()


_STEPS: dict[str, st.SearchStrategy[Step]] = {
    "text": st.builds(Step, st.just("text"), _pieces()),
    "refusal": st.builds(Step, st.just("refusal"), _pieces()),
    "reasoning": st.builds(Step, st.just("reasoning"), _pieces()),
    "tool": st.builds(Step, st.just("tool"), _argument_pieces(), _NAME),
    "encrypted": st.builds(Step, st.just("encrypted"), _text(1, 12).map(lambda s: (s,))),
    "break": st.just(Step("break")),
}


def scripts(
    *, kinds: tuple[str, ...] | None = None, endings: tuple[str, ...] = ("completed", "incomplete", "failed")
) -> st.SearchStrategy[Script]:
    """Model turns made of up to six steps (restricted to ``kinds`` when given)."""
    step = st.one_of([_STEPS[kind] for kind in (kinds or tuple(_STEPS))])
    return st.builds(
        Script,
        st.lists(step, max_size=6).map(tuple),
        st.sampled_from(endings),
        st.none() | st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
        _NAME,
        st.sampled_from(["max_output_tokens", "content_filter"]),
    )


def play_script(script: Script) -> list[dict[str, Any]]:
    """The event stream ``ResponseStreamBuilder`` makes of ``script`` (what bridges emit)."""
    from anyllm.translate.common import usage_dict
    from anyllm.translate.stream import ResponseStreamBuilder

    request = {"model": script.model, "input": "fuzz", **script.request}
    builder = ResponseStreamBuilder(request, model=script.model)
    events = builder.start()
    for number, step in enumerate(script.steps):
        if step.kind == "tool":
            events += builder.tool_call(number, call_id=f"call_{number}", name=step.name)
            for piece in step.pieces:
                events += builder.tool_call(number, arguments=piece)
            events += builder.end_tool_call(number)
        elif step.kind == "encrypted":
            events += builder.encrypted_reasoning(step.pieces[0])
        elif step.kind == "break":
            events += builder.end_items()
        else:
            method = {"text": builder.text, "refusal": builder.refusal, "reasoning": builder.reasoning}[
                step.kind
            ]
            for piece in step.pieces:
                events += method(piece)
    if script.usage is not None:
        builder.set_usage(usage_dict(*script.usage))
    if script.ending == "incomplete":
        events += builder.incomplete(script.reason)
    elif script.ending == "failed":
        events += builder.fail("the model failed")
    else:
        events += builder.complete()
    return events


def event_streams(**kwargs: Any) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Whole conforming Responses event streams (lists of event dicts, in order)."""
    return scripts(**kwargs).map(play_script)


# --- Raw SSE bytes ----------------------------------------------------------------------------------

_EOLS = ("\n", "\r\n", "\r")


@st.composite
def _frame(
    draw: st.DrawFn,
    events: list[dict[str, Any]],
    *,
    named: bool,
    ids: bool,
    done: bool,
    mixed: bool,
    eols: tuple[str, ...],
) -> bytes:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(": stream opened")
    payloads: list[tuple[str | None, str]] = [
        (event["type"] if named else None, json.dumps(event, ensure_ascii=draw(st.booleans())))
        for event in events
    ]
    if done:
        payloads.append((None, "[DONE]"))
    for number, (name, data) in enumerate(payloads):
        if draw(st.integers(0, 5)) == 0:
            lines.append(": keep-alive")
        if ids and draw(st.booleans()):
            lines.append(f"id: {number}")
        if name is not None:
            lines.append(f"event:{' ' if draw(st.booleans()) else ''}{name}")
        if data != "[DONE]" and draw(st.integers(0, 3)) == 0:
            # Multi-line data: indented JSON, one `data:` line per line; joined with LF it parses the same.
            body = json.dumps(json.loads(data), indent=1, ensure_ascii=False)
            lines.extend(f"data: {part}" for part in body.split("\n"))
        else:
            lines.append(f"data:{' ' if draw(st.booleans()) else ''}{data}")
        lines.append("")  # the blank line that dispatches the event
    out: list[str] = []
    previous = ""
    single = draw(st.sampled_from(eols))
    for line in lines:
        eol = draw(st.sampled_from(eols)) if mixed else single
        if previous == "\r" and not line and eol == "\n":
            eol = "\r\n"  # CR then a bare LF would be one CRLF, swallowing this blank line
        out.append(line + eol)
        previous = eol
    raw = "".join(out).encode("utf-8")
    if draw(st.integers(0, 7)) == 0:
        raw = b"\xef\xbb\xbf" + raw  # a leading BOM is allowed and ignored
    return raw


def sse_streams(
    events: st.SearchStrategy[list[dict[str, Any]]] | None = None,
    *,
    named: bool = True,
    ids: bool = False,
    done: bool = True,
    mixed: bool = True,
    eols: tuple[str, ...] = _EOLS,
) -> st.SearchStrategy[tuple[list[dict[str, Any]], bytes]]:
    """(events, raw SSE bytes encoding them) with random framing: LF/CRLF/CR line ends
    (one per stream, or mixed line by line), comments, ``event:`` lines, multi-line
    ``data``, optional ``id:`` lines and a BOM."""
    source = events if events is not None else event_streams()
    return source.flatmap(
        lambda evs: st.tuples(
            st.just(evs), _frame(evs, named=named, ids=ids, done=done, mixed=mixed, eols=eols)
        )
    )


def chunked(raw: bytes, max_chunks: int = 12) -> st.SearchStrategy[list[bytes]]:
    """``raw`` cut at arbitrary byte positions (inside UTF-8 characters, between CR and LF)."""
    if len(raw) < 2:
        return st.just([raw])
    cuts = st.lists(st.integers(1, len(raw) - 1), max_size=max_chunks, unique=True).map(sorted)
    return cuts.map(lambda c: [raw[a:b] for a, b in zip([0, *c], [*c, len(raw)], strict=True)])


# --- Provider-native streams for the bridges --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChunkStream:
    """A provider stream as (event name, data text) pairs, and the script it encodes."""

    script: Script
    events: tuple[tuple[str | None, str], ...]


def _bridge_scripts(kinds: tuple[str, ...], endings: tuple[str, ...]) -> st.SearchStrategy[Script]:
    return scripts(kinds=kinds, endings=endings)


def _chat_events(script: Script, role_chunk: bool, usage_last: bool, done: bool) -> ChunkStream:
    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> tuple[None, str]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {
            "id": "chatcmpl-fuzz",
            "object": "chat.completion.chunk",
            "model": script.model,
            "choices": choices,
        }
        return None, json.dumps({**body, **extra})

    out = [chunk({"role": "assistant", "content": ""})] if role_chunk else []
    calls = 0
    for step in script.steps:
        if step.kind == "tool":
            head = {
                "index": calls,
                "id": f"call_{calls}",
                "type": "function",
                "function": {"name": step.name, "arguments": ""},
            }
            out.append(chunk({"tool_calls": [head]}))
            out += [
                chunk({"tool_calls": [{"index": calls, "function": {"arguments": p}}]}) for p in step.pieces
            ]
            calls += 1
        else:
            key = {"text": "content", "refusal": "refusal", "reasoning": "reasoning_content"}[step.kind]
            out += [chunk({key: piece}) for piece in step.pieces]
    finish = {"completed": "tool_calls" if calls else "stop", "incomplete": "length"}[script.ending]
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    if usage_last:
        out.append(chunk({}, finish))
        out.append(chunk(None, usage=usage))
    else:
        out.append(chunk({}, finish, usage=usage))
    if done:
        out.append((None, "[DONE]"))
    return ChunkStream(script, tuple(out))


def chat_streams() -> st.SearchStrategy[ChunkStream]:
    """``chat.completion.chunk`` streams (OpenAI, llama.cpp, Mistral shapes) with their script."""
    return st.builds(
        _chat_events,
        _bridge_scripts(("text", "refusal", "reasoning", "tool"), ("completed", "incomplete")),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    )


def _anthropic_events(script: Script, pings: bool) -> ChunkStream:
    out: list[tuple[str | None, str]] = []

    def emit(kind: str, **body: Any) -> None:
        out.append((kind, json.dumps({"type": kind, **body})))
        if pings and len(out) % 3 == 0:
            out.append(("ping", json.dumps({"type": "ping"})))

    emit(
        "message_start",
        message={
            "id": "msg_fuzz",
            "type": "message",
            "role": "assistant",
            "model": script.model,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    )
    for index, step in enumerate(script.steps):
        if step.kind == "text":
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            for piece in step.pieces:
                emit("content_block_delta", index=index, delta={"type": "text_delta", "text": piece})
        elif step.kind == "reasoning":
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "thinking", "thinking": "", "signature": ""},
            )
            for piece in step.pieces:
                emit("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": piece})
            emit("content_block_delta", index=index, delta={"type": "signature_delta", "signature": "sig"})
        else:  # tool
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "tool_use", "id": f"toolu_{index}", "name": step.name, "input": {}},
            )
            for piece in step.pieces:
                emit(
                    "content_block_delta",
                    index=index,
                    delta={"type": "input_json_delta", "partial_json": piece},
                )
        emit("content_block_stop", index=index)
    stop = {"completed": "end_turn", "incomplete": "max_tokens"}[script.ending]
    emit("message_delta", delta={"stop_reason": stop, "stop_sequence": None}, usage={"output_tokens": 7})
    emit("message_stop")
    return ChunkStream(script, tuple(out))


def anthropic_streams() -> st.SearchStrategy[ChunkStream]:
    """Anthropic Messages SSE streams (text, thinking, tool_use blocks) with their script."""
    return st.builds(
        _anthropic_events,
        _bridge_scripts(("text", "reasoning", "tool"), ("completed", "incomplete")),
        st.booleans(),
    )


def _gemini_events(script: Script, per_chunk: int) -> ChunkStream:
    parts: list[dict[str, Any]] = []
    for step in script.steps:
        if step.kind == "tool":
            parts.append(
                {"functionCall": {"name": step.name, "args": json.loads("".join(step.pieces) or "{}")}}
            )
        else:
            for piece in step.pieces:
                parts.append(
                    {"text": piece, "thought": True} if step.kind == "reasoning" else {"text": piece}
                )
    groups = [parts[i : i + per_chunk] for i in range(0, len(parts), per_chunk)] or [[]]
    finish = {"completed": "STOP", "incomplete": "MAX_TOKENS"}[script.ending]
    out: list[tuple[str | None, str]] = []
    for number, group in enumerate(groups):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": group}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate], "modelVersion": script.model}
        if number == len(groups) - 1:
            candidate["finishReason"] = finish
            body["usageMetadata"] = {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}
        out.append((None, json.dumps(body)))
    return ChunkStream(script, tuple(out))


def gemini_streams() -> st.SearchStrategy[ChunkStream]:
    """``streamGenerateContent?alt=sse`` chunk streams with their script."""
    return st.builds(
        _gemini_events,
        _bridge_scripts(("text", "reasoning", "tool"), ("completed", "incomplete")),
        st.integers(1, 3),
    )


# --- Arguments of responses() ------------------------------------------------------------------------

_VALID_PARAMS: dict[str, Callable[[], Strategy]] = {
    "temperature": lambda: st.floats(0, 2),
    "top_p": lambda: st.floats(0, 1),
    "presence_penalty": lambda: st.floats(-2, 2),
    "frequency_penalty": lambda: st.floats(-2, 2),
    "max_output_tokens": lambda: st.integers(16, 4096),
    "max_tool_calls": lambda: st.integers(1, 8),
    "stream": st.booleans,
    "parallel_tool_calls": st.booleans,
    "store": lambda: st.just(False),
    "instructions": lambda: _text(1),
    "user": lambda: _text(1, 12),
    "safety_identifier": lambda: _text(1, 12),
    "prompt_cache_key": lambda: _text(1, 12),
    "service_tier": lambda: from_schema("ServiceTierEnum"),
    "truncation": lambda: from_schema("TruncationEnum"),
    "metadata": lambda: from_schema("MetadataParam"),
    "include": lambda: st.lists(from_schema("IncludeEnum"), max_size=2),
    "reasoning": lambda: from_schema("ReasoningParam"),
    "text": lambda: from_schema("TextParam"),
    "tools": lambda: st.lists(tools(), max_size=2),
    "tool_choice": lambda: from_schema("ToolChoiceParam"),
}


def responses_arguments(names: tuple[str, ...] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for ``responses()``: a few parameters, each a valid value or a wild one."""
    pool = tuple(names or _VALID_PARAMS)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        out: dict[str, Any] = {}
        for name in chosen:
            valid = _VALID_PARAMS.get(name)
            out[name] = draw(valid() if valid is not None and draw(st.booleans()) else wild_values())
        return out

    return build()
