"""Every input form the validator takes, and its import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from anyllm.streaming import SSEDecoder
from anyllm.testing.validate import StreamValidator, validate_response, validate_stream
from tests.validate_samples import doc_derived_response, doc_derived_stream, find, framed, raw_sse


def test_import_is_light() -> None:
    code = (
        "import sys, anyllm.testing.validate; "
        "from anyllm.testing.validate import schema_store; "
        "bad = [m for m in ('openai', 'pytest', 'jsonschema', 'jsonschema_rs') if m in sys.modules]; "
        "assert not bad, bad; assert schema_store._STORE is None"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1])
    )


def test_openresponses_types_model_is_accepted() -> None:
    types = pytest.importorskip("openresponses_types")
    model_cls = getattr(types, "ResponseResource", None)
    if model_cls is None:
        pytest.skip("openresponses_types has no ResponseResource")
    model = model_cls.model_validate(doc_derived_response())
    assert validate_response(model) == []


def test_openai_sdk_model_is_accepted() -> None:
    from openai.types.responses import Response

    body = doc_derived_response()
    body["usage"]["input_tokens_details"]["cache_write_tokens"] = 0  # the SDK requires it; the spec allows it
    model = Response.model_validate(body)
    assert [v for v in validate_response(model, "openai") if v.severity == "error"] == []


def test_json_text_and_bytes() -> None:
    text = json.dumps(doc_derived_response())
    assert validate_response(text) == []
    assert validate_response(text.encode()) == []


def test_raw_sse_bytes_and_decoded_events_agree() -> None:
    raw = raw_sse(doc_derived_stream()).encode()
    assert validate_stream(raw, content_type="text/event-stream") == []
    decoder = SSEDecoder()
    events = decoder.feed(raw) + decoder.flush()
    assert validate_stream(events) == []


def test_corpus_style_wrappers_and_parsed_data() -> None:
    wrapped = [{"event": ev["type"], "data": ev} for ev in doc_derived_stream()]
    wrapped.append({"event": None, "data": "[DONE]"})
    assert validate_stream(wrapped) == []


def test_incremental_feed_reports_at_the_offending_event() -> None:
    events = doc_derived_stream()
    events[find(events, "response.output_text.delta")]["delta"] = "Hullo"
    bad = find(events, "response.output_text.done")
    validator = StreamValidator()
    per_event = [validator.feed(pair) for pair in framed(events)]
    assert all(not found for i, found in enumerate(per_event) if i != bad)
    assert {v.rule for v in per_event[bad]} == {"DELTA-DONE-MATCHES"}
    assert validator.finish() == []


def test_bad_sse_reports_line_numbers() -> None:
    text = raw_sse(doc_derived_stream()).replace('"delta": " there"', '"delta": " there', 1)
    found = [v for v in validate_stream(text) if v.rule == "SSE-DATA-JSON"]
    assert len(found) == 1 and found[0].line is not None
    assert text.splitlines()[found[0].line - 1].startswith("event: response.output_text.delta")


def test_binary_stream_is_a_violation_not_a_traceback() -> None:
    found = validate_stream(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert [v.rule for v in found] == ["INPUT-MALFORMED"]
