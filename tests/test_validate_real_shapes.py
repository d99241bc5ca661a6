"""Validator verdicts on real wire shapes (issue 14, items 9-15).

Each test starts from traffic recorded from a real provider (``../shared/corpus``, read at
test time; skipped when absent) and, where the shape in question was seen elsewhere, changes
exactly the one thing the item is about, saying so. Every test here failed before its fix.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from anyllm.testing.validate import (
    Violation,
    has_errors,
    validate_request,
    validate_response,
    validate_stream,
)
from tests.helpers.corpus import corpus_row

pytestmark = pytest.mark.corpus

OPENAI_STREAM = ("openai", "test_openai_responses_phase_streamed_on_part_start.yaml")  # text + function call


def _events(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [copy.deepcopy(e["data"]) for e in row["sse_events"] if isinstance(e["data"], dict)]


def _judge(events: list[dict[str, Any]], profile: str = "openai") -> list[Violation]:
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    return validate_stream([(e["type"], e) for e in events], profile)  # type: ignore[arg-type]


def _at(events: list[dict[str, Any]], type_: str, last: bool = False) -> int:
    found = [i for i, e in enumerate(events) if e["type"] == type_]
    return found[-1] if last else found[0]


def _rules(found: list[Violation], severity: str | None = None) -> set[str]:
    return {v.rule for v in found if severity is None or v.severity == severity}


def test_real_stream_is_clean_before_each_change() -> None:
    assert not has_errors(_judge(_events(corpus_row(*OPENAI_STREAM))))


# 9. A delta after its own *.done event.
def test_text_delta_after_its_done_is_reported() -> None:
    events = _events(corpus_row(*OPENAI_STREAM))
    done = _at(events, "response.output_text.done")
    late = {**events[done - 1], "delta": ""}  # the last real text delta, repeated empty
    events.insert(done + 1, late)
    found = [v for v in _judge(events) if v.rule == "DELTA-AFTER-DONE"]
    assert [v.severity for v in found] == ["error"]
    assert found[0].path == f"$[{done + 1}]"


def test_argument_delta_after_arguments_done_is_reported() -> None:
    events = _events(corpus_row(*OPENAI_STREAM))
    done = _at(events, "response.function_call_arguments.done")
    events.insert(done + 1, {**events[done - 1], "delta": ""})
    assert "DELTA-AFTER-DONE" in _rules(_judge(events), "error")


# 10. The openai profile and OpenAI's own request extensions.
OPENAI_INCLUDES = (
    "web_search_call.action.sources",
    "code_interpreter_call.outputs",
    "file_search_call.results",
    "message.input_image.image_url",
)


def test_openai_profile_accepts_openais_include_values() -> None:
    row = corpus_row("openai", "test_openai_responses_code_execution_return_image.yaml")
    assert "code_interpreter_call.outputs" in row["request_body"]["include"]  # as recorded
    assert not has_errors(validate_request(row["request_body"], "openai"))
    body = {**row["request_body"], "include": [*OPENAI_INCLUDES, "reasoning.encrypted_content"]}
    lenient = validate_request(body, "openai")
    assert not has_errors(lenient)
    assert _rules(lenient) == {"OPENAI-EXTENSION"}
    strict = [v.path for v in validate_request(body) if v.severity == "error" and "include" in v.path]
    assert sorted(strict) == [f"$.include[{i}]" for i in range(4)]
    assert has_errors(validate_request({**body, "include": ["no.such.value"]}, "openai"))


def _next_turn(annotation_type: str | None = None) -> dict[str, Any]:
    """The recorded request and its recorded reply, sent back as the next turn's input."""
    first = corpus_row("openai", "test_openai_responses_code_execution_return_image.yaml")
    message = next(it for it in first["response_json"]["output"] if it["type"] == "message")
    message = copy.deepcopy(message)
    for part in message["content"]:
        part.pop("logprobs", None)  # an output-only field the client drops when it echoes
        if annotation_type is not None:
            for note in part["annotations"]:
                note["type"] = annotation_type
    body: dict[str, Any] = copy.deepcopy(first["request_body"])
    body["input"] = [*body["input"], message, {"role": "user", "content": "Make it futuristic"}]
    return body


def test_openai_profile_accepts_an_echoed_assistant_message_with_openai_annotations() -> None:
    for kind in (None, "file_citation"):  # container_file_citation as recorded, and file_citation
        found = validate_request(_next_turn(kind), "openai")
        assert not has_errors(found), [str(v) for v in found]


def test_annotation_error_names_the_annotation_not_the_item_union() -> None:
    body = _next_turn()
    annotation = body["input"][1]["content"][0]["annotations"][1]
    annotation.update(type="url_citation")  # a spec annotation type, lacking the spec's fields
    found = [v for v in validate_request(body, "openai") if v.severity == "error"]
    assert found, "the broken annotation is reported"
    assert {v.path for v in found} == {"$.input[1].content[0].annotations[1]"}
    assert all(v.rule == "SCHEMA-CONTENT" and "UrlCitationParam" in v.message for v in found)
    strict = [v.path for v in validate_request(_next_turn()) if v.path.startswith("$.input[1]")]
    assert strict == [f"$.input[1].content[0].annotations[{i}]" for i in range(2)]


