"""The chat-completions bridge over real HTTP: recorded wire shapes in, Responses out.

Every provider here is a loopback ``ThreadingHTTPServer`` replaying bodies: the real
recorded ones from ``../shared/corpus`` (Mistral, Groq, OpenRouter, Hugging Face, Cerebras,
DeepSeek, OpenAI chat traffic; loaded at test time, skipped when absent) and, where the
corpus has nothing, ``doc_derived_*`` fixtures that follow the named documentation page.
Calls go through ``anyllm.responses()``/``aresponses()`` and every stream through
``assert_stream_conforms`` (the shipped stream validator: order, identity, schemas).
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest

import anyllm
from anyllm.errors import (
    AnyLLMError,
    ContentFilterError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    StreamError,
    UnsupportedParameterError,
)
from anyllm.translate.chat import DIALECTS, dialect_for, translate_request
from tests.helpers.calls import responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems, stream_rules
from tests.helpers.events import acollect, collect
from tests.helpers.loopback import LoopbackServer, Reply

CORPUS = Path(os.environ.get("ANYLLM_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "corpus"
CORPUS_FILE = CORPUS / "interactions.jsonl.gz"
KEY = "test-key"

# -- helpers -----------------------------------------------------------------------------------


@cache
def _chat_records() -> tuple[dict[str, Any], ...]:
    records = []
    with gzip.open(CORPUS_FILE, "rt", encoding="utf-8") as handle:
        for line in handle:
            if "chat/completions" not in line[:4000] and "chat/completions" not in line:
                continue
            record = json.loads(line)
            if "chat/completions" in str(record.get("url")):
                records.append(record)
    return tuple(records)


def corpus_records(*, streamed: bool, status: int = 200) -> list[dict[str, Any]]:
    if not CORPUS_FILE.is_file():
        pytest.skip("../shared/corpus is absent")
    return [r for r in _chat_records() if bool(r.get("sse_events")) == streamed and r.get("status") == status]


def _bridge_provider(record: dict[str, Any]) -> str:
    """The registry provider whose dialect fits a recorded host (others: OpenAI-compatible)."""
    return {"mistral": "mistral", "cerebras": "cerebras"}.get(str(record["provider"]), "openai_compatible")


def _data(event: dict[str, Any]) -> Any:
    data = event.get("data")
    if isinstance(data, str) and data != "[DONE]":
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def sse_chunks(events: list[tuple[str | None, Any]], split: int | None = None) -> list[bytes]:
    """Chat SSE bytes (``data: {...}`` blocks), optionally re-cut into ``split``-byte pieces."""
    body = b"".join(
        (f"event: {name}\n" if name else "").encode()
        + b"data: "
        + (data if isinstance(data, str) else json.dumps(data)).encode()
        + b"\n\n"
        for name, data in events
    )
    if split is None:
        return [body]
    return [body[i : i + split] for i in range(0, len(body), split)]


def sse_reply(events: list[tuple[str | None, Any]], *, split: int | None = 7, **kw: Any) -> Reply:
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=sse_chunks(events, split), **kw)


# anyllm.responses() at a loopback server (chat providers serve under /v1); pass provider= to change it.
call = partial(responses_at, provider="openai_compatible", api_key=KEY)


def sent(server: LoopbackServer, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = server.requests[index].json()
    return body


def chat_reply(content: str | None = "Hi there", finish: str = "stop", **message: Any) -> dict[str, Any]:
    """doc_derived: https://platform.openai.com/docs/api-reference/chat/object"""
    return {
        "id": "chatcmpl-doc",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "served-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """doc_derived: https://platform.openai.com/docs/api-reference/chat-streaming/streaming"""
    return {
        "id": "chatcmpl-doc",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "served-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


USAGE_CHUNK = {
    "id": "chatcmpl-doc",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "served-model",
    "choices": [],
    "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
}


def expected_from_deltas(chunks: list[Any]) -> dict[str, Any]:
    """What a recorded chat stream says, read independently of the bridge."""
    text, reasoning, refusal = [], [], []
    calls: dict[Any, dict[str, Any]] = {}
    for data in chunks:
        if not isinstance(data, dict):
            continue
        for choice in data.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                text.append(delta["content"])
            for key in ("reasoning_content", "reasoning"):
                if isinstance(delta.get(key), str) and delta[key]:
                    reasoning.append(delta[key])
                    break
            if isinstance(delta.get("refusal"), str):
                refusal.append(delta["refusal"])
            for position, tc in enumerate(delta.get("tool_calls") or []):
                slot = calls.setdefault(
                    tc.get("index", position), {"id": None, "name": None, "arguments": ""}
                )
                fn = tc.get("function") or {}
                slot["id"] = slot["id"] or tc.get("id")
                slot["name"] = slot["name"] or fn.get("name")
                slot["arguments"] += fn.get("arguments") or ""
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "refusal": "".join(refusal),
        "calls": calls,
    }


def output_summary(response: dict[str, Any]) -> dict[str, Any]:
    text: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in response["output"]:
        if item["type"] == "message":
            for part in item["content"]:
                if part["type"] == "output_text":
                    text.append(part["text"])
                elif part["type"] == "refusal":
                    refusal.append(part["refusal"])
        elif item["type"] == "reasoning":
            reasoning.extend(part["text"] for part in item.get("content") or [])
        elif item["type"] == "function_call":
            calls.append(item)
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "refusal": "".join(refusal),
        "calls": calls,
    }


