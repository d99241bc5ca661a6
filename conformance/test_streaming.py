"""Streaming: every event is validated as it arrives (order, lifecycle, sequence numbers,
deltas against their done events); the cases check what a client sees at the end."""

from __future__ import annotations

from anyllm.testing.cases import case
from conformance.common import MAX_TOKENS, WEATHER_TOOL, user


@case("streaming-response", requires=("streaming",), official="streaming-response", feature="streaming text")
def test_streaming_response(anyllm_client, conformance_validator):
    result = anyllm_client.stream("Say hello in one short sentence.", max_output_tokens=MAX_TOKENS)
    v = conformance_validator
    v.expect(result.error is None, "CASE-STREAM-ERROR", f"the stream ended without error ({result.error})")
    v.expect(
        result.types[:1] == ["response.created"], "CASE-STREAM-START", "the first event is response.created"
    )
    v.expect(
        result.terminal in ("response.completed", "response.incomplete"),
        "CASE-STREAM-TERMINAL",
        f"the stream ends completed or incomplete (got {result.terminal})",
    )
    v.expect("response.output_text.delta" in result.types, "CASE-STREAM-DELTAS", "text arrives as deltas")


@case("streaming-text-matches-final", requires=("streaming",), feature="deltas = final text")
def test_streaming_text_matches_final(anyllm_client, conformance_validator):
    result = anyllm_client.stream("Name three colours.", max_output_tokens=MAX_TOKENS)
    final_text = ""
    for item in (result.final or {}).get("output") or []:
        for part in item.get("content") or []:
            if part.get("type") == "output_text":
                final_text += part.get("text", "")
    conformance_validator.expect(
        result.final is not None, "CASE-STREAM-TERMINAL", "a terminal response arrived"
    )
    conformance_validator.expect(
        result.text() == final_text,
        "CASE-STREAM-TEXT",
        "the concatenated deltas equal the final response's text",
    )


@case("streaming-unicode", requires=("streaming",), feature="multi-byte text split across chunks")
def test_streaming_unicode(anyllm_client, conformance_validator):
    result = anyllm_client.stream("Écris «bonjour» en japonais: こんにちは 🙂", max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        result.error is None, "CASE-STREAM-ERROR", f"no stream error ({result.error})"
    )
    conformance_validator.expect("\ufffd" not in result.text(), "CASE-UTF8", "no U+FFFD in the streamed text")


@case("streaming-usage", requires=("streaming",), feature="usage in the terminal event")
def test_streaming_usage(anyllm_client, conformance_validator):
    result = anyllm_client.stream("Count to three.", max_output_tokens=MAX_TOKENS)
    usage = (result.final or {}).get("usage") or {}
    conformance_validator.expect(
        usage.get("output_tokens", 0) > 0,
        "CASE-USAGE",
        "the terminal response reports output_tokens",
        "$.response.usage",
    )


@case("streaming-incomplete", requires=("streaming",), feature="max_output_tokens -> response.incomplete")
def test_streaming_incomplete(anyllm_client, conformance_validator):
    result = anyllm_client.stream(
        "Write a long story about a dragon, at least ten paragraphs.", max_output_tokens=16
    )
    conformance_validator.expect(
        result.terminal == "response.incomplete",
        "CASE-INCOMPLETE-STATUS",
        f"the stream ends with response.incomplete (got {result.terminal})",
    )


@case("streaming-tool-call", requires=("streaming", "tools"), feature="streaming function call")
def test_streaming_tool_call(anyllm_client, conformance_validator):
    result = anyllm_client.stream(
        [user("What is the weather in Paris? Use the tool.")],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        max_output_tokens=64,
    )
    v = conformance_validator
    v.expect(result.error is None, "CASE-STREAM-ERROR", f"no stream error ({result.error})")
    added = [
        e
        for e in result.events
        if e.get("type") == "response.output_item.added"
        and (e.get("item") or {}).get("type") == "function_call"
    ]
    v.expect(added, "CASE-TOOL-CALLED", "a function_call item is streamed")
    v.expect(
        "response.function_call_arguments.done" in result.types,
        "CASE-STREAM-ARGS",
        "the arguments end with response.function_call_arguments.done",
    )


@case("early-stream-cancel", requires=("streaming",), feature="closing a stream early")
def test_early_stream_cancel(anyllm_client, conformance_validator):
    prefix = anyllm_client.stream_prefix("Write a long story about a dragon.", 3, max_output_tokens=64)
    conformance_validator.expect(len(prefix.events) == 3, "CASE-STREAM-PREFIX", "three events were read")
    # The connection was released: the next call on the same client works.
    after = anyllm_client.create("Say hi.", max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        after.get("object") == "response", "CASE-AFTER-CANCEL", "a call after an early close succeeds"
    )