# 11. A tool call whose call_id is filled in between output_item.added and .done.
def test_call_id_filled_in_at_done_is_not_a_violation() -> None:
    events = _events(corpus_row("openai", "test_openai_client_tool_search_streaming.yaml", 0))
    added = next(
        e
        for e in events
        if e["type"] == "response.output_item.added" and e["item"]["type"] == "tool_search_call"
    )
    added["item"]["call_id"] = "call_" + "0" * 24  # what the added event carried in the traffic
    assert "TOOL-CALL-ID-MATCHES" not in _rules(_judge(events))
    final = events[-1]["response"]["output"]
    call = next(it for it in final if it["type"] == "tool_search_call")
    call["call_id"] = "call_changed_after_done"
    assert "TOOL-CALL-ID-MATCHES" in _rules(_judge(events), "error")


# 12. A response body with "error": null and no "object", judged without an HTTP status.
def test_null_error_without_object_is_judged_as_a_response() -> None:
    body = copy.deepcopy(corpus_row("openai", "test_openai_native_tool_search.yaml")["response_json"])
    assert body["error"] is None
    del body["object"]
    found = validate_response(body, "openai")
    assert _rules(found, "error") == {"SCHEMA-RESPONSE"}
    assert any("object" in v.message for v in found)


# 13. Arguments sent whole in function_call_arguments.done, with no delta (LM Studio's shape).
def test_done_without_deltas_is_a_warning_not_an_error() -> None:
    events = [
        e
        for e in _events(corpus_row(*OPENAI_STREAM))
        if e["type"] != "response.function_call_arguments.delta"
    ]
    found = _judge(events)
    assert not has_errors(found), [str(v) for v in found if v.severity == "error"]
    assert [v.severity for v in found if v.rule == "DELTA-DONE-WITHOUT-DELTAS"] == ["warning"]


# 14. The error type of the spec's own example, as OpenAI and DeepSeek send it.
@pytest.mark.parametrize(
    ("provider", "cassette", "index"),
    [
        ("openai", "test_openai_responses_thinking_with_modified_history.yaml", 1),
        ("deepseek", "test_deepseek_responses_rejects_interleaved_function_calls.yaml", 0),
    ],
)
def test_invalid_request_error_is_info_citing_both_places(provider: str, cassette: str, index: int) -> None:
    row = corpus_row(provider, cassette, index)
    assert row["response_json"]["error"]["type"] == "invalid_request_error"
    found = validate_response(row["response_json"], status=row["status"])
    example = [v for v in found if v.rule == "ERROR-TYPE-SPEC-EXAMPLE"]
    assert [v.severity for v in example] == ["info"]
    assert "invalid_request'" in example[0].message and "invalid_request_error" in example[0].message
    assert "ERROR-TYPE-KNOWN" not in _rules(found)


# 15. No placeholder in a message.
def test_messages_name_what_is_missing_not_a_placeholder() -> None:
    # Deltas without content_index and no content_part.added: the part they belong to is
    # unknown (with the part added, they would go to it: see test_stream_indexes_absent).
    events = [e for e in _events(corpus_row(*OPENAI_STREAM)) if e["type"] != "response.content_part.added"]
    for event in events:
        if event["type"] in ("response.output_text.delta", "response.output_text.done"):
            del event["content_index"]
    texts = [v.message for v in _judge(events)]
    assert any("no content_index" in t for t in texts), texts
    assert not [t for t in texts if "None" in t or "-1" in t or "content part -" in t]


def test_item_without_id_is_named_by_its_output_index() -> None:
    events = _events(corpus_row(*OPENAI_STREAM))
    added = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "response.output_item.added" and e["item"]["type"] == "message"
    )
    index = events.pop(added)["output_index"]
    del events[_at(events, "response.content_part.added")]  # so its deltas name the item
    for event in events:
        event.pop("item_id", None)  # the item is known by its output_index only
    texts = [v.message for v in _judge(events)]
    assert any(f"the item at output_index {index}" in t for t in texts), texts
    assert texts and not [t for t in texts if "None" in t or "-1" in t], texts


def test_every_message_of_a_broken_real_stream_is_placeholder_free() -> None:
    """Every event of a real stream without its indices: whatever is reported says so in words."""
    events = _events(corpus_row(*OPENAI_STREAM))
    for event in events:
        for key in ("content_index", "output_index", "summary_index"):
            event.pop(key, None)
    texts = [v.message for v in _judge(events)]
    assert texts
    leaks = [t for t in texts if "None" in t or "-1" in t]
    assert not leaks, json.dumps(leaks[:5], indent=1)
