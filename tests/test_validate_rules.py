"""Every rule of the catalogue: a violating sample it catches, a conforming one it passes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from anyllm.testing.rules import RULES, catalogue
from anyllm.testing.validate import (
    Violation,
    has_errors,
    validate_request,
    validate_response,
    validate_stream,
)
from tests.validate_samples import (
    doc_derived_response,
    doc_derived_stream,
    find,
    framed,
    raw_sse,
    renumber,
)

Pair = tuple[list[Violation], list[Violation]]
CASES: dict[str, Callable[[], Pair]] = {}


def case(rule: str) -> Callable[[Callable[[], Pair]], Callable[[], Pair]]:
    def register(fn: Callable[[], Pair]) -> Callable[[], Pair]:
        CASES[rule] = fn
        return fn

    return register


def stream(events: list[dict[str, Any]], profile: str = "openresponses", **kw: Any) -> list[Violation]:
    return validate_stream(framed(events), profile, **kw)  # type: ignore[arg-type]


def base() -> list[dict[str, Any]]:
    return doc_derived_stream()


def resp(**changes: Any) -> dict[str, Any]:
    r = doc_derived_response()
    r.update(changes)
    return r


def ok_stream() -> list[Violation]:
    return stream(base())


def ok_response() -> list[Violation]:
    return validate_response(doc_derived_response())


# --- Schemas ---------------------------------------------------------------------------------


@case("SCHEMA-RESPONSE")
def _schema_response() -> Pair:
    return validate_response(resp(created_at="yesterday")), ok_response()


@case("SCHEMA-EVENT")
def _schema_event() -> Pair:
    ev = base()
    ev[find(ev, "response.output_text.delta")]["delta"] = 5
    return stream(ev), ok_stream()


@case("SCHEMA-ITEM")
def _schema_item() -> Pair:
    r = resp()
    del r["output"][1]["role"]
    return validate_response(r), ok_response()


@case("SCHEMA-CONTENT")
def _schema_content() -> Pair:
    r = resp()
    del r["output"][1]["content"][0]["annotations"]
    return validate_response(r), ok_response()


@case("SCHEMA-TOOL")
def _schema_tool() -> Pair:
    return validate_response(resp(tools=[{"type": "function"}])), ok_response()


@case("SCHEMA-REQUEST")
def _schema_request() -> Pair:
    return validate_request({"model": 5, "input": "hi"}), validate_request({"model": "m", "input": "hi"})


@case("SCHEMA-ERROR")
def _schema_error() -> Pair:
    good = {"error": {"type": "invalid_request", "code": None, "message": "bad", "param": None}}
    return validate_response({"error": {"message": "bad"}}, status=400), validate_response(good, status=400)


@case("SPEC-BUG-TEXT-FORMAT-SCHEMA")
def _spec_bug() -> Pair:
    fmt = {
        "type": "json_schema",
        "name": "City",
        "description": None,
        "strict": True,
        "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    bad = validate_response(resp(text={"format": fmt}))
    assert not has_errors(bad), "the waiver must not leave an error behind"
    return bad, validate_response(resp(text={"format": {**fmt, "schema": None}}))


@case("OPENAI-FIELD-RELAXED")
def _openai_relaxed() -> Pair:
    r = resp(temperature=None)
    del r["completed_at"]
    found = validate_response(r, "openai")
    assert not has_errors(found)
    assert has_errors(validate_response(r)), "the strict profile still rejects it"
    return found, validate_response(resp(), "openai")


@case("OPENAI-EXTENSION")
def _openai_extension() -> Pair:
    ws = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "q"},
    }
    r = resp(output=[ws, *doc_derived_response()["output"]])
    found = validate_response(r, "openai")
    assert not has_errors(found)
    return found, validate_response(resp(), "openai")


# --- Extensions ----------------------------------------------------------------------------


@case("EXTENSION-TYPE-PREFIXED")
def _ext_prefixed() -> Pair:
    bad = resp(output=[{"type": "web_search_call", "id": "ws_1", "status": "completed"}])
    good = resp(output=[{"type": "acme:web_search_call", "id": "ws_1", "status": "completed"}])
    return validate_response(bad), validate_response(good)


@case("EXTENSION-TYPE")
def _ext_type() -> Pair:
    ext = resp(output=[{"type": "acme:search_result", "id": "sr_1", "status": "completed"}])
    found = validate_response(ext)
    assert not has_errors(found), "a slug-prefixed item is legal"
    return found, ok_response()


@case("EXTENSION-ITEM-FIELDS")
def _ext_item_fields() -> Pair:
    bad = resp(output=[{"type": "acme:search_result", "id": "sr_1"}])
    good = resp(output=[{"type": "acme:search_result", "id": "sr_1", "status": "completed"}])
    return validate_response(bad), validate_response(good)


@case("EXTENSION-EVENT-FIELDS")
def _ext_event_fields() -> Pair:
    ev = base()
    bad = [*ev[:3], {"type": "acme:trace_event", "phase": "x"}, *ev[3:]]
    good = renumber(
        [*copy.deepcopy(ev[:3]), {"type": "acme:trace_event", "phase": "x"}, *copy.deepcopy(ev[3:])]
    )
    renumber(ev)
    return stream(bad), stream(good)


# --- Input and HTTP --------------------------------------------------------------------------


@case("INPUT-MALFORMED")
def _input_malformed() -> Pair:
    return validate_response('{"id": "resp_1",'), validate_response(json.dumps(doc_derived_response()))


@case("CONTENT-TYPE-JSON")
def _content_type_json() -> Pair:
    return (
        validate_response(resp(), content_type="text/html"),
        validate_response(resp(), content_type="application/json; charset=utf-8"),
    )


# --- SSE framing ---------------------------------------------------------------------------


@case("SSE-CONTENT-TYPE")
def _sse_content_type() -> Pair:
    return (
        stream(base(), content_type="application/json"),
        stream(base(), content_type="text/event-stream; charset=utf-8"),
    )


@case("SSE-DATA-JSON")
def _sse_data_json() -> Pair:
    pairs = framed(base())
    pairs.insert(3, ("response.output_text.delta", "{not json"))
    return validate_stream(pairs), ok_stream()


@case("SSE-EVENT-NAME-MISSING")
def _sse_name_missing() -> Pair:
    pairs = [(None, data) for _name, data in framed(base())]
    return validate_stream(pairs), ok_stream()


@case("SSE-EVENT-MATCHES-TYPE")
def _sse_name_matches() -> Pair:
    pairs = framed(base())
    pairs[2] = ("response.output_item.done", pairs[2][1])
    return validate_stream(pairs), ok_stream()


@case("SSE-DONE-TERMINAL")
def _sse_done() -> Pair:
    return validate_stream(framed(base(), done=False)), ok_stream()


@case("SSE-DATA-AFTER-DONE")
def _sse_after_done() -> Pair:
    pairs = framed(base())
    pairs.append((None, "[DONE]"))
    return validate_stream(pairs), ok_stream()


@case("SSE-ID-PRESENT")
def _sse_id() -> Pair:
    text = raw_sse(base()).replace("event: response.created\n", "id: 1\nevent: response.created\n", 1)
    return validate_stream(text), validate_stream(raw_sse(base()))


@case("SSE-TRUNCATED")
def _sse_truncated() -> Pair:
    return validate_stream(raw_sse(base())[:-1]), validate_stream(raw_sse(base()))


# --- Stream order and identity -------------------------------------------------------------


@case("STREAM-SEQUENCE-MONOTONIC")
def _seq() -> Pair:
    ev = base()
    ev[5]["sequence_number"], ev[6]["sequence_number"] = ev[6]["sequence_number"], ev[5]["sequence_number"]
    return stream(ev), ok_stream()


@case("STREAM-STARTS-WITH-CREATED")
def _starts() -> Pair:
    return stream(renumber(base()[1:])), ok_stream()


@case("STREAM-RESPONSE-ID-STABLE")
def _id_stable() -> Pair:
    ev = base()
    ev[-1]["response"]["id"] = "resp_other"
    return stream(ev), ok_stream()


@case("TERMINAL-EVENT-MISSING")
def _terminal_missing() -> Pair:
    return stream(base()[:-1]), ok_stream()


@case("TERMINAL-EVENT-LAST")
def _terminal_last() -> Pair:
    ev = base()
    ev.append({"type": "acme:trace_event", "sequence_number": len(ev)})
    return stream(ev), ok_stream()


@case("TERMINAL-EVENT-UNIQUE")
def _terminal_unique() -> Pair:
    ev = base()
    ev.append({**copy.deepcopy(ev[-1]), "sequence_number": len(ev)})
    return stream(ev), ok_stream()


@case("TERMINAL-STATUS-MATCHES")
def _terminal_status() -> Pair:
    ev = base()
    ev[-1]["response"]["status"] = "in_progress"
    return stream(ev), ok_stream()


@case("TERMINAL-OUTPUT-EMPTY")
def _terminal_empty() -> Pair:
    ev = base()
    ev[-1]["response"]["output"] = []
    return stream(ev), ok_stream()


@case("TERMINAL-OUTPUT-MATCHES-STREAM")
def _terminal_matches() -> Pair:
    ev = base()
    ev[-1]["response"]["output"][1]["id"] = "msg_other"
    return stream(ev), ok_stream()


@case("ITEM-NOT-STREAMED")
def _not_streamed() -> Pair:
    ev = base()
    ev[-1]["response"]["output"].append(
        {"type": "message", "id": "msg_9", "status": "completed", "role": "assistant", "content": []}
    )
    return stream(ev), ok_stream()


@case("TOOL-CALL-ID-MATCHES")
def _call_id() -> Pair:
    ev = base()
    ev[-1]["response"]["output"][2]["call_id"] = "call_other"
    # Conforming: the added item did not know its call_id yet; done fills it in (spec: the added
    # item carries "as much detail as is available at that time").
    filled = base()
    filled[find(filled, "response.output_item.added", output_index=2)]["item"]["call_id"] = ""
    return stream(ev), stream(filled)


@case("TERMINAL-ITEM-MATCHES-DONE")
def _terminal_item_matches_done() -> Pair:
    ev = base()
    ev[-1]["response"]["output"][2]["name"] = "get_time"
    ev[-1]["response"]["tools"].append({**ev[-1]["response"]["tools"][0], "name": "get_time"})
    return stream(ev), ok_stream()


# --- Item lifecycle --------------------------------------------------------------------------


def _without(events: list[dict[str, Any]], type_: str, **match: Any) -> list[dict[str, Any]]:
    del events[find(events, type_, **match)]
    return renumber(events)


@case("ITEM-ADDED-BEFORE-DELTA")
def _added_first() -> Pair:
    return stream(_without(base(), "response.output_item.added", output_index=1)), ok_stream()


@case("ITEM-ADDED-UNIQUE")
def _added_unique() -> Pair:
    ev = base()
    i = find(ev, "response.output_item.added", output_index=1)
    ev.insert(i + 1, copy.deepcopy(ev[i]))
    return stream(renumber(ev)), ok_stream()


@case("OUTPUT-INDEX-SEQUENTIAL")
def _index_sequential() -> Pair:
    ev = base()
    for e in ev:
        if e.get("output_index") == 1:
            e["output_index"] = 3
    return stream(ev), ok_stream()


@case("OUTPUT-INDEX-CONSISTENT")
def _index_consistent() -> Pair:
    ev = base()
    ev[find(ev, "response.output_text.delta")]["item_id"] = "fc_1"
    return stream(ev), ok_stream()


@case("ITEM-DONE-MISSING")
def _done_missing() -> Pair:
    return stream(_without(base(), "response.output_item.done", output_index=2)), ok_stream()


@case("ITEM-DONE-MATCHES-ADDED")
def _done_matches() -> Pair:
    ev = base()
    ev[find(ev, "response.output_item.done", output_index=2)]["item"]["type"] = "message"
    return stream(ev), ok_stream()


@case("ITEM-EVENT-AFTER-DONE")
def _after_done() -> Pair:
    ev = base()
    i = find(ev, "response.output_item.done", output_index=1)
    ev.insert(
        i + 1,
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "delta": "!",
        },
    )
    return stream(renumber(ev)), ok_stream()


@case("ITEM-DONE-STATUS")
def _done_status() -> Pair:
    ev = base()
    ev[find(ev, "response.output_item.done", output_index=1)]["item"]["status"] = "in_progress"
    return stream(ev), ok_stream()


@case("DELTA-ITEM-TYPE")
def _delta_item_type() -> Pair:
    ev = base()
    i = find(ev, "response.output_item.done", output_index=1)
    ev.insert(
        i,
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "delta": "x",
        },
    )
    return stream(renumber(ev)), ok_stream()


@case("CONTENT-PART-ADDED-BEFORE-DELTA")
def _part_added() -> Pair:
    return stream(_without(base(), "response.content_part.added")), ok_stream()


@case("CONTENT-PART-DONE-MISSING")
def _part_done_missing() -> Pair:
    return stream(_without(base(), "response.content_part.done")), ok_stream()


@case("CONTENT-INDEX-SEQUENTIAL")
def _content_index() -> Pair:
    ev = base()
    for e in ev:
        if e.get("item_id") == "msg_1" and "content_index" in e:
            e["content_index"] = 1
    return stream(ev), ok_stream()


@case("SUMMARY-PART-ADDED-BEFORE-DELTA")
def _summary_added() -> Pair:
    return stream(_without(base(), "response.reasoning_summary_part.added")), ok_stream()


@case("DELTA-DONE-MISSING")
def _delta_done_missing() -> Pair:
    return stream(_without(base(), "response.output_text.done")), ok_stream()


def test_argument_deltas_must_end_with_their_done() -> None:
    """DELTA-DONE-MISSING for function calls too: argument deltas that were streamed end with
    function_call_arguments.done before the item closes (arguments sent whole in
    output_item.done, with no delta at all, are not streamed content and need no done)."""
    found = stream(_without(base(), "response.function_call_arguments.done"))
    assert [v.path for v in found if v.rule == "DELTA-DONE-MISSING"] == [
        f"$[{find(base(), 'response.output_item.done', output_index=2) - 1}]"
    ]
    no_stream = [e for e in base() if not e["type"].startswith("response.function_call_arguments")]
    assert stream(renumber(no_stream)) == []


@case("DELTA-DONE-MATCHES")
def _delta_done_matches() -> Pair:
    ev = base()
    ev[find(ev, "response.output_text.done")]["text"] = "Hello world"
    return stream(ev), ok_stream()


@case("DELTA-DONE-WITHOUT-DELTAS")
def _done_without_deltas() -> Pair:
    ev = _without(
        _without(base(), "response.function_call_arguments.delta"), "response.function_call_arguments.delta"
    )
    found = stream(ev)
    assert not has_errors(found), "zero deltas is a warning: the done event carries the value"
    empty = _without(_without(base(), "response.output_text.delta"), "response.output_text.delta")
    empty[find(empty, "response.output_text.done")]["text"] = ""  # an empty text needs no delta
    empty[find(empty, "response.content_part.done")]["part"]["text"] = ""
    empty[find(empty, "response.output_item.done", output_index=1)]["item"]["content"][0]["text"] = ""
    empty[-1]["response"]["output"][1]["content"][0]["text"] = ""
    return found, stream(empty)


@case("DELTA-AFTER-DONE")
def _delta_after_done() -> Pair:
    ev = base()
    i = find(ev, "response.function_call_arguments.done")
    ev.insert(i + 1, {**ev[i - 1], "delta": ""})
    return stream(renumber(ev)), ok_stream()


@case("DELTA-PART-TYPE")
def _delta_part_type() -> Pair:
    ev = base()
    for kind in ("delta", "done"):
        i = find(ev, f"response.output_text.{kind}")
        ev[i]["type"] = f"response.refusal.{kind}"
        ev[i].pop("logprobs")
        if kind == "done":
            ev[i]["refusal"] = ev[i].pop("text")
    return stream(ev), ok_stream()


@case("PART-DONE-MATCHES")
def _part_done_matches() -> Pair:
    ev = base()
    ev[find(ev, "response.content_part.done")]["part"]["text"] = "Hello world"
    return stream(ev), ok_stream()


@case("ITEM-DONE-CONTENT-MATCHES")
def _item_done_content() -> Pair:
    ev = base()
    ev[find(ev, "response.output_item.done", output_index=2)]["item"]["arguments"] = '{"city":"Rome"}'
    return stream(ev), ok_stream()


@case("ERROR-EVENT-FOLLOWED-BY-FAILED")
def _error_then_failed() -> Pair:
    ev = base()[:2]
    err = {"type": "server_error", "code": None, "message": "boom", "param": None}
    bad = renumber([*copy.deepcopy(ev), {"type": "error", "error": err}])
    failed = doc_derived_response(output=[], status="failed")
    failed["error"] = {"code": "server_error", "message": "boom"}
    good = renumber([*ev, {"type": "error", "error": err}, {"type": "response.failed", "response": failed}])
    return stream(bad), stream(good)


# --- Response state ------------------------------------------------------------------------


@case("RESPONSE-FAILED-HAS-ERROR")
def _failed_error() -> Pair:
    good = resp(status="failed", completed_at=None, error={"code": "server_error", "message": "boom"})
    return validate_response(resp(status="failed", completed_at=None)), validate_response(good)


@case("RESPONSE-INCOMPLETE-DETAILS")
def _incomplete_details() -> Pair:
    good = resp(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    return validate_response(resp(status="incomplete")), validate_response(good)


@case("RESPONSE-STATUS-KNOWN")
def _status_known() -> Pair:
    return validate_response(resp(status="complete")), ok_response()


def _incomplete_message() -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_2",
        "status": "incomplete",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hel", "annotations": []}],
    }


@case("ITEM-INCOMPLETE-LAST")
def _incomplete_last() -> Pair:
    items = doc_derived_response()["output"]
    details = {"reason": "max_output_tokens"}
    bad = resp(status="incomplete", incomplete_details=details, output=[_incomplete_message(), *items])
    good = resp(status="incomplete", incomplete_details=details, output=[*items, _incomplete_message()])
    return validate_response(bad), validate_response(good)


def test_incomplete_item_must_be_last_in_a_stream() -> None:
    ev = base()
    ev[find(ev, "response.output_item.done", output_index=1)]["item"]["status"] = "incomplete"
    assert "ITEM-INCOMPLETE-LAST" in {v.rule for v in stream(ev)}


@case("ITEM-INCOMPLETE-RESPONSE-STATUS")
def _incomplete_status() -> Pair:
    items = doc_derived_response()["output"]
    bad = resp(output=[*items, _incomplete_message()])
    good = resp(
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
        output=[*items, _incomplete_message()],
    )
    return validate_response(bad), validate_response(good)


@case("ITEM-ID-UNIQUE")
def _id_unique() -> Pair:
    r = resp()
    r["output"][2]["id"] = "msg_1"
    return validate_response(r), ok_response()


@case("ITEM-STATUS-TERMINAL")
def _status_terminal() -> Pair:
    r = resp()
    r["output"][1]["status"] = "in_progress"
    return validate_response(r), ok_response()


@case("ERROR-TYPE-KNOWN")
def _error_type() -> Pair:
    body = {"error": {"type": "not_found_error", "code": None, "message": "bad", "param": None}}
    good = {"error": {**body["error"], "type": "not_found"}}
    return validate_response(body, status=404), validate_response(good, status=404)


@case("ERROR-TYPE-SPEC-EXAMPLE")
def _error_type_example() -> Pair:
    # The spec's own example body (Errors), verbatim.
    example = {
        "error": {
            "message": "The requested model 'fake-model' does not exist.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    found = validate_response(example, status=400)
    assert "ERROR-TYPE-KNOWN" not in {v.rule for v in found}
    assert all(v.severity == "info" for v in found), [str(v) for v in found]
    good = {"error": {**example["error"], "type": "invalid_request"}}
    return found, validate_response(good, status=400)


# --- Given the request ---------------------------------------------------------------------


def _message_only() -> dict[str, Any]:
    return resp(output=[doc_derived_response()["output"][1]])


@case("TOOL-CHOICE-NONE")
def _choice_none() -> Pair:
    req = {"model": "m", "input": "hi", "tool_choice": "none"}
    return validate_response(resp(), request=req), validate_response(_message_only(), request=req)


@case("TOOL-CHOICE-REQUIRED")
def _choice_required() -> Pair:
    req = {"model": "m", "input": "hi", "tool_choice": "required"}
    return validate_response(_message_only(), request=req), validate_response(resp(), request=req)


@case("TOOL-CHOICE-FUNCTION")
def _choice_function() -> Pair:
    bad = {"model": "m", "tool_choice": {"type": "function", "name": "get_time"}}
    good = {"model": "m", "tool_choice": {"type": "function", "name": "get_weather"}}
    return validate_response(resp(), request=bad), validate_response(resp(), request=good)


@case("ALLOWED-TOOLS-ENFORCED")
def _allowed_tools() -> Pair:
    def req(name: str) -> dict[str, Any]:
        return {
            "model": "m",
            "tool_choice": {
                "type": "allowed_tools",
                "mode": "auto",
                "tools": [{"type": "function", "name": name}],
            },
        }

    return validate_response(resp(), request=req("get_time")), validate_response(
        resp(), request=req("get_weather")
    )


@case("PREVIOUS-RESPONSE-ID-ECHOED")
def _previous() -> Pair:
    req = {"model": "m", "input": "again", "previous_response_id": "resp_0"}
    return validate_response(resp(), request=req), validate_response(
        resp(previous_response_id="resp_0"), request=req
    )


# --- The tests -------------------------------------------------------------------------------


def test_every_rule_has_a_case() -> None:
    from tests.test_validate_websocket import WS_CASES  # the WebSocket and compaction rules

    covered = set(CASES) | set(WS_CASES)
    assert covered == set(RULES), f"missing: {sorted(set(RULES) - covered)}"


def test_catalogue_is_machine_readable() -> None:
    rows = catalogue()
    assert len(rows) == len(RULES)
    for row in rows:
        assert row["severity"] in ("error", "warning", "info")
        assert row["section"] and row["summary"]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_catches_violation_and_passes_conforming(rule: str) -> None:
    violating, conforming = CASES[rule]()
    assert rule in {v.rule for v in violating}, [str(v) for v in violating]
    assert rule not in {v.rule for v in conforming}, [str(v) for v in conforming if v.rule == rule]


def test_conforming_samples_are_clean_in_both_profiles() -> None:
    for profile in ("openresponses", "openai"):
        assert validate_response(doc_derived_response(), profile) == []
        assert validate_stream(framed(doc_derived_stream()), profile) == []
        assert validate_stream(raw_sse(doc_derived_stream()), profile, content_type="text/event-stream") == []


def test_violation_carries_path_section_and_severity() -> None:
    ev = doc_derived_stream()
    ev[find(ev, "response.output_text.done")]["text"] = "Hello world"
    (v,) = [v for v in stream(ev) if v.rule == "DELTA-DONE-MATCHES"]
    assert v.path == f"$[{find(ev, 'response.output_text.done')}].text"
    assert v.severity == "error"
    assert v.section == RULES["DELTA-DONE-MATCHES"].section
    assert v.to_dict()["rule"] == "DELTA-DONE-MATCHES"


def test_profiles_differ_on_openai_framing() -> None:
    pairs = framed(doc_derived_stream(), done=False)
    strict = {v.rule: v.severity for v in validate_stream(pairs, "openresponses")}
    lenient = {v.rule: v.severity for v in validate_stream(pairs, "openai")}
    assert strict["SSE-DONE-TERMINAL"] == "error"
    assert lenient["SSE-DONE-TERMINAL"] == "info"


def test_unknown_unprefixed_event_is_error_strict_warning_openai() -> None:
    ev = doc_derived_stream()
    ev.insert(2, {"type": "response.mystery", "sequence_number": 0})
    renumber(ev)
    strict = [v for v in stream(ev) if v.rule == "EXTENSION-TYPE-PREFIXED"]
    lenient = [v for v in stream(ev, "openai") if v.rule == "EXTENSION-TYPE-PREFIXED"]
    assert [v.severity for v in strict] == ["error"]
    assert [v.severity for v in lenient] == ["warning"]


def test_openai_hosted_event_is_info_under_openai_only() -> None:
    ev = doc_derived_stream()
    ev.insert(2, {"type": "response.web_search_call.searching", "output_index": 0, "item_id": "ws_1"})
    renumber(ev)
    assert "OPENAI-EXTENSION" in {v.rule for v in stream(ev, "openai")}
    assert "EXTENSION-TYPE-PREFIXED" in {v.rule for v in stream(ev)}


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        validate_response({}, "azure")  # type: ignore[arg-type]