# -- recorded streams --------------------------------------------------------------------------


def _stream_ids() -> list[Any]:
    if not CORPUS_FILE.is_file():
        return [pytest.param(None, id="corpus-absent")]
    records = [r for r in _chat_records() if r.get("sse_events")]
    return [
        pytest.param(i, id=f"{r['provider']}-{Path(r['file']).stem[:40]}-{r['index']}")
        for i, r in enumerate(records)
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("position", _stream_ids())
def test_recorded_chat_stream_becomes_conforming_responses_stream(position: int | None) -> None:
    if position is None:
        pytest.skip("../shared/corpus is absent")
    record = [r for r in _chat_records() if r.get("sse_events")][position]
    events = [(e.get("event"), _data(e)) for e in record["sse_events"]]
    payloads = [data for name, data in events if name != "error"]
    expected = expected_from_deltas(payloads)
    error_events = [
        data for name, data in events if name == "error" or (isinstance(data, dict) and "error" in data)
    ]
    with LoopbackServer(sse_reply(events, split=13)) as server:
        out, error = collect(call(server, provider=_bridge_provider(record), stream=True))
    assert_stream_conforms(out)
    final = out[-1]["response"]
    if error_events:
        # Groq's in-stream error (event: error, status_code 400): error + response.failed, then typed.
        assert isinstance(error, InvalidRequestError), error
        assert [e["type"] for e in out[-2:]] == ["error", "response.failed"]
        assert error.code == error_events[0]["error"]["code"]
        return
    assert error is None, error
    got = output_summary(final)
    assert got["text"] == expected["text"]
    assert got["reasoning"] == expected["reasoning"]
    assert got["refusal"] == expected["refusal"]
    assert [(c["call_id"], c["name"], c["arguments"] or "{}") for c in got["calls"]] == [
        (c["id"], c["name"], c["arguments"] or "{}") for c in expected["calls"].values()
    ]
    found = [d.get("usage") or (d.get("x_groq") or {}).get("usage") for d in payloads if isinstance(d, dict)]
    usages: list[dict[str, Any]] = [u for u in found if u]
    if usages:
        assert final["usage"]["input_tokens"] == usages[-1]["prompt_tokens"]
        assert final["usage"]["output_tokens"] == usages[-1]["completion_tokens"]
    finishes = [
        c.get("finish_reason") for d in payloads if isinstance(d, dict) for c in d.get("choices") or []
    ]
    finishes = [f for f in finishes if f]
    expect_status = "incomplete" if finishes and finishes[-1] == "length" else "completed"
    assert final["status"] == expect_status


def _reply_ids() -> list[Any]:
    if not CORPUS_FILE.is_file():
        return [pytest.param(None, id="corpus-absent")]
    records = [r for r in _chat_records() if not r.get("sse_events") and r.get("status") == 200]
    return [
        pytest.param(i, id=f"{r['provider']}-{Path(r['file']).stem[:40]}-{r['index']}")
        for i, r in enumerate(records)
    ]


def _expected_from_message(message: dict[str, Any]) -> dict[str, Any]:
    text: list[str] = []
    reasoning: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        text.append(content)
    elif isinstance(content, list):  # Mistral chunks
        for part in content:
            if part.get("type") == "thinking":
                reasoning.extend(p["text"] for p in part.get("thinking") or [])
            elif isinstance(part.get("text"), str):
                text.append(part["text"])
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            reasoning.insert(0, message[key])
            break
    calls = message.get("tool_calls") or []
    return {"text": "".join(text), "reasoning": "".join(reasoning), "calls": calls}


@pytest.mark.corpus
@pytest.mark.parametrize("position", _reply_ids())
def test_recorded_chat_reply_becomes_response(position: int | None) -> None:
    if position is None:
        pytest.skip("../shared/corpus is absent")
    record = [r for r in _chat_records() if not r.get("sse_events") and r.get("status") == 200][position]
    reply = record["response_json"]
    if not isinstance(reply, dict) or not reply.get("choices"):
        pytest.skip("recorded reply has no choices (not a chat completion)")
    with LoopbackServer(Reply.json(reply)) as server:
        result = call(server, provider=_bridge_provider(record))
    response = result.model_dump(mode="json", exclude_unset=True, by_alias=True)
    assert response_schema_problems(response) == []
    choice = reply["choices"][0]
    expected = _expected_from_message(choice["message"])
    got = output_summary(response)
    assert got["text"] == expected["text"]
    assert got["reasoning"] == expected["reasoning"]
    # A recorded empty id (Gemini's OpenAI endpoint) gets a generated one: a call needs an id.
    assert [
        (c["call_id"] if recorded["id"] else "", c["name"], c["arguments"])
        for c, recorded in zip(got["calls"], expected["calls"], strict=True)
    ] == [(c["id"], c["function"]["name"], c["function"].get("arguments") or "{}") for c in expected["calls"]]
    assert all(c["call_id"] for c in got["calls"])
    assert response["model"] == reply.get("model", "test-model")
    if reply.get("usage"):
        assert response["usage"]["input_tokens"] == reply["usage"]["prompt_tokens"]
        assert response["usage"]["output_tokens"] == reply["usage"]["completion_tokens"]
    finish = choice.get("finish_reason")
    if finish == "length":
        assert response["status"] == "incomplete"
        assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    else:
        assert response["status"] == "completed"


@pytest.mark.corpus
def test_recorded_error_replies_are_typed() -> None:
    """Groq 400 and OpenRouter 429 chat replies, served as recorded."""
    records = [r for r in corpus_records(streamed=False, status=400) if r["provider"] == "groq"]
    records += [r for r in corpus_records(streamed=False, status=429) if r["provider"] == "openrouter"]
    assert records, "the corpus holds recorded Groq 400 / OpenRouter 429 chat replies"
    for record in records:
        status = record["status"]
        reply = Reply.json(record["response_json"], status=status)
        with LoopbackServer(reply) as server, pytest.raises(AnyLLMError) as caught:
            call(server)
        expected = RateLimitError if status == 429 else InvalidRequestError
        assert isinstance(caught.value, expected)
        assert caught.value.status_code == status


# -- requests: recorded Mistral traffic ---------------------------------------------------------


@pytest.mark.corpus
def test_mistral_request_matches_recorded_tool_traffic() -> None:
    """tool_choice "required" becomes Mistral's "any"; tools and tool turns keep the recorded shape."""
    records = [r for r in corpus_records(streamed=False) if r["provider"] == "mistral"]
    forced = [r for r in records if r["request_body"].get("tool_choice") == "any"]
    assert forced, "the corpus records Mistral's tool_choice 'any'"
    for record in forced:
        recorded = record["request_body"]
        tools = [
            {"type": "function", **{k: v for k, v in t["function"].items() if k != "strict"}}
            for t in recorded["tools"]
        ]
        with LoopbackServer(Reply.json(record["response_json"])) as server:
            call(
                server,
                provider="mistral",
                model=recorded["model"],
                input_data=recorded["messages"][-1]["content"],
                tools=tools,
                tool_choice="required",
                top_p=recorded.get("top_p"),
            )
            body = sent(server)
        assert body["tool_choice"] == "any"
        assert [t["function"]["name"] for t in body["tools"]] == [
            t["function"]["name"] for t in recorded["tools"]
        ]
        assert [t["function"]["parameters"] for t in body["tools"]] == [
            t["function"]["parameters"] for t in recorded["tools"]
        ]
        assert "stream_options" not in body and "parallel_tool_calls" not in body

    # A recorded tool round trip: assistant tool_calls then the tool message, as Mistral saw them.
    turns = [r for r in records if any(m.get("role") == "tool" for m in r["request_body"]["messages"])]
    assert turns
    recorded_messages = turns[0]["request_body"]["messages"]
    items: list[dict[str, Any]] = []
    for message in recorded_messages:
        if message["role"] == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message["tool_call_id"],
                    "output": message["content"],
                }
            )
        elif message["role"] == "assistant" and message.get("tool_calls"):
            for tc in message["tool_calls"]:
                items.append(
                    {
                        "type": "function_call",
                        "call_id": tc["id"],
                        "name": tc["function"]["name"],
                        "arguments": tc["function"]["arguments"],
                    }
                )
        elif isinstance(message.get("content"), str):
            items.append({"type": "message", "role": message["role"], "content": message["content"]})
    body = translate_request({"model": "m", "input": items}, DIALECTS["mistral"], stream=False)
    got_tool_turns = [
        (m["role"], m.get("tool_call_id"), m.get("tool_calls"))
        for m in body["messages"]
        if m["role"] == "tool" or m.get("tool_calls")
    ]
    want_tool_turns = [
        (
            m["role"],
            m.get("tool_call_id"),
            [{"id": t["id"], "type": "function", "function": t["function"]} for t in m["tool_calls"]]
            if m.get("tool_calls")
            else None,
        )
        for m in recorded_messages
        if m["role"] == "tool" or m.get("tool_calls")
    ]
    assert got_tool_turns == want_tool_turns


