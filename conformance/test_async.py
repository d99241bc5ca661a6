"""The async API: same requests, same validation, through aresponses()."""

from __future__ import annotations

from anyllm.testing.cases import case
from anyllm.testing.harness import output_text, run_async
from conformance.common import MAX_TOKENS


@case("async-response", feature="async create")
def test_async_response(anyllm_client, conformance_validator):
    response = run_async(anyllm_client.acreate("Say hello.", max_output_tokens=MAX_TOKENS))
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("async-streaming", requires=("streaming",), feature="async stream")
def test_async_streaming(anyllm_client, conformance_validator):
    result = run_async(anyllm_client.astream("Say hello.", max_output_tokens=MAX_TOKENS))
    conformance_validator.expect(
        result.error is None, "CASE-STREAM-ERROR", f"no stream error ({result.error})"
    )
    conformance_validator.expect(
        result.terminal in ("response.completed", "response.incomplete"),
        "CASE-STREAM-TERMINAL",
        f"a terminal event (got {result.terminal})",
    )


@case("async-early-stream-cancel", requires=("streaming",), feature="async early close")
def test_async_early_stream_cancel(anyllm_client, conformance_validator):
    async def body():
        prefix = await anyllm_client.astream_prefix("Write a long story.", 2, max_output_tokens=64)
        after = await anyllm_client.acreate("Say hi.", max_output_tokens=MAX_TOKENS)
        return prefix, after

    prefix, after = run_async(body())
    conformance_validator.expect(len(prefix.events) == 2, "CASE-STREAM-PREFIX", "two events were read")
    conformance_validator.expect(
        after.get("object") == "response", "CASE-AFTER-CANCEL", "a call after the close works"
    )
