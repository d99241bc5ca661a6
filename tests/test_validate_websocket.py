"""The WebSocket rules: each with a violating exchange it catches and a conforming one it passes.

Exchanges are record lists (:mod:`tests.ws_samples`) built from the spec's own examples; each
case changes one thing. ``WS_CASES`` is also what ``tests/test_validate_rules.py`` counts
when it checks that every rule of the catalogue has a case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from anyllm.testing.rules import RULES
from anyllm.testing.rules_websocket import WEBSOCKET_RULES
from anyllm.testing.validate import (
    Violation,
    WebSocketValidator,
    validate_compact,
    validate_websocket,
)
from anyllm.testing.validate.ws_records import RecordError, WsRecord, parse_jsonl, record_from
from tests.validate_samples import find, renumber
from tests.ws_samples import (
    COMPACTED_WINDOW,
    NOT_FOUND_ENVELOPE,
    closed,
    continuation,
    create,
    events_for,
    follow_up,
    one_turn,
    opened,
    recv,
    send,
    turn,
)

Pair = tuple[list[Violation], list[Violation]]
WS_CASES: dict[str, Callable[[], Pair]] = {}


def case(rule: str) -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    def register(fn: Callable[[], Pair]) -> Callable[[], Pair]:
        WS_CASES[rule] = fn
        return fn

    return register


def ws(records: list[dict[str, Any]], **kw: Any) -> list[Violation]:
    return validate_websocket(records, **kw)


def ok() -> list[Violation]:
    return ws(continuation())


# --- Transport ---------------------------------------------------------------------------------


@case("WS-CREATE-MESSAGE")
def _create_message() -> Pair:
    bad = one_turn()
    bad[1] = send({**create(), "type": "response.start"})
    return ws(bad), ws(one_turn())


@case("WS-FORBIDDEN-FIELD")
def _forbidden() -> Pair:
    bad = [opened(), *turn(create(stream=True), events_for("resp_1")), closed()]
    return ws(bad), ws(one_turn())


@case("WS-FRAME-JSON")
def _frame_json() -> Pair:
    bad = one_turn()
    bad.insert(3, recv("event: response.in_progress"))
    return ws(bad), ws(one_turn())


@case("WS-DONE-FRAME")
def _done_frame() -> Pair:
    bad = one_turn()
    bad.insert(-1, recv("[DONE]"))
    found = ws(bad)
    assert all(v.severity != "error" for v in found), [str(v) for v in found]
    return found, ws(one_turn())


@case("WS-EVENT-WITHOUT-CREATE")
def _without_create() -> Pair:
    bad = one_turn()
    bad.insert(1, recv({"type": "response.in_progress", "sequence_number": 0, "response": {}}))
    return ws(bad), ws(one_turn())


@case("WS-ONE-IN-FLIGHT")
def _one_in_flight() -> Pair:
    """Two creates sent back to back (allowed); the server interleaves the two responses."""
    first, second = events_for("resp_1"), events_for("resp_2")
    mixed = first[:3] + second + first[3:]
    renumber(mixed)
    bad = [opened(), send(create()), send(create("Now optimize it.")), *map(recv, mixed), closed()]
    sequential = [
        opened(),
        send(create()),
        send(create("Now optimize it.")),
        *map(recv, first + second),
        closed(),
    ]
    return ws(bad), ws(sequential)


# --- Errors ------------------------------------------------------------------------------------


@case("WS-ERROR-ENVELOPE")
def _envelope() -> Pair:
    """The SSE error event's shape (no status) sent as a WebSocket failure."""
    sse_style = {
        "type": "error",
        "sequence_number": 0,
        "error": {
            "type": "invalid_request",
            "code": "previous_response_not_found",
            "message": "gone",
            "param": None,
        },
    }
    bad = [opened(), send(follow_up("resp_abc")), recv(sse_style), closed()]
    good = [opened(), send(follow_up("resp_abc")), recv(NOT_FOUND_ENVELOPE), closed()]
    return ws(bad), ws(good)


@case("WS-CLOSED-WITHOUT-ERROR")
def _closed_without_error() -> Pair:
    """What LiteLLM's proxy does on a loopback ws:// URL: accept, then close 1011."""
    bad = [opened(), send(create()), closed(1011, "internal error")]
    good = [
        opened(),
        send(create()),
        recv(
            {
                **NOT_FOUND_ENVELOPE,
                "status": 500,
                "error": {"code": "server_error", "message": "internal error"},
            }
        ),
        closed(1011, "internal error"),
    ]
    return ws(bad), ws(good)


# --- Continuation ------------------------------------------------------------------------------