# -- doc-derived streams -----------------------------------------------------------------------


def doc_derived_text_stream(
    text: str = "Hello there, friend", finish: str = "stop"
) -> list[tuple[str | None, Any]]:
    """doc_derived: OpenAI chat streaming (role chunk, one text delta each, finish, usage, [DONE])."""
    words = text.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    events += [(None, chunk({"content": piece})) for piece in pieces]
    events += [(None, chunk({}, finish)), (None, USAGE_CHUNK), (None, "[DONE]")]
    return events


def test_stream_text_with_usage_sync_and_async() -> None:
    with LoopbackServer(sse_reply(doc_derived_text_stream())) as server:
        out, error = collect(call(server, stream=True, max_output_tokens=20))
        body = sent(server)
    assert error is None
    assert_stream_conforms(out)
    final = out[-1]["response"]
    assert final["status"] == "completed"
    assert output_summary(final)["text"] == "Hello there, friend"
    assert final["usage"]["input_tokens"] == 11 and final["usage"]["total_tokens"] == 15
    assert final["model"] == "served-model"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 20


async def test_stream_text_async() -> None:
    with LoopbackServer(sse_reply(doc_derived_text_stream())) as server:
        stream = await anyllm.aresponses(
            model="m",
            input_data="hi",
            provider="together",
            api_base=f"{server.url}/v1",
            api_key=KEY,
            stream=True,
        )
        out, error = await acollect(stream)
    assert error is None
    assert_stream_conforms(out)
    assert output_summary(out[-1]["response"])["text"] == "Hello there, friend"


