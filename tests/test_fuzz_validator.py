"""Mutation testing of the stream validator.

Every generated conforming stream passes; every single mutation from the catalogue below
(one fault a real server could make) is reported under the rule that names it. Mutants
the spec does not forbid are listed apart (``EQUIVALENT``) and must pass. The score
(killed / applied) is printed by the last test; run with ``-s`` to see it.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import StreamValidator, default_store, validate_stream

Frame = Any  # (event name, body dict) | "[DONE]" | {"event", "data", "id"}
Frames = list[Frame]
TERMINALS = ("response.completed", "response.incomplete", "response.failed")
DELTAS = ("response.output_text.delta", "response.refusal.delta", "response.reasoning.delta")
DONES = {
    "response.output_text.done": "text",
    "response.refusal.done": "refusal",
    "response.reasoning.done": "text",
}

SCORE: Counter[str] = Counter()
MISSED: dict[str, str] = {}


def frames_of(events: list[dict]) -> Frames:
    return [(e["type"], copy.deepcopy(e)) for e in events] + ["[DONE]"]


def body(frame: Frame) -> dict | None:
    return frame[1] if isinstance(frame, tuple) else None


def where(frames: Frames, test: Callable[[dict], bool]) -> list[int]:
    return [i for i, f in enumerate(frames) if (b := body(f)) is not None and test(b)]


def renumber(frames: Frames) -> Frames:
    seq = 0
    for frame in frames:
        b = body(frame)
        if b is not None and isinstance(b.get("sequence_number"), int):
            b["sequence_number"] = seq
            seq += 1
    return frames


def rules(frames: Frames, **kwargs: Any) -> set[str]:
    validator = StreamValidator(**kwargs)
    for frame in frames:
        validator.feed(frame)
    validator.finish()
    return {v.rule for v in validator.violations if v.severity != "info"}


def terminal(frames: Frames) -> int:
    return where(frames, lambda b: b["type"] in TERMINALS)[-1]


# --- The catalogue: name -> (expected rules, mutate(frames, pick) -> frames or None) ------------

Pick = Callable[[list[int]], int]
Mutation = Callable[[Frames, Pick], Frames | None]


def _drop_required(frames: Frames, pick: Pick) -> Frames | None:
    store = default_store()
    candidates = where(frames, lambda b: b["type"] in store.events)
    i = pick(candidates)
    b = body(frames[i])
    assert b is not None
    fields = [f for f in store.required(store.events[b["type"]]) if f != "type" and f in b]
    if not fields:
        return None
    del b[fields[len(fields) // 2]]
    return frames


def _wrong_type(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[pick(where(frames, lambda b: True))])
    assert b is not None
    b["sequence_number"] = str(b["sequence_number"])
    return frames


def _swap(frames: Frames, pick: Pick, *, renumbered: bool) -> Frames | None:
    candidates = [i for i in where(frames, lambda b: True) if body(frames[i + 1]) is not None]
    i = pick(candidates)
    a, b = body(frames[i]), body(frames[i + 1])
    assert a is not None and b is not None
    if {k: v for k, v in a.items() if k != "sequence_number"} == {
        k: v for k, v in b.items() if k != "sequence_number"
    }:
        return None  # two identical events: swapping them changes nothing
    frames[i], frames[i + 1] = frames[i + 1], frames[i]
    return renumber(frames) if renumbered else frames


def _duplicate_terminal(frames: Frames, pick: Pick) -> Frames | None:
    t = terminal(frames)
    extra = copy.deepcopy(frames[t])
    frames.insert(t + 1, extra)
    return renumber(frames)


def _gap(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: b["sequence_number"] > 0))
    for frame in frames[i:]:
        b = body(frame)
        if b is not None:
            b["sequence_number"] += 1
    return frames


def _repeat_seq(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: b["sequence_number"] > 0))
    b = body(frames[i])
    assert b is not None
    b["sequence_number"] -= 1
    return frames


def _rename(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: True))
    name, b = frames[i]
    frames[i] = ("response.in_progress" if name != "response.in_progress" else "response.created", b)
    return frames


def _unknown_type(frames: Frames, pick: Pick) -> Frames | None:
    t = terminal(frames)
    frames.insert(t, ("made_up_event", {"type": "made_up_event", "sequence_number": 0}))
    return renumber(frames)


def _drop(test: Callable[[dict], bool]) -> Mutation:
    def mutate(frames: Frames, pick: Pick) -> Frames | None:
        del frames[pick(where(frames, test))]
        return renumber(frames)

    return mutate


def _failed(frames: Frames) -> bool:
    return body(frames[terminal(frames)])["type"] == "response.failed"  # type: ignore[index]


def _drop_closing(test: Callable[[dict], bool]) -> Mutation:
    """Drop a closing event; not on failed streams, where open items may stay open (spec:
    a failed response ends the stream wherever it was)."""
    drop = _drop(test)
    return lambda frames, pick: None if _failed(frames) else drop(frames, pick)


def _drop_done_marker(frames: Frames, pick: Pick) -> Frames | None:
    return frames[:-1]


def _after_done(frames: Frames, pick: Pick) -> Frames | None:
    return [*frames, "[DONE]"]


def _done_text(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[pick(where(frames, lambda b: b["type"] in DONES))])
    assert b is not None
    b[DONES[b["type"]]] += "!"
    return frames


def _drop_delta(frames: Frames, pick: Pick) -> Frames | None:
    if _failed(frames):
        return None  # the part may never have been closed, so nothing states its full text
    del frames[pick(where(frames, lambda b: b["type"] in DELTAS and b["delta"] != ""))]
    return renumber(frames)


def _terminal_response(change: Callable[[dict], bool]) -> Mutation:
    def mutate(frames: Frames, pick: Pick) -> Frames | None:
        b = body(frames[terminal(frames)])
        assert b is not None
        return frames if change(b["response"]) else None

    return mutate


def _empty_output(resp: dict) -> bool:
    if not resp["output"] or resp["status"] == "failed":
        return False
    resp["output"] = []
    return True


def _item_id(resp: dict) -> bool:
    if not resp["output"]:
        return False
    resp["output"][-1]["id"] += "x"
    return True


def _call_id(resp: dict) -> bool:
    calls = [item for item in resp["output"] if item["type"] == "function_call"]
    if not calls:
        return False
    calls[0]["call_id"] += "x"
    return True


def _status(resp: dict) -> bool:
    resp["status"] = {"completed": "in_progress", "incomplete": "completed", "failed": "completed"}[
        resp["status"]
    ]
    return True


def _failed_error(resp: dict) -> bool:
    if resp["status"] != "failed":
        return False
    resp["error"] = None
    return True


def _incomplete_details(resp: dict) -> bool:
    if resp["status"] != "incomplete":
        return False
    resp["incomplete_details"] = None
    return True


def _response_id(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[1])
    assert b is not None and b["type"] == "response.in_progress"
    b["response"]["id"] += "x"
    return frames


def _after_terminal(frames: Frames, pick: Pick) -> Frames | None:
    t = terminal(frames)
    i = pick([i for i in where(frames, lambda b: True) if i < t])
    frames.insert(t, frames.pop(i))
    return renumber(frames)


def _wrong_index(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[pick(where(frames, lambda b: b["type"] in DELTAS))])
    assert b is not None
    b["output_index"] += 7
    return frames


def _error_event(frames: Frames, pick: Pick) -> Frames | None:
    t = terminal(frames)
    if _failed(frames):
        return None
    error = {
        "type": "error",
        "sequence_number": 0,
        "error": {"type": "server_error", "code": "x", "message": "m", "param": None},
    }
    frames.insert(t, ("error", error))
    return renumber(frames)


def _added_twice(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: b["type"] == "response.output_item.added"))
    frames.insert(i + 1, copy.deepcopy(frames[i]))
    return renumber(frames)


def _index_skip(frames: Frames, pick: Pick) -> Frames | None:
    for frame in frames:
        b = body(frame)
        if b is not None and "output_index" in b:
            b["output_index"] += 1
    return frames


def _with_id(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: True))
    name, b = frames[i]
    frames[i] = {"event": name, "data": json.dumps(b), "id": "7"}
    return frames


def _not_json(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: True))
    frames[i] = (frames[i][0], "{not json")
    return frames


def _no_name(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: True))
    frames[i] = (None, frames[i][1])
    return frames


def _done_status(frames: Frames, pick: Pick) -> Frames | None:
    b = body(
        frames[
            pick(where(frames, lambda b: b["type"] == "response.output_item.done" and "status" in b["item"]))
        ]
    )
    assert b is not None
    b["item"]["status"] = "in_progress"
    return frames


def _content_index(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[pick(where(frames, lambda b: b["type"] == "response.content_part.added"))])
    assert b is not None
    b["content_index"] += 1
    return frames


def _args_done(frames: Frames, pick: Pick) -> Frames | None:
    b = body(frames[pick(where(frames, lambda b: b["type"] == "response.function_call_arguments.done"))])
    assert b is not None
    b["arguments"] += " "
    return frames


def _delta_kind(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: b["type"] == "response.output_text.delta"))
    _name, b = frames[i]
    b = {k: v for k, v in b.items() if k != "logprobs"}
    b["type"] = "response.reasoning.delta"
    frames[i] = (b["type"], b)
    return frames


def _part_of(b: dict) -> tuple[Any, Any, Any]:
    return b.get("output_index"), b.get("content_index"), b.get("summary_index")


def _delta_after_done(frames: Frames, pick: Pick) -> Frames | None:
    """Repeat a part's (or the arguments') last delta, emptied, right after its *.done."""
    dones = (*DONES, "response.function_call_arguments.done")
    i = pick(where(frames, lambda b: b["type"] in dones))
    done = body(frames[i])
    assert done is not None
    kinds = (*DELTAS, "response.function_call_arguments.delta")
    deltas = [
        j
        for j in where(frames, lambda b: b["type"] in kinds)
        if j < i and _part_of(body(frames[j]) or {}) == _part_of(done)
    ]
    if not deltas:
        return None  # a part streamed without deltas (an empty text)
    extra = copy.deepcopy(frames[deltas[-1]])
    extra[1]["delta"] = ""
    frames.insert(i + 1, extra)
    return renumber(frames)


def _refusal_into_text(frames: Frames, pick: Pick) -> Frames | None:
    i = pick(where(frames, lambda b: b["type"] == "response.output_text.delta"))
    _name, b = frames[i]
    b = {k: v for k, v in b.items() if k not in ("logprobs", "obfuscation")}
    b["type"] = "response.refusal.delta"
    frames[i] = (b["type"], b)
    return frames


def _drop_args_done(frames: Frames, pick: Pick) -> Frames | None:
    done_items = {
        b["output_index"] for b in map(body, frames) if b and b["type"] == "response.output_item.done"
    }
    with_deltas = {
        b["output_index"]
        for b in map(body, frames)
        if b and b["type"] == "response.function_call_arguments.delta"
    }
    candidates = where(
        frames,
        lambda b: (
            b["type"] == "response.function_call_arguments.done"
            and b["output_index"] in done_items & with_deltas
        ),
    )
    del frames[pick(candidates)]
    return renumber(frames)


def _terminal_item_changed(frames: Frames, pick: Pick) -> Frames | None:
    """Change the name or role of an item after its output_item.done, in the terminal response."""
    done_ids = {b["item"]["id"] for b in map(body, frames) if b and b["type"] == "response.output_item.done"}
    b = body(frames[terminal(frames)])
    assert b is not None
    output = b["response"]["output"]
    candidates = [
        n for n, it in enumerate(output) if it.get("id") in done_ids and ("name" in it or "role" in it)
    ]
    item = output[pick(candidates)]
    key = "name" if "name" in item else "role"
    item[key] = "renamed" if key == "name" else ("user" if item["role"] != "user" else "assistant")
    return frames


CATALOGUE: dict[str, tuple[frozenset[str], Mutation]] = {
    "drop a required field": (frozenset({"SCHEMA-EVENT"}), _drop_required),
    "wrong type (sequence_number as a string)": (frozenset({"SCHEMA-EVENT"}), _wrong_type),
    "swap two adjacent events": (
        frozenset({"STREAM-SEQUENCE-MONOTONIC"}),
        lambda f, p: _swap(f, p, renumbered=False),
    ),
    "repeat a sequence number": (frozenset({"STREAM-SEQUENCE-MONOTONIC"}), _repeat_seq),
    "duplicate the terminal event": (frozenset({"TERMINAL-EVENT-UNIQUE"}), _duplicate_terminal),
    "event: name differs from type": (frozenset({"SSE-EVENT-MATCHES-TYPE"}), _rename),
    "no event: line": (frozenset({"SSE-EVENT-NAME-MISSING"}), _no_name),
    "unprefixed unknown event type": (frozenset({"EXTENSION-TYPE-PREFIXED"}), _unknown_type),
    "no [DONE]": (frozenset({"SSE-DONE-TERMINAL"}), _drop_done_marker),
    "data after [DONE]": (frozenset({"SSE-DATA-AFTER-DONE"}), _after_done),
    "id: field present": (frozenset({"SSE-ID-PRESENT"}), _with_id),
    "data is not JSON": (frozenset({"SSE-DATA-JSON"}), _not_json),
    "no terminal event": (frozenset({"TERMINAL-EVENT-MISSING"}), _drop(lambda b: b["type"] in TERMINALS)),
    "no response.created": (
        frozenset({"STREAM-STARTS-WITH-CREATED"}),
        _drop(lambda b: b["type"] == "response.created"),
    ),
    "event after the terminal event": (frozenset({"TERMINAL-EVENT-LAST"}), _after_terminal),
    "no output_item.added": (
        # an item whose only event was its added (a failed stream) is then not streamed at all
        frozenset({"ITEM-ADDED-BEFORE-DELTA", "ITEM-NOT-STREAMED"}),
        _drop(lambda b: b["type"] == "response.output_item.added"),
    ),
    "output_item.added twice": (frozenset({"ITEM-ADDED-UNIQUE"}), _added_twice),
    "output_index starts at 1": (frozenset({"OUTPUT-INDEX-SEQUENTIAL"}), _index_skip),
    "delta names another output_index": (
        frozenset({"OUTPUT-INDEX-CONSISTENT", "ITEM-ADDED-BEFORE-DELTA"}),
        _wrong_index,
    ),
    "no output_item.done": (
        frozenset({"ITEM-DONE-MISSING"}),
        _drop_closing(lambda b: b["type"] == "response.output_item.done"),
    ),
    "output_item.done still in_progress": (frozenset({"ITEM-DONE-STATUS"}), _done_status),
    "no content_part.added": (
        frozenset({"CONTENT-PART-ADDED-BEFORE-DELTA"}),
        _drop(lambda b: b["type"] == "response.content_part.added"),
    ),
    "content_index starts at 1": (frozenset({"CONTENT-INDEX-SEQUENTIAL"}), _content_index),
    "no content_part.done": (
        frozenset({"CONTENT-PART-DONE-MISSING"}),
        _drop_closing(lambda b: b["type"] == "response.content_part.done"),
    ),
    # A part's only delta lost leaves a done without deltas: a warning (DELTA-DONE-WITHOUT-DELTAS).
    "a delta lost": (frozenset({"DELTA-DONE-MATCHES", "DELTA-DONE-WITHOUT-DELTAS"}), _drop_delta),
    "a delta after its *.done": (frozenset({"DELTA-AFTER-DONE"}), _delta_after_done),
    "refusal delta into an output_text part": (frozenset({"DELTA-PART-TYPE"}), _refusal_into_text),
    "argument deltas without arguments.done": (frozenset({"DELTA-DONE-MISSING"}), _drop_args_done),
    "terminal item renamed after its done": (
        frozenset({"TERMINAL-ITEM-MATCHES-DONE"}),
        _terminal_item_changed,
    ),
    "done text differs from the deltas": (frozenset({"DELTA-DONE-MATCHES"}), _done_text),
    "arguments.done differs from the deltas": (frozenset({"DELTA-DONE-MATCHES"}), _args_done),
    "reasoning delta on a message": (frozenset({"DELTA-ITEM-TYPE"}), _delta_kind),
    "terminal output empty": (
        frozenset({"TERMINAL-OUTPUT-EMPTY", "TERMINAL-OUTPUT-MATCHES-STREAM"}),
        _terminal_response(_empty_output),
    ),
    "terminal item id changed": (
        frozenset({"TERMINAL-OUTPUT-MATCHES-STREAM", "ITEM-NOT-STREAMED"}),
        _terminal_response(_item_id),
    ),
    "terminal call_id changed": (frozenset({"TOOL-CALL-ID-MATCHES"}), _terminal_response(_call_id)),
    "terminal status contradicts its type": (
        frozenset({"TERMINAL-STATUS-MATCHES"}),
        _terminal_response(_status),
    ),
    "failed without error": (frozenset({"RESPONSE-FAILED-HAS-ERROR"}), _terminal_response(_failed_error)),
    "incomplete without details": (
        frozenset({"RESPONSE-INCOMPLETE-DETAILS"}),
        _terminal_response(_incomplete_details),
    ),
    "response id changes mid-stream": (frozenset({"STREAM-RESPONSE-ID-STABLE"}), _response_id),
    "error event, then completed": (frozenset({"ERROR-EVENT-FOLLOWED-BY-FAILED"}), _error_event),
}

# Mutants the spec allows: they must pass. Sequence numbers are "monotonically increasing
# ... to order events and detect gaps" (spec, Streaming): a gap is not itself a violation.
EQUIVALENT: dict[str, Mutation] = {"skip a sequence number": _gap}


@st.composite
def mutants(draw: st.DrawFn) -> tuple[Frames, list[tuple[str, Frames, frozenset[str]]]]:
    events = draw(S.event_streams())
    out = []
    for name, (expected, mutate) in CATALOGUE.items():

        def pick(candidates: list[int], name: str = name) -> int:
            if not candidates:
                raise LookupError(name)
            return draw(st.sampled_from(candidates), label=name)

        try:
            mutated = mutate(frames_of(events), pick)
        except LookupError:
            continue  # the stream has nothing this mutation applies to
        if mutated is not None and mutated != frames_of(events):  # a no-op is not a mutant
            out.append((name, mutated, expected))
    return frames_of(events), out


@fuzz_settings()
@given(mutants())
def test_every_mutant_is_reported_under_its_rule(
    case: tuple[Frames, list[tuple[str, Frames, frozenset[str]]]],
) -> None:
    original, applied = case
    assert rules(original) == set(), "the unmutated stream must pass"
    for name, frames, expected in applied:
        found = rules(frames)
        killed = bool(found & expected)
        SCORE["applied"] += 1
        SCORE[f"applied:{name}"] += 1
        if killed:
            SCORE["killed"] += 1
        else:
            MISSED.setdefault(name, f"expected {sorted(expected)}, got {sorted(found)}")
        assert killed, f"{name}: expected {sorted(expected)}, got {sorted(found)}"


@fuzz_settings(max_examples=0.5)
@given(S.event_streams(), st.data())
def test_equivalent_mutants_pass(events: list[dict], data: st.DataObject) -> None:
    for name, mutate in EQUIVALENT.items():
        frames = mutate(frames_of(events), lambda c, name=name: data.draw(st.sampled_from(c), label=name))
        assert frames is not None
        assert rules(frames) == set(), name


def _same_item(a: dict | None, b: dict | None) -> bool:
    return (
        a is not None
        and b is not None
        and "output_index" in a
        and a.get("output_index") == b.get("output_index")
    )


@fuzz_settings(max_examples=0.5)
@given(S.event_streams(endings=("completed", "incomplete")), st.data())
def test_reordering_within_an_item_is_reported(events: list[dict], data: st.DataObject) -> None:
    """Two adjacent events of one item swapped, sequence numbers made consistent again: some
    lifecycle rule breaks. (Swaps across items are not all violations: the spec lets an item
    be added before the previous one is done, and does not order response.in_progress
    against items.)"""
    frames = frames_of(events)
    pairs = [i for i in range(len(frames) - 1) if _same_item(body(frames[i]), body(frames[i + 1]))]
    assume(pairs)  # a stream without items has nothing to reorder
    mutated = _swap(frames, lambda c: data.draw(st.sampled_from(pairs)), renumbered=True)
    assume(mutated is not None)  # two identical events: the swap changes nothing
    assert rules(mutated) != set()


@fuzz_settings(max_examples=0.5)
@given(S.sse_streams(mixed=False), st.data())
def test_raw_truncation_is_reported(case: tuple[list[dict], bytes], data: st.DataObject) -> None:
    _events, raw = case
    text = raw.rstrip(b"\r\n")
    cut = data.draw(st.integers(1, len(text)))
    found = {v.rule for v in validate_stream(text[:cut])}
    # A cut inside a multi-byte character leaves bytes that are not UTF-8: INPUT-MALFORMED.
    assert found & {
        "SSE-TRUNCATED",
        "SSE-DATA-JSON",
        "TERMINAL-EVENT-MISSING",
        "SSE-DONE-TERMINAL",
        "INPUT-MALFORMED",
    }


def test_wrong_content_type_is_reported() -> None:
    events = S.play_script(S.Script(steps=(S.Step("text", ("hi",)),)))
    assert "SSE-CONTENT-TYPE" in rules(frames_of(events), content_type="application/json")


def test_mutation_score() -> None:
    """Runs after the property above (file order): prints the score, fails on any survivor."""
    applied = SCORE["applied"]
    if not applied:
        return  # the property was deselected
    per = {k.split(":", 1)[1]: v for k, v in SCORE.items() if k.startswith("applied:")}
    killed = SCORE["killed"]
    used = f"{len(per)}/{len(CATALOGUE)} operators applied"
    print(f"\nvalidator mutation score: {killed}/{applied} killed; {used}")
    for name in CATALOGUE:
        print(f"  {per.get(name, 0):4d}  {name}{'  MISSED: ' + MISSED[name] if name in MISSED else ''}")
    assert not MISSED
