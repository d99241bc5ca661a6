"""What anyllm returns serializes spec-valid the way users dump it (issue 14, item 16).

``model_dump()`` and ``model_dump_json()``, with no argument, of every ResponseResource and
every stream event that anyllm returns (and of the items and parts inside them) must pass the
validator. Checked for every protocol through the real clients against a loopback server
replaying real recorded traffic (``../shared/corpus``; Gemini, absent from the corpus, from the
documentation-derived fixtures of its bridge test), and for every event type of the spec from
schema-generated events. The plain dump may add fields nobody set only when their value is
not null (a model default such as ``annotations: []``); everything that was set is dumped
as it was set.

OpenAI-native providers return the openai SDK's own types; their documented plain dump is the
SDK's ``to_dict()`` / ``to_json()`` (set fields only), checked here under the ``openai`` profile.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from anyllm.errors import AnyLLMError
from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import Violation, default_store, validate_response, validate_stream
from anyllm.types import event_from_dict, event_from_json, response_from_dict
from tests.helpers.calls import aresponses_at, responses_at
from tests.helpers.corpus import corpus_rows
from tests.helpers.loopback import LoopbackServer, Reply
from tests.helpers.synth import synth_events

# --------------------------------------------------------------------------------- judging dumps


def _errors(found: list[Violation]) -> list[str]:
    return [str(v) for v in found if v.severity == "error"]


def _set_fields_kept(wire: Any, plain: Any, where: str = "$") -> list[str]:
    """Every field of the set-fields dump is in the plain dump with the same value; what the
    plain dump adds is never null."""
    if isinstance(wire, dict) and isinstance(plain, dict):
        lost = [f"{where}.{k}: missing" for k in wire if k not in plain]
        added = [f"{where}.{k}: null added" for k in plain if k not in wire and plain[k] is None]
        inner = [p for k in wire if k in plain for p in _set_fields_kept(wire[k], plain[k], f"{where}.{k}")]
        return lost + added + inner
    if isinstance(wire, list) and isinstance(plain, list) and len(wire) == len(plain):
        return [
            p
            for i, (a, b) in enumerate(zip(wire, plain, strict=True))
            for p in _set_fields_kept(a, b, f"{where}[{i}]")
        ]
    return [] if wire == plain else [f"{where}: {wire!r} dumped as {plain!r}"]


def _plain(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two plain dumps (Python mode made JSON, and JSON), checked to agree with each other
    and with the set-fields dump."""
    python = json.loads(json.dumps(model.model_dump()))
    from_json = json.loads(model.model_dump_json())
    assert python == from_json
    wire = model.model_dump(mode="json", exclude_unset=True, by_alias=True)
    assert _set_fields_kept(wire, from_json) == []
    return python, from_json


def _item_problems(item: Any) -> list[str]:
    """An output item dumped on its own, against the schema of its type."""
    store = default_store()
    dumped = json.loads(item.model_dump_json())
    schema = store.members("item").get(dumped.get("type", ""))
    if schema is None:  # an implementor-prefixed extension item: an opaque record
        return []
    validator = store.validator(schema)
    return [f"{schema}: {e.message}" for e in validator.iter_errors(dumped)]


def check_response(response: Any, profile: str = "openresponses") -> None:
    python, from_json = _plain(response)
    assert _errors(validate_response(python, profile)) == []  # type: ignore[arg-type]
    assert _errors(validate_response(from_json, profile)) == []  # type: ignore[arg-type]
    for item in response.output:
        assert _item_problems(item) == []


def check_stream(events: list[Any], profile: str = "openresponses") -> None:
    dumps = [_plain(event)[1] for event in events]
    assert _errors(validate_stream(dumps, profile)) == []  # type: ignore[arg-type]
    for event in events:
        item = getattr(event, "item", None)
        if item is not None:
            assert _item_problems(item) == []


# ------------------------------------------------------------------------------ replaying replies


def _sse(row: dict[str, Any]) -> Reply:
    chunks = []
    for event in row["sse_events"]:
        data = event["data"] if isinstance(event["data"], str) else json.dumps(event["data"])
        head = f"event: {event['event']}\n" if event.get("event") else ""
        chunks.append(f"{head}data: {data}\n\n".encode())
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=chunks)


def _reply(row: dict[str, Any]) -> tuple[Reply, bool]:
    if row.get("sse_events"):
        return _sse(row), True
    return Reply.json(row["response_json"]), False


def _replay(
    rows: list[dict[str, Any]], call: Callable[..., Any], check: Callable[[Any, bool], None], least: int
) -> int:
    """Each recorded reply through ``call`` at a loopback server; ``check`` what comes back.
    A reply the library refuses with its typed error is not a serialization case."""
    checked = 0
    for row in rows:
        reply, streamed = _reply(row)
        with LoopbackServer(reply) as server:
            try:
                result = call(server, stream=streamed)
                events = list(result) if streamed else None
            except AnyLLMError:
                continue
        check(events if streamed else result, streamed)
        checked += 1
    assert checked >= least, f"only {checked} recorded replies were translated"
    return checked


def _translated(result: Any, streamed: bool) -> None:
    if streamed:
        check_stream(result)
    else:
        check_response(result)


def _ok(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == 200 and (r.get("sse_events") or r.get("response_json"))]


# ------------------------------------------------------------------------------------ protocols


def test_chat_protocol_dumps_are_spec_valid() -> None:
    rows = [
        r
        for p in ("mistral", "groq", "openrouter", "cerebras", "huggingface")
        for r in _ok(corpus_rows(p, "/chat/completions"))
    ]
    call = partial(responses_at, provider="openai_compatible")
    print(f"\nchat: {_replay(rows, call, _translated, least=50)} recorded replies dumped plainly")