def test_stream_length_is_incomplete() -> None:
    with LoopbackServer(sse_reply(doc_derived_text_stream(finish="length"))) as server:
        out, error = collect(call(server, stream=True, max_output_tokens=3))
    assert error is None
    assert_stream_conforms(out)
    assert out[-1]["type"] == "response.incomplete"
    final = out[-1]["response"]
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][-1]["status"] == "incomplete"


def test_stream_content_filter_is_incomplete() -> None:
    """doc_derived: finish_reason "content_filter" (platform.openai.com chat object docs)."""
    with LoopbackServer(sse_reply(doc_derived_text_stream("Partial", finish="content_filter"))) as server:
        out, _ = collect(call(server, stream=True))
    assert_stream_conforms(out)
    assert out[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}


def test_stream_reasoning_refusal_and_parallel_tool_calls() -> None:
    """Reasoning (DeepSeek reasoning_content, OpenRouter/Groq reasoning), a refusal, two calls."""
    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant", "reasoning_content": "Think"})),
        (None, chunk({"reasoning": "ing."})),
        (None, chunk({"content": "Answer"})),
        (None, chunk({"refusal": "No."})),
        (
            None,
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"ci'},
                        }
                    ]
                }
            ),
        ),
        (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty":"Paris"}'}}]})),
        (
            None,
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "get_time", "arguments": ""},
                        }
                    ]
                }
            ),
        ),
        (None, chunk({}, "tool_calls")),
        (None, "[DONE]"),
    ]
    with LoopbackServer(sse_reply(events, split=5)) as server:
        out, error = collect(call(server, stream=True))
    assert error is None
    assert_stream_conforms(out)
    final = out[-1]["response"]
    assert [item["type"] for item in final["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    summary = output_summary(final)
    assert summary["reasoning"] == "Thinking." and summary["text"] == "Answer" and summary["refusal"] == "No."
    assert [(c["call_id"], c["name"], c["arguments"]) for c in summary["calls"]] == [
        ("call_a", "get_weather", '{"city":"Paris"}'),
        ("call_b", "get_time", "{}"),
    ]
    assert final["status"] == "completed"


def test_mistral_thinking_chunks_in_stream_and_reply() -> None:
    """Mistral magistral content chunks: {"type": "thinking", "thinking": [...]} then text."""
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]}
    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant", "content": [thinking]})),
        (None, chunk({"content": [{"type": "text", "text": "Four"}]})),
        (
            None,
            chunk(
                {"content": ""}, "stop", usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
            ),
        ),
        (None, "[DONE]"),
    ]
    with LoopbackServer(sse_reply(events)) as server:
        out, _ = collect(call(server, provider="mistral", stream=True))
        body = sent(server)
    assert_stream_conforms(out)
    summary = output_summary(out[-1]["response"])
    assert (summary["reasoning"], summary["text"]) == ("Hmm.", "Four")
    assert out[-1]["response"]["usage"]["output_tokens"] == 2
    assert "stream_options" not in body


