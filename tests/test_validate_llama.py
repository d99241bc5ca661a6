"""The validator against a real non-conformant server: open-responses-server over llama.cpp.

open-responses-server (PyPI) translates the Responses API onto a chat-completions backend;
here the backend is a real llama.cpp server (llama-cpp-python, SmolLM2-135M). Its output
breaks the spec in ways a schema-only tester does not see; the validator must name them.
Skipped, with the reason, when llama-cpp-python, the model or the package is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from anyllm.testing.llama_server import LlamaServer
from anyllm.testing.open_responses_server import OpenResponsesServerUnavailable, open_responses_server
from anyllm.testing.validate import has_errors, validate_response, validate_stream

pytestmark = pytest.mark.llamacpp


@pytest.fixture(scope="module")
def ors_url(llama: LlamaServer) -> Iterator[str]:
    try:
        with open_responses_server(llama) as url:
            yield url
    except OpenResponsesServerUnavailable as exc:
        if os.environ.get("ANYLLM_REQUIRE_LLAMA") == "1":  # CI installs it: missing is a failure
            pytest.fail(str(exc))
        pytest.skip(str(exc))


REQUEST = {"model": "smollm2", "input": "Say hello.", "max_output_tokens": 16, "temperature": 0}


def test_streaming_deviations_are_reported(ors_url: str) -> None:
    import httpx2

    body = {**REQUEST, "stream": True}
    reply = httpx2.post(f"{ors_url}/responses", json=body, timeout=120)
    assert reply.status_code == 200
    for profile in ("openresponses", "openai"):
        found = validate_stream(
            reply.content,
            profile,
            request=body,  # type: ignore[arg-type]
            content_type=reply.headers.get("content-type"),
        )
        rules = {v.rule for v in found if v.severity == "error"}
        assert has_errors(found)
        # No sequence_number/content_index, no output_item.added, no content_part.added,
        # and the final item was never opened or closed.
        assert {
            "SCHEMA-EVENT",
            "ITEM-ADDED-BEFORE-DELTA",
            "CONTENT-PART-ADDED-BEFORE-DELTA",
            "ITEM-NOT-STREAMED",
        } <= rules, sorted(rules)
    strict = {v.rule for v in validate_stream(reply.content, request=body)}
    assert {"SSE-EVENT-NAME-MISSING", "SSE-DONE-TERMINAL", "SCHEMA-RESPONSE", "SCHEMA-ITEM"} <= strict


def test_non_streaming_reply_is_reported(ors_url: str) -> None:
    import httpx2

    reply = httpx2.post(f"{ors_url}/responses", json=REQUEST, timeout=120)
    found = validate_response(
        reply.content, "openai", request=REQUEST, content_type=reply.headers.get("content-type")
    )
    assert has_errors(found), reply.text[:200]