def test_anthropic_protocol_dumps_are_spec_valid() -> None:
    rows = _ok(corpus_rows("anthropic", "/messages"))
    call = partial(responses_at, provider="anthropic", path="", model="claude-sonnet-4-5")
    print(f"\nanthropic: {_replay(rows, call, _translated, least=50)} recorded replies dumped plainly")


def test_gemini_protocol_dumps_are_spec_valid() -> None:
    # No native Gemini traffic is recorded: the documentation-derived fixtures of the bridge test.
    from tests import test_gemini_bridge as gemini

    call = partial(responses_at, provider="gemini", path="/v1beta", model=gemini.MODEL)
    for body in (gemini.doc_derived_text_response, gemini.doc_derived_parallel_calls_response):
        with LoopbackServer(Reply.json(body)) as server:
            check_response(call(server))
    for chunks in (gemini.doc_derived_text_stream, gemini.doc_derived_thinking_tool_stream):
        with LoopbackServer(gemini.sse(chunks)) as server:
            check_stream(list(call(server, stream=True)))


def _responses_rows() -> list[dict[str, Any]]:
    """OpenAI's recorded /v1/responses replies whose wire passes the openai profile."""
    rows = []
    for row in _ok(corpus_rows("openai", "/responses")):
        if row.get("sse_events"):
            pairs = [(e["event"], e["data"]) for e in row["sse_events"]]
            found = validate_stream(pairs, "openai")
        else:
            found = validate_response(row["response_json"], "openai")
        if not _errors(found):
            rows.append(row)
    return rows


def test_openresponses_protocol_dumps_are_spec_valid() -> None:
    def check(result: Any, streamed: bool) -> None:
        if streamed:
            check_stream(result, "openai")
        else:
            check_response(result, "openai")

    call = partial(responses_at, provider="openresponses", model="gpt-5")
    checked = _replay(_responses_rows(), call, check, least=60)
    print(f"\nopenresponses: {checked} recorded replies dumped plainly")


def test_openai_protocol_documented_dump_is_valid() -> None:
    """The openai SDK's types: ``to_dict()`` / ``to_json()`` (its set-fields dump) are valid."""

    def check(result: Any, streamed: bool) -> None:
        objects = result if streamed else [result]
        dumps = [o.to_dict() for o in objects]
        assert dumps == [json.loads(o.to_json()) for o in objects]
        if streamed:
            assert _errors(validate_stream(dumps, "openai")) == []
        else:
            assert _errors(validate_response(dumps[0], "openai")) == []

    call = partial(responses_at, provider="openai", model="gpt-5")
    _replay(_responses_rows()[:40], call, check, least=30)


async def test_async_streams_dump_the_same() -> None:
    rows = [r for r in _ok(corpus_rows("anthropic", "/messages")) if r.get("sse_events")]
    assert rows
    for row in rows:
        with LoopbackServer(_sse(row)) as server:
            stream = await aresponses_at(
                server, provider="anthropic", path="", model="claude-sonnet-4-5", stream=True
            )
            check_stream([event async for event in stream])


def test_the_issues_three_nulls_are_gone() -> None:
    """``"phase": null`` on messages, ``"text": {"verbosity": null}``, ``"obfuscation": null``:
    the exact leaks the issue reports (LiteLLM's gateway failed certify on the first)."""
    events = [event_from_dict(e) for e in synth_events(tool=("get_weather", '{"city":"Paris"}'))]
    text = "".join(event.model_dump_json() for event in events)
    assert '"phase":null' not in text and '"verbosity":null' not in text and '"obfuscation":null' not in text
    final = events[-1].response  # type: ignore[attr-defined]
    assert "phase" not in final.output[0].model_dump()
    assert final.text.model_dump() == {"format": {"type": "text"}}
    set_null = response_from_dict({**synth_events()[-1]["response"], "instructions": None})
    assert set_null.model_dump()["instructions"] is None  # a required nullable field stays


def test_wire_names_in_plain_dumps() -> None:
    """``text.format.schema`` is dumped under its wire name, not the Python name ``schema_``."""
    response = synth_events()[-1]["response"]
    fmt = {"type": "json_schema", "name": "person", "description": None, "schema": None, "strict": True}
    typed = response_from_dict({**response, "text": {"format": fmt}})
    assert typed.model_dump()["text"]["format"] == fmt
    assert json.loads(typed.model_dump_json())["text"]["format"] == fmt


# ----------------------------------------------------------------------------- every event type


def _event_schemas() -> list[str]:
    return sorted(default_store().events.values())


@fuzz_settings(max_examples=0.5)
@given(st.sampled_from(_event_schemas()).flatmap(lambda name: st.tuples(st.just(name), S.from_schema(name))))
def test_every_event_type_dumps_plainly_to_its_schema(case: tuple[str, dict[str, Any]]) -> None:
    name, event = case
    validator = default_store().validator(name)
    for typed in (event_from_dict(event), event_from_json(json.dumps(event), event["type"])):
        python, from_json = _plain(typed)
        for dumped in (python, from_json):
            assert [e.message for e in validator.iter_errors(dumped)] == [], (name, dumped)


def test_every_event_type_is_generated() -> None:
    """The property above draws from all of the spec's event schemas."""
    assert len(_event_schemas()) == 24
    assert all(name.endswith("StreamingEvent") for name in _event_schemas())


def test_all_protocols_are_covered() -> None:
    from anyllm.providers.registry import list_providers, provider_metadata

    protocols = {provider_metadata(name).protocol for name in list_providers()}
    assert protocols == {"openai", "openresponses", "chat", "anthropic", "gemini"}