@case("WS-PREVIOUS-NOT-FOUND")
def _previous_not_found() -> Pair:
    """A store=false continuation on a new connection (after a reconnect) is answered."""
    bad = [
        opened(),
        *turn(create(), events_for("resp_1")),
        closed(),
        opened(),
        *turn(follow_up("resp_1"), events_for("resp_2", previous="resp_1")),
        closed(),
    ]
    good = [*bad[: -len(events_for("resp_2")) - 1], recv(NOT_FOUND_ENVELOPE), closed()]
    return ws(bad), ws(good)


@case("WS-FAILED-CONTINUATION-EVICTS")
def _evicts() -> Pair:
    failing = follow_up("resp_1")
    failing["input"][0]["call_id"] = "call_missing"
    refused = {**NOT_FOUND_ENVELOPE, "error": {"code": "invalid_function_call_output", "message": "no call"}}
    head = [opened(), *turn(create(), events_for("resp_1")), send(failing), recv(refused)]
    retry = follow_up("resp_1")
    bad = [*head, *turn(retry, events_for("resp_2", previous="resp_1")), closed()]
    good = [*head, send(retry), recv(NOT_FOUND_ENVELOPE), closed()]
    return ws(bad), ws(good)


# --- Compaction --------------------------------------------------------------------------------


def _compacted_turn(**fields: Any) -> list[dict[str, Any]]:
    body = create([*COMPACTED_WINDOW, {"type": "message", "role": "user", "content": "Continue."}], **fields)
    return [opened(), *turn(create(), events_for("resp_1")), *turn(body, events_for("resp_2")), closed()]


@case("WS-COMPACT-NEW-CHAIN")
def _compact_new_chain() -> Pair:
    bad = _compacted_turn(previous_response_id="resp_1")
    for record in bad[-len(events_for("resp_2")) - 1 : -1]:  # the reply echoes what was asked
        record["text"] = record["text"].replace(
            '"previous_response_id": null', '"previous_response_id": "resp_1"'
        )
    return ws(bad), ws(_compacted_turn())


@case("WS-COMPACT-BASE-INPUT")
def _compact_base_input() -> Pair:
    reordered = create([COMPACTED_WINDOW[1], {"type": "message", "role": "user", "content": "Continue."}])
    bad = [opened(), *turn(reordered, events_for("resp_2")), closed()]
    return ws(bad, compacted=[COMPACTED_WINDOW]), ws(_compacted_turn(), compacted=[COMPACTED_WINDOW])


@case("SCHEMA-COMPACT")
def _schema_compact() -> Pair:
    good = {
        "id": "resp_001",
        "object": "response.compaction",
        "created_at": 1764967971,
        "output": COMPACTED_WINDOW,
        "usage": {
            "input_tokens": 139,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 438,
            "output_tokens_details": {"reasoning_tokens": 64},
            "total_tokens": 577,
        },
    }
    return validate_compact({**good, "object": "response"}), validate_compact(good)


# --- The tests ---------------------------------------------------------------------------------


def test_every_websocket_rule_has_a_case() -> None:
    assert set(WS_CASES) == {rule.id for rule in WEBSOCKET_RULES}
    assert set(WS_CASES) <= set(RULES)


@pytest.mark.parametrize("rule", sorted(WS_CASES))
def test_rule_catches_violation_and_passes_conforming(rule: str) -> None:
    violating, conforming = WS_CASES[rule]()
    assert rule in {v.rule for v in violating}, [str(v) for v in violating]
    assert rule not in {v.rule for v in conforming}, [str(v) for v in conforming if v.rule == rule]


@pytest.mark.parametrize("profile", ["openresponses", "openai"])
def test_conforming_exchanges_are_clean(profile: str) -> None:
    for records in (one_turn(), continuation(), _compacted_turn()):
        assert validate_websocket(records, profile) == []  # type: ignore[arg-type]
    refused = [opened(), send(follow_up("resp_abc")), recv(NOT_FOUND_ENVELOPE), closed()]
    assert validate_websocket(refused, profile) == []  # type: ignore[arg-type]


def test_stream_rules_apply_to_a_turn_and_name_the_record() -> None:
    """Same ordering and sequence_number rules as SSE; the path is the record's index."""
    records = one_turn()
    events = events_for("resp_1")
    i = find(events, "response.output_text.delta")
    events[i]["sequence_number"] = 0
    records = [opened(), *turn(create(), events), closed()]
    (v,) = [v for v in ws(records) if v.rule == "STREAM-SEQUENCE-MONOTONIC"]
    assert v.path == f"$[{2 + i}].sequence_number"
    assert v.message.startswith("[connection 1 turn 1]")


def test_sse_framing_rules_do_not_apply() -> None:
    """No [DONE] and no event: names on a WebSocket: not SSE-DONE-TERMINAL, not SSE-EVENT-NAME-MISSING."""
    assert not [v for v in ws(one_turn()) if v.rule.startswith("SSE-")]


