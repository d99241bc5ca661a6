"""The validator against real recorded traffic (../shared/corpus; skipped when absent).

Under profile ``openai``, real OpenAI / Azure / DeepSeek / OpenRouter / Bedrock Responses
traffic whose event types are all in the spec must produce no error, except deviations that
are real and named here (each one asserted, so it cannot silently disappear or multiply).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anyllm.testing.validate import Violation, default_store, validate_response, validate_stream

pytestmark = pytest.mark.corpus

REPO = Path(__file__).resolve().parents[1]
CORPUS = (
    Path(os.environ.get("ANYLLM_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "interactions.jsonl.gz"
)

# Real deviations found in the corpus: (cassette file suffix, rule) -> why.
KNOWN_ERRORS = {
    (
        "test_deepseek_responses_rejects_interleaved_function_calls.yaml",
        "CONTENT-TYPE-JSON",
    ): "DeepSeek sends its 400 error body as application/octet-stream",
    (
        "test_openai_previous_response_id_auto_mode.yaml",
        "SCHEMA-RESPONSE",
    ): "hand-written upstream fixture: status 'complete', no tools/tool_choice (not real OpenAI output)",
    (
        "test_openai_responses_raw_cot_stream_openrouter.yaml",
        "TERMINAL-OUTPUT-MATCHES-STREAM",
    ): "OpenRouter streams reasoning item rs_tmp_2kbe... but completes with rs_tmp_ku4i...",
}


def _interactions() -> Iterator[dict[str, Any]]:
    if not CORPUS.is_file():
        pytest.skip(f"corpus absent: {CORPUS}")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if str(rec.get("url", "")).split("?")[0].rstrip("/").endswith("/responses"):
                yield rec


def _judge(rec: dict[str, Any], profile: str) -> list[Violation]:
    if rec.get("sse_events"):
        pairs = [(e["event"], e["data"]) for e in rec["sse_events"]]
        return validate_stream(
            pairs,
            profile,
            content_type=rec.get("response_content_type"),  # type: ignore[arg-type]
            request=rec.get("request_body"),
        )
    return validate_response(
        rec["response_json"],
        profile,
        content_type=rec.get("response_content_type"),  # type: ignore[arg-type]
        status=rec.get("status"),
        request=rec.get("request_body"),
    )


def _spec_events_only(rec: dict[str, Any]) -> bool:
    events = default_store().events
    for e in rec.get("sse_events") or []:
        data = e["data"]
        if isinstance(data, dict) and data.get("type") not in events:
            return False
    return True


def test_openai_profile_has_no_unexplained_error_on_spec_traffic() -> None:
    checked = 0
    seen_known: set[tuple[str, str]] = set()
    unexplained: list[str] = []
    for rec in _interactions():
        if not _spec_events_only(rec):
            continue
        checked += 1
        for v in _judge(rec, "openai"):
            if v.severity != "error":
                continue
            key = next((k for k in KNOWN_ERRORS if rec["file"].endswith(k[0]) and k[1] == v.rule), None)
            if key is None:
                unexplained.append(f"{rec['provider']} {rec['file']}: {v}")
            else:
                seen_known.add(key)
    assert checked > 150
    assert not unexplained, "\n".join(unexplained[:20])
    assert seen_known == {k for k in KNOWN_ERRORS if "openrouter" not in k[0]}


def test_real_deviations_are_reported() -> None:
    by_file = {rec["file"]: rec for rec in _interactions()}
    openrouter = next(r for f, r in by_file.items() if f.endswith("raw_cot_stream_openrouter.yaml"))
    rules = {v.rule: v.severity for v in _judge(openrouter, "openai")}
    assert rules["TERMINAL-OUTPUT-MATCHES-STREAM"] == "error"
    assert rules["SSE-EVENT-NAME-MISSING"] == "warning"
    strict = {v.rule for v in _judge(openrouter, "openresponses")}
    assert {"EXTENSION-TYPE-PREFIXED", "SSE-EVENT-NAME-MISSING", "SCHEMA-RESPONSE"} <= strict
    deepseek_error = next(
        r for f, r in by_file.items() if f.endswith("rejects_interleaved_function_calls.yaml")
    )
    assert "CONTENT-TYPE-JSON" in {v.rule for v in _judge(deepseek_error, "openai")}


def test_openai_hosted_tools_are_errors_strict_and_info_under_openai() -> None:
    for rec in _interactions():
        if (
            rec["provider"] == "openai"
            and rec.get("response_json")
            and any(
                isinstance(it, dict) and it.get("type") == "web_search_call"
                for it in rec["response_json"].get("output", [])
            )
        ):
            strict = _judge(rec, "openresponses")
            lenient = _judge(rec, "openai")
            assert any(v.rule == "EXTENSION-TYPE-PREFIXED" and v.severity == "error" for v in strict)
            assert any(v.rule == "OPENAI-EXTENSION" and v.severity == "info" for v in lenient)
            return
    pytest.fail("no web_search_call response in the corpus")


def test_engines_agree_on_the_corpus() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    store = default_store()
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in store.schemas.values()
    )
    reference: dict[str, Any] = {}

    def agree(name: str, instance: Any) -> None:
        if name not in reference:
            reference[name] = jsonschema.Draft202012Validator(store.schemas[name], registry=registry)
        fast = store.validator(name).is_valid(instance)
        slow = reference[name].is_valid(instance)
        assert fast == slow, (name, json.dumps(instance)[:300])

    items = store.members("item")
    compared = 0
    for rec in _interactions():
        bodies = [rec["response_json"]] if isinstance(rec.get("response_json"), dict) else []
        for e in rec.get("sse_events") or []:
            data = e["data"]
            if isinstance(data, dict) and data.get("type") in store.events:
                agree(store.events[data["type"]], data)
                compared += 1
                if isinstance(data.get("response"), dict):
                    bodies.append(data["response"])
        for body in bodies:
            if "error" in body and "object" not in body:
                agree("ErrorPayload", body["error"])
                continue
            agree("ResponseResource", body)
            compared += 1
            for item in body.get("output") or []:
                if isinstance(item, dict) and item.get("type") in items:
                    agree(items[item["type"]], item)
    assert compared > 2500
