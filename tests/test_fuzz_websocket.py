"""Mutation testing of the WebSocket validator.

Generated conforming streams become WebSocket exchanges that pass; each mutation of the
catalogue (one fault a server or client could make on a WebSocket) must be reported under
the rule that names it. Two families:

* the WebSocket rules (:data:`WS_CATALOGUE`), on a four-turn connection: a turn, a store=false
  continuation, a failed continuation (which evicts the id), a retry refused with
  ``previous_response_not_found``, and a turn built on a compacted window;
* the streaming rules (every operator of ``tests/test_fuzz_validator.py`` except the SSE
  framing ones), applied to the events of one WebSocket turn: "Event ordering,
  sequence_number, output item lifecycle, content part lifecycle, and terminal response
  events have the same meaning on both transports".

The score (killed / applied) is printed by the last test; run with ``-s`` to see it.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import WebSocketValidator
from tests.test_fuzz_validator import CATALOGUE as SSE_CATALOGUE
from tests.test_fuzz_validator import Frames, body, frames_of
from tests.ws_samples import COMPACTED_WINDOW, NOT_FOUND_ENVELOPE, closed, opened, recv, send

Records = list[dict[str, Any]]
Pick = Callable[[list[int]], int]
SCORE: Counter[str] = Counter()
MISSED: dict[str, str] = {}
TERMINALS = ("response.completed", "response.incomplete", "response.failed")


def _after_terminal(frames: Frames) -> bool:
    """An event follows the first terminal event (moved, duplicated or swapped behind it)."""
    types = [b.get("type") for frame in frames if (b := body(frame)) is not None]
    ends = [i for i, t in enumerate(types) if t in TERMINALS]
    return bool(ends) and ends[0] < len(types) - 1


def relabel(events: list[dict[str, Any]], response_id: str, previous: str | None) -> list[dict[str, Any]]:
    events = copy.deepcopy(events)
    for event in events:
        response = event.get("response")
        if isinstance(response, dict):
            response["id"] = response_id
            response["previous_response_id"] = previous
    return events


def create(model: str, input_data: Any = "fuzz", **fields: Any) -> dict[str, Any]:
    return {"type": "response.create", "model": model, "store": False, "input": input_data, **fields}


def exchange(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> Records:
    """The four-turn connection of the module doc, plus the compacted-window turn."""
    model = first[0]["response"]["model"]
    tool_output = [{"type": "function_call_output", "call_id": "call_0", "output": "42"}]
    refused = {**NOT_FOUND_ENVELOPE, "error": {"code": "invalid_request", "message": "no such call"}}
    window = [*COMPACTED_WINDOW, {"type": "message", "role": "user", "content": "Continue."}]
    return [
        opened(),
        send(create(model)),
        *map(recv, relabel(first, "resp_a", None)),
        send(create(model, tool_output, previous_response_id="resp_a")),
        *map(recv, relabel(second, "resp_b", "resp_a")),
        send(create(model, tool_output, previous_response_id="resp_b", metadata={"turn": "fails"})),
        recv(refused),
        send(create(model, "retry", previous_response_id="resp_b")),
        recv(NOT_FOUND_ENVELOPE),
        send(create(model, window)),
        *map(recv, relabel(first, "resp_e", None)),
        closed(),
    ]


def rules(records: Records, compacted: list[Any] | None = None) -> set[str]:
    validator = WebSocketValidator(compacted=[compacted] if compacted else ())
    for record in records:
        validator.feed(record)
    validator.finish()
    return {v.rule for v in validator.violations if v.severity != "info"}


def sends(records: Records) -> list[int]:
    return [i for i, r in enumerate(records) if r["direction"] == "send"]


def message(records: Records, i: int) -> dict[str, Any]:
    return json.loads(records[i]["text"])  # type: ignore[no-any-return]


def put(records: Records, i: int, body: Any) -> None:
    records[i]["text"] = body if isinstance(body, str) else json.dumps(body)


def envelope_of(records: Records, code: str) -> int:
    return next(i for i, r in enumerate(records) if r["direction"] == "recv" and f'"{code}"' in r["text"])


# --- WebSocket mutations: (expected rules, mutate(records, pick, second) -> records) -----------


def _other_type(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = pick(sends(records))
    put(records, i, {**message(records, i), "type": ("create", "response.cancel")[pick([0, 1])]})
    return records


def _not_json(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = pick(sends(records))
    put(records, i, records[i]["text"][:-1])
    return records


def _forbidden(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = pick(sends(records))
    field = ("stream", "stream_options", "background")[pick([0, 1, 2])]
    put(
        records,
        i,
        {**message(records, i), field: {"stream": True, "stream_options": {}, "background": False}[field]},
    )
    return records


def _garbage_frame(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = pick([i for i, r in enumerate(records) if r["direction"] == "recv"])
    records.insert(i, recv(('"response.created"', 'data: {"type": "response.created"}')[pick([0, 1])]))
    return records


def _done_frame(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    records.insert(pick([i for i, r in enumerate(records) if r["direction"] == "recv"]), recv("[DONE]"))
    return records


def _event_without_create(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    event = json.loads(records[2]["text"])  # turn 1's response.created
    records.insert(pick([1, len(records) - 1]), recv(event))
    return records


def _multiplex(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    """Turn 2 sent before turn 1's answer; its response starts inside turn 1's stream."""
    first_send, second_send = sends(records)[:2]
    create2 = records.pop(second_send)
    records.insert(first_send + 1, create2)
    start = first_send + 2
    turn1 = list(range(start, second_send + 1))
    turn2 = records[second_send + 1 : second_send + 1 + len(second)]
    del records[second_send + 1 : second_send + 1 + len(second)]
    at = pick(turn1[1:])  # after turn 1's response.created, before its terminal event
    records[at:at] = turn2
    return records


def _envelope_broken(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = envelope_of(records, "invalid_request")
    envelope = json.loads(records[i]["text"])
    if pick([0, 1]):
        del envelope["status"]
    else:
        del envelope["error"]["code"]
    put(records, i, envelope)
    return records


def _closed_mid_turn(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    """The last turn cut before its terminal event (and before any error event it streams)."""
    last = sends(records)[-1]
    ends = [i for i in range(last + 1, len(records) - 1) if '"type": "error"' in records[i]["text"]]
    stop = min([*ends, len(records) - 2])  # the terminal event is the record before the close
    cut = pick(list(range(last + 1, stop + 1)))
    return [*records[:cut], closed(1011, "internal error")]


def _unknown_answered(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    """The retry continues from an id the connection never produced, and is answered."""
    i = envelope_of(records, "previous_response_not_found")
    retry = message(records, i - 1)
    retry["previous_response_id"] = "resp_never_seen"
    put(records, i - 1, retry)
    records[i : i + 1] = map(recv, relabel(second, "resp_d", "resp_never_seen"))
    return records


def _evicted_answered(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = envelope_of(records, "previous_response_not_found")
    if pick([0, 1]):
        records[i : i + 1] = map(recv, relabel(second, "resp_d", "resp_b"))
    else:
        put(records, i, {**NOT_FOUND_ENVELOPE, "error": {"code": "invalid_request", "message": "try again"}})
    return records


def _compact_continues(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = sends(records)[-1]
    put(records, i, {**message(records, i), "previous_response_id": "resp_a"})
    return records


def _compact_reordered(records: Records, pick: Pick, second: list[dict[str, Any]]) -> Records:
    i = sends(records)[-1]
    body = message(records, i)
    items = body["input"]
    body["input"] = [items[1], items[0], *items[2:]] if pick([0, 1]) else items[1:]
    put(records, i, body)
    return records


WsMutation = Callable[[Records, Pick, list[dict[str, Any]]], Records]
WS_CATALOGUE: dict[str, tuple[frozenset[str], WsMutation]] = {
    "client message of another type": (frozenset({"WS-CREATE-MESSAGE"}), _other_type),
    "client message not JSON": (frozenset({"WS-CREATE-MESSAGE"}), _not_json),
    "stream/stream_options/background sent": (frozenset({"WS-FORBIDDEN-FIELD"}), _forbidden),
    "server frame not an event object": (frozenset({"WS-FRAME-JSON"}), _garbage_frame),
    "[DONE] frame": (frozenset({"WS-DONE-FRAME"}), _done_frame),
    "event with no create waiting": (frozenset({"WS-EVENT-WITHOUT-CREATE"}), _event_without_create),
    "two responses multiplexed": (frozenset({"WS-ONE-IN-FLIGHT"}), _multiplex),
    "error envelope without status or code": (frozenset({"WS-ERROR-ENVELOPE"}), _envelope_broken),
    "closed mid-turn without an envelope": (frozenset({"WS-CLOSED-WITHOUT-ERROR"}), _closed_mid_turn),
    "store=false continuation from an unknown id answered": (
        frozenset({"WS-PREVIOUS-NOT-FOUND"}),
        _unknown_answered,
    ),
    "evicted id answered, or refused with another code": (
        frozenset({"WS-FAILED-CONTINUATION-EVICTS"}),
        _evicted_answered,
    ),
    "compacted turn keeps previous_response_id": (frozenset({"WS-COMPACT-NEW-CHAIN"}), _compact_continues),
    "compacted window not the base of the input": (frozenset({"WS-COMPACT-BASE-INPUT"}), _compact_reordered),
}


TURN_STREAMS = S.event_streams()


@fuzz_settings(max_examples=0.3)
@given(TURN_STREAMS, TURN_STREAMS, st.data())
def test_every_websocket_mutant_is_reported_under_its_rule(
    first: list[dict[str, Any]], second: list[dict[str, Any]], data: st.DataObject
) -> None:
    assert rules(exchange(first, second), COMPACTED_WINDOW) == set(), "the unmutated exchange must pass"
    for name, (expected, mutate) in WS_CATALOGUE.items():

        def pick(candidates: list[int], name: str = name) -> int:
            return data.draw(st.sampled_from(candidates), label=name)

        found = rules(mutate(exchange(first, second), pick, second), COMPACTED_WINDOW)
        _score(name, found, expected)


# --- The streaming rules on a WebSocket turn ----------------------------------------------------

STREAM_CATALOGUE = {
    name: (expected, mutate)
    for name, (expected, mutate) in SSE_CATALOGUE.items()
    if not all(rule.startswith("SSE-") for rule in expected)
}


def one_turn(frames: Frames) -> Records:
    events = [b for frame in frames if (b := body(frame)) is not None]
    model = str(events[0]["response"]["model"]) if events and "response" in events[0] else "m"
    return [opened(), send(create(model)), *map(recv, events), closed()]


@fuzz_settings(max_examples=0.3)
@given(S.event_streams(), st.data())
def test_streaming_mutants_in_a_websocket_turn_are_reported(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    assert rules(one_turn(frames_of(events))) == set(), "the unmutated turn must pass"
    for name, (expected, mutate) in STREAM_CATALOGUE.items():

        def pick(candidates: list[int], name: str = name) -> int:
            if not candidates:
                raise LookupError(name)
            return data.draw(st.sampled_from(candidates), label=name)

        try:
            mutated = mutate(frames_of(events), pick)
        except LookupError:
            continue  # the stream has nothing this mutation applies to
        if mutated is None or mutated == frames_of(events):
            continue
        if _after_terminal(mutated):  # on a WebSocket that event belongs to no turn
            expected = expected | {"WS-EVENT-WITHOUT-CREATE"}
        _score(f"stream: {name}", rules(one_turn(mutated)), expected)


def _score(name: str, found: set[str], expected: frozenset[str]) -> None:
    killed = bool(found & expected)
    SCORE["applied"] += 1
    SCORE[f"applied:{name}"] += 1
    if killed:
        SCORE["killed"] += 1
    else:
        MISSED.setdefault(name, f"expected {sorted(expected)}, got {sorted(found)}")
    assert killed, f"{name}: expected {sorted(expected)}, got {sorted(found)}"


def test_websocket_mutation_score() -> None:
    """Runs after the properties above (file order): prints the score, fails on any survivor."""
    applied = SCORE["applied"]
    if not applied:
        return  # the properties were deselected
    per = {k.split(":", 1)[1]: v for k, v in SCORE.items() if k.startswith("applied:")}
    names = [*WS_CATALOGUE, *(f"stream: {n}" for n in STREAM_CATALOGUE)]
    ran = f"{len(per)}/{len(names)} operators applied"
    print(f"\nwebsocket validator mutation score: {SCORE['killed']}/{applied} killed; {ran}")
    for name in names:
        print(f"  {per.get(name, 0):4d}  {name}{'  MISSED: ' + MISSED[name] if name in MISSED else ''}")
    assert not MISSED
    assert all(per.get(name) for name in WS_CATALOGUE), "every WebSocket operator ran"