def test_stream_error_object_midway_is_typed() -> None:
    """doc_derived: an OpenAI-style {"error": {...}} data line mid-stream (no event name)."""
    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant", "content": "Par"})),
        (None, {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": 429}}),
    ]
    with LoopbackServer(sse_reply(events)) as server:
        out, error = collect(call(server, stream=True))
    assert isinstance(error, RateLimitError)
    assert "Rate limit reached" in str(error)
    assert [e["type"] for e in out[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(out)


def test_stream_content_filter_error_object() -> None:
    events: list[tuple[str | None, Any]] = [
        (None, {"error": {"message": "flagged", "type": "invalid_request_error", "code": "content_filter"}})
    ]
    with LoopbackServer(sse_reply(events)) as server:
        out, error = collect(call(server, stream=True))
    assert isinstance(error, ContentFilterError)
    assert_stream_conforms(out)


def test_connection_cut_midstream_fails_typed() -> None:
    events = doc_derived_text_stream("one two three four five six")
    with LoopbackServer(sse_reply(events, split=9, reset_after=6, pause=0.02)) as server:
        out, error = collect(call(server, stream=True))
    assert isinstance(error, StreamError)
    assert [e["type"] for e in out[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(out)


def test_stream_without_finish_or_done_is_truncated() -> None:
    events = doc_derived_text_stream("one two three")[:-3]  # no finish chunk, no usage, no [DONE]
    with LoopbackServer(sse_reply(events)) as server:
        out, error = collect(call(server, stream=True))
    assert isinstance(error, StreamError)
    assert "cut short" in str(error)
    assert out[-1]["type"] == "response.failed"
    assert_stream_conforms(out)


def test_finish_reason_without_done_still_completes() -> None:
    events = doc_derived_text_stream("one two")[:-1]  # finish + usage, connection closes, no [DONE]
    with LoopbackServer(sse_reply(events)) as server:
        out, error = collect(call(server, stream=True))
    assert error is None
    assert_stream_conforms(out)
    assert out[-1]["type"] == "response.completed"
    assert out[-1]["response"]["usage"]["output_tokens"] == 4


def test_non_json_stream_event_is_stream_error() -> None:
    with LoopbackServer(sse_reply([(None, chunk({"content": "a"})), (None, "{not json")])) as server:
        out, error = collect(call(server, stream=True))
    assert isinstance(error, StreamError)
    assert_stream_conforms(out)


async def test_async_stream_error_midway() -> None:
    events: list[tuple[str | None, Any]] = [
        (None, chunk({"content": "x"})),
        ("error", {"error": {"message": "boom", "type": "server_error", "status_code": 503}}),
    ]
    with LoopbackServer(sse_reply(events)) as server:
        stream = await anyllm.aresponses(
            model="m",
            input_data="hi",
            provider="sambanova",
            api_base=f"{server.url}/v1",
            api_key=KEY,
            stream=True,
        )
        out, error = await acollect(stream)
    assert isinstance(error, ProviderError) and error.status_code == 503
    assert_stream_conforms(out)


# -- non-streaming -----------------------------------------------------------------------------


def test_reply_length_and_content_filter_and_refusal() -> None:
    cases = [
        (chat_reply("Trunc", "length"), "incomplete", {"reason": "max_output_tokens"}),
        (chat_reply("", "content_filter"), "incomplete", {"reason": "content_filter"}),
        (chat_reply(None, "stop", refusal="I can't help with that."), "completed", None),
    ]
    for reply, status, details in cases:
        with LoopbackServer(Reply.json(reply)) as server:
            response = call(server).model_dump(mode="json", exclude_unset=True, by_alias=True)
        assert response_schema_problems(response) == []
        assert response["status"] == status
        assert response["incomplete_details"] == details
    assert output_summary(response)["refusal"] == "I can't help with that."


def test_reply_error_body_with_status_200_is_typed() -> None:
    with (
        LoopbackServer(
            Reply.json({"error": {"message": "bad model", "type": "invalid_request_error"}})
        ) as server,
        pytest.raises(AnyLLMError, match="bad model"),
    ):
        call(server)


def test_reply_without_choices_is_provider_error() -> None:
    reply = Reply.json({"id": "x", "object": "chat.completion", "choices": []})
    with LoopbackServer(reply) as server, pytest.raises(ProviderError, match="no choices"):
        call(server)


async def test_async_reply_and_tool_round_trip() -> None:
    """Turn 1: a forced call; turn 2: function_call + function_call_output as input."""
    reply1 = chat_reply(
        None,
        "tool_calls",
        tool_calls=[
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    )
    replies = iter([Reply.json(reply1), Reply.json(chat_reply("It is sunny."))])
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    }
    with LoopbackServer(lambda _seen: next(replies)) as server:
        kwargs: dict[str, Any] = {"provider": "cerebras", "api_base": f"{server.url}/v1", "api_key": KEY}
        first: Any = await anyllm.aresponses(
            "m",
            "Weather in Paris?",
            tools=[tool],
            tool_choice={"type": "function", "name": "get_weather"},
            parallel_tool_calls=False,
            max_output_tokens=30,
            **kwargs,
        )
        call_item = first.output[0].model_dump(mode="json", exclude_unset=True, by_alias=True)
        assert call_item["type"] == "function_call" and call_item["call_id"] == "call_1"
        second: Any = await anyllm.aresponses(
            "m",
            [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "type": "function_call",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                },
                {
                    "type": "function_call_output",
                    "call_id": "call_1",
                    "output": [
                        {"type": "input_text", "text": "sunny"},
                        {"type": "input_text", "text": "22C"},
                    ],
                },
            ],
            tools=[tool],
            **kwargs,
        )
        body1, body2 = sent(server, 0), sent(server, 1)
    assert body1["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body1["tools"][0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather",
            "parameters": tool["parameters"],
            "strict": True,
        },
    }
    assert body1["parallel_tool_calls"] is False
    assert body1["max_completion_tokens"] == 30  # Cerebras
    assert body2["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny\n22C"},
    ]
    assert second.status == "completed"
    assert (
        output_summary(second.model_dump(mode="json", exclude_unset=True, by_alias=True))["text"]
        == "It is sunny."
    )


def test_previous_response_id_replays_stored_context(tmp_path: Path) -> None:
    replies = iter([Reply.json(chat_reply("Paris.")), Reply.json(chat_reply("About 2 million."))])
    with LoopbackServer(lambda _seen: next(replies)) as server:
        args: dict[str, Any] = {"client_args": {"response_store": str(tmp_path / "store.sqlite")}}
        first = call(server, input_data="Capital of France?", instructions="Be brief.", store=True, **args)
        second = call(server, input_data="Population?", previous_response_id=first.id, store=True, **args)
        body = sent(server)
    assert second.previous_response_id == first.id
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Population?"),
    ]


# -- request translation (pure) ----------------------------------------------------------------


def translate(provider: str, stream: bool = False, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "m")
    body.setdefault("input", "hi")
    return translate_request(body, DIALECTS[provider], stream=stream)


def test_messages_roles_instructions_and_parts() -> None:
    body = translate(
        "openai_compatible",
        instructions="Be brief.",
        input=[
            {"type": "message", "role": "developer", "content": "Dev note"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Look:"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                    {"type": "input_file", "file_data": "JVBERi0=", "filename": "a.pdf"},
                ],
            },
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Seen."}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
        ],
    )
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Dev note"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
                },
            ],
        },
        {"role": "assistant", "content": "Seen."},
    ]