def test_a_turn_cut_by_the_close_misses_its_terminal_event() -> None:
    events = events_for("resp_1")
    records = [opened(), *turn(create(), events[:5]), closed(1011)]
    rules = {v.rule for v in ws(records)}
    assert {"WS-CLOSED-WITHOUT-ERROR", "TERMINAL-EVENT-MISSING"} <= rules


def test_a_recording_that_ends_mid_turn_is_not_a_close() -> None:
    records = [opened(), send(create())]
    rules = {v.rule for v in ws(records)}
    assert rules == {"TERMINAL-EVENT-MISSING"}


def test_request_schema_is_checked_on_the_create_message() -> None:
    records = [opened(), *turn(create(temperature="hot"), events_for("resp_1")), closed()]
    found = [v for v in ws(records) if v.rule == "SCHEMA-REQUEST"]
    assert found and found[0].path.startswith("$[1]")


def test_mid_stream_error_must_be_followed_by_failed() -> None:
    events = events_for("resp_1")[:4]
    error = {
        **NOT_FOUND_ENVELOPE,
        "status": 500,
        "sequence_number": 4,
        "error": {"type": "server_error", "code": "server_error", "message": "boom", "param": None},
    }
    records = [
        opened(),
        *turn(create(), [*events, error]),
        *turn(create("next"), events_for("resp_2")),
        closed(),
    ]
    validator = WebSocketValidator()
    for record in records:
        validator.feed(record)
    validator.finish()
    rules = {v.rule for v in validator.violations}
    assert "ERROR-EVENT-FOLLOWED-BY-FAILED" in rules
    first, second = validator.turns
    assert (
        first.error is not None and second.response_id == "resp_2" and second.terminal == "response.completed"
    )


def test_turn_summaries_carry_what_the_cases_judge() -> None:
    validator = WebSocketValidator()
    for record in [*continuation()[:-1], send(follow_up("resp_zzz")), recv(NOT_FOUND_ENVELOPE), closed()]:
        validator.feed(record)
    validator.finish()
    assert validator.violations == []
    first, second, third = validator.turns
    assert (first.response_id, first.terminal, first.final and first.final["status"]) == (
        "resp_1",
        "response.completed",
        "completed",
    )
    assert second.request["previous_response_id"] == "resp_1" and second.response_id == "resp_2"
    assert third.error_code == "previous_response_not_found" and third.status == 400 and third.failed


def test_frames_objects_of_the_library_are_records() -> None:
    frames = pytest.importorskip("anyllm.websocket.frames", reason="the WebSocket session module is absent")
    records = [frames.Frame("send", 0.0, json.dumps(create())), frames.Frame("recv", 0.1, "[DONE]")]
    assert [r.direction for r in map(record_from, records)] == ["send", "recv"]


def test_jsonl_records_and_their_problems() -> None:
    lines = [json.dumps(r) for r in one_turn()]
    lines.insert(2, "{not json")
    lines.insert(3, json.dumps({"direction": "sideways"}))
    records, problems = parse_jsonl("\n".join(lines))
    assert len(records) == len(one_turn())
    assert [line for line, _ in problems] == [3, 4]
    assert records[1].line == 2 and records[2].line == 5
    assert WsRecord("close", 1.0, "bye", code=1000).to_dict() == {
        "direction": "close",
        "at": 1.0,
        "code": 1000,
        "reason": "bye",
    }
    with pytest.raises(RecordError, match="direction"):
        record_from({"direction": "up"})
    with pytest.raises(RecordError, match="binary"):
        record_from({"direction": "recv", "text": b"\xff\xfe"})


def test_a_window_passed_back_without_output_only_fields_is_the_window() -> None:
    """The window's items as the server returned them (created_by, status) and as a client
    passes them back (ItemParam has neither): the same items, in the same order."""
    returned = [
        {**COMPACTED_WINDOW[0]},
        {**COMPACTED_WINDOW[1], "created_by": "server"},
    ]
    passed_back = [
        {k: v for k, v in COMPACTED_WINDOW[0].items() if k != "status"},
        {k: v for k, v in COMPACTED_WINDOW[1].items() if k != "created_by"},
        {"type": "message", "role": "user", "content": "Continue."},
    ]
    records = [opened(), *turn(create(passed_back), events_for("resp_2")), closed()]
    assert "WS-COMPACT-BASE-INPUT" not in {v.rule for v in ws(records, compacted=[returned])}
    reordered = [passed_back[1], passed_back[0], passed_back[2]]
    records = [opened(), *turn(create(reordered), events_for("resp_2")), closed()]
    assert "WS-COMPACT-BASE-INPUT" in {v.rule for v in ws(records, compacted=[returned])}