def test_files_per_provider() -> None:
    part = {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}
    message = [{"role": "user", "content": [part]}]
    mistral = translate("mistral", input=message)["messages"][0]["content"][0]
    assert mistral == {"type": "document_url", "document_url": part["file_data"], "document_name": "a.pdf"}
    with pytest.raises(UnsupportedParameterError, match=r"input_file|content\[0\]"):
        translate("together", input=message)


def test_images_unsupported_where_they_cannot_be_expressed() -> None:
    image = {"type": "input_image", "image_url": "https://example.invalid/a.png"}
    with pytest.raises(UnsupportedParameterError, match="no image input"):
        translate("llamacpp", input=[{"role": "user", "content": [image]}])
    with pytest.raises(UnsupportedParameterError, match="file_id"):
        translate(
            "together", input=[{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]
        )


def test_tool_output_with_image_follows_as_user_message() -> None:
    items = [
        {"type": "function_call", "call_id": "c1", "name": "shot", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "shot", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [
                {"type": "input_text", "text": "see image"},
                {"type": "input_image", "image_url": "https://example.invalid/a.png"},
            ],
        },
        {"type": "function_call_output", "call_id": "c2", "output": "plain"},
        {"role": "user", "content": "Describe it"},
    ]
    messages = translate("together", input=items)["messages"]
    assert [m["role"] for m in messages] == ["assistant", "tool", "tool", "user", "user"]
    assert [c["id"] for c in messages[0]["tool_calls"]] == ["c1", "c2"]
    assert messages[1]["content"] == "see image"
    assert messages[3]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png"}}
    ]


def test_tool_choice_variants() -> None:
    tools = [
        {"type": "function", "name": "a", "parameters": {"type": "object", "properties": {}}},
        {"type": "function", "name": "b", "parameters": {"type": "object", "properties": {}}},
    ]
    assert translate("mistral", tools=tools, tool_choice="required")["tool_choice"] == "any"
    assert translate("together", tools=tools, tool_choice="required")["tool_choice"] == "required"
    assert translate("together", tools=tools, tool_choice="none")["tool_choice"] == "none"
    allowed = translate(
        "together",
        tools=tools,
        tool_choice={
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "function", "name": "b"}],
        },
    )
    assert [t["function"]["name"] for t in allowed["tools"]] == ["b"] and allowed["tool_choice"] == "required"
    with pytest.raises(UnsupportedParameterError, match="not among the tools"):
        translate("together", tools=tools, tool_choice={"type": "function", "name": "zzz"})
    with pytest.raises(UnsupportedParameterError, match="tools"):
        translate("perplexity", tools=tools)
    with pytest.raises(UnsupportedParameterError, match=r"tools\[0\]"):
        translate("together", tools=[{"type": "web_search"}])


def test_text_format_per_provider() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    fmt = {"format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}}
    assert translate("together", text=fmt)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "thing", "schema": schema, "strict": True},
    }
    assert translate("llamacpp", text=fmt)["response_format"] == {"type": "json_object", "schema": schema}
    assert translate("mistral", text={"format": {"type": "json_object"}})["response_format"] == {
        "type": "json_object"
    }
    with pytest.raises(UnsupportedParameterError, match="json_object"):
        translate("perplexity", text={"format": {"type": "json_object"}})


def test_sampling_tokens_reasoning_and_kwargs() -> None:
    body = translate(
        "mistral",
        temperature=0.2,
        top_p=0.9,
        presence_penalty=0.1,
        frequency_penalty=0.3,
        max_output_tokens=64,
        seed=7,
        safe_prompt=True,
        metadata={"a": "b"},
        store=True,
        reasoning={"effort": "low"},
        prompt_cache_key="k",
    )
    assert body["random_seed"] == 7 and "seed" not in body and body["safe_prompt"] is True
    assert body["max_tokens"] == 64 and body["temperature"] == 0.2 and body["frequency_penalty"] == 0.3
    assert body["reasoning_effort"] == "low" and body["prompt_cache_key"] == "k"
    assert "metadata" not in body and "store" not in body
    assert translate("together", seed=7)["seed"] == 7
    assert translate("cerebras", max_output_tokens=5)["max_completion_tokens"] == 5
    streamed = translate("openai_compatible", stream=True)
    assert streamed["stream_options"] == {"include_usage": True}
    assert "stream_options" not in translate("perplexity", stream=True)
    with pytest.raises(UnsupportedParameterError, match=r"reasoning\.effort"):
        translate("llamacpp", reasoning={"effort": "low"})
    with pytest.raises(UnsupportedParameterError, match=r"reasoning\.summary"):
        translate("together", reasoning={"summary": "auto"})
    with pytest.raises(UnsupportedParameterError, match="user"):
        translate("mistral", user="u1")


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("background", True),
        ("include", ["reasoning.encrypted_content"]),
        ("conversation", "conv_1"),
        ("truncation", "auto"),
        ("max_tool_calls", 2),
        ("safety_identifier", "s"),
    ],
)
def test_inexpressible_parameters_fail_before_any_request(param: str, value: Any) -> None:
    with LoopbackServer(Reply.json(chat_reply())) as server:
        with pytest.raises(UnsupportedParameterError) as caught:
            call(server, provider="together", **{param: value})
        assert server.requests == []
    assert param in str(caught.value)


def test_dialect_follows_registry_capabilities() -> None:
    assert dialect_for("perplexity").tools is False
    assert dialect_for("together", images=False).images is False
    assert dialect_for("some_new_vendor").name == "some_new_vendor"


def test_stream_validator_catches_the_classic_bridge_bugs() -> None:
    """The validator the bridge tests rely on must fail a real bridge stream on what bridges get wrong."""
    with LoopbackServer(sse_reply(doc_derived_text_stream())) as server:
        good, _ = collect(call(server, stream=True))
    assert stream_rules(good) == set()
    no_part_added = [e for e in good if e["type"] != "response.content_part.added"]
    assert "CONTENT-PART-ADDED-BEFORE-DELTA" in stream_rules(no_part_added)
    terminal = dict(good[-1], response=dict(good[-1]["response"], output=[]))
    assert "TERMINAL-OUTPUT-EMPTY" in stream_rules([*good[:-1], terminal])
    renumbered = [dict(e, sequence_number=len(good) - i) for i, e in enumerate(good)]
    assert "STREAM-SEQUENCE-MONOTONIC" in stream_rules(renumbered)
    two_terminals = [*good, dict(good[-1], sequence_number=good[-1]["sequence_number"] + 1)]
    assert "TERMINAL-EVENT-UNIQUE" in stream_rules(two_terminals)
