"""The Anthropic Messages bridge, end to end through a real loopback HTTP server.

Every call goes through ``anyllm.responses()/aresponses()`` with ``provider="anthropic"``
against a ``ThreadingHTTPServer`` on 127.0.0.1 (tests/helpers/loopback.py), so what is checked is
what crosses the socket: the Messages request the server receives, and the Responses
objects and events the library makes of the server's reply.

Where the server's replies come from:

* the real Anthropic traffic in ``../shared/corpus/interactions.jsonl.gz`` (pydantic-ai
  cassettes), loaded at test time and skipped cleanly when absent: every recorded
  ``/v1/messages`` body and SSE stream is replayed, and every recorded request is rebuilt
  as an equivalent Responses call whose translation must match the recorded shape;
* ``doc_derived_*`` fixtures for what the corpus lacks (error events mid-stream, max_tokens,
  refusal, tool-use and thinking streams), each following the documentation page it names.
"""

from __future__ import annotations

import base64
import collections
import gzip
import json
import os
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pytest

import anyllm
from anyllm.errors import (
    AnyLLMError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    StreamError,
    UnsupportedParameterError,
)
from anyllm.translate import anthropic as tr
from anyllm.translate.stream import ResponseStreamBuilder
from tests.helpers.calls import aresponses_at, responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems
from tests.helpers.events import acollect, collect, dump
from tests.helpers.loopback import LoopbackServer, Reply, Seen

MODEL = "claude-sonnet-4-5"

# ----------------------------------------------------------------------------- the corpus


def _shared() -> Path:
    return Path(os.environ.get("ANYLLM_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


@lru_cache(maxsize=1)
def _corpus() -> tuple[dict[str, Any], ...]:
    path = _shared() / "corpus" / "interactions.jsonl.gz"
    if not path.is_file():
        return ()
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("provider") == "anthropic" and row["url"].split("?")[0].endswith("/v1/messages"):
                rows.append(row)
    return tuple(rows)


def corpus_rows() -> tuple[dict[str, Any], ...]:
    rows = _corpus()
    if not rows:
        pytest.skip("../shared/corpus/interactions.jsonl.gz is absent")
    return rows


# ----------------------------------------------------------------------------- helpers


def sse_bytes(events: list[dict[str, Any]]) -> bytes:
    """Anthropic's framing: ``event: <type>`` then ``data: <json>`` for every event."""
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def sse_reply(
    events: list[dict[str, Any]], *, split: int | None = None, reset_after: int | None = None
) -> Reply:
    """An SSE reply in chunks: one per event, or every ``split`` bytes (awkward boundaries)."""
    if split:
        raw = sse_bytes(events)
        chunks = [raw[i : i + split] for i in range(0, len(raw), split)]
    else:
        chunks = [sse_bytes([e]) for e in events]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=chunks, reset_after=reset_after)


class Script:
    """The loopback server's replies: a queue, then a default."""

    def __init__(self) -> None:
        self.queue: list[Reply | Callable[[Seen], Reply]] = []
        self.default: Reply | Callable[[Seen], Reply] = Reply.json(doc_derived_message())

    def __call__(self, seen: Seen) -> Reply:
        reply = self.queue.pop(0) if self.queue else self.default
        return reply(seen) if callable(reply) else reply


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def server(script: Script) -> Iterator[LoopbackServer]:
    with LoopbackServer(script) as running:  # TCP_NODELAY is set by LoopbackServer itself
        yield running


# anyllm.responses()/aresponses() at a loopback server that speaks the Messages API at its root.
call = partial(responses_at, provider="anthropic", path="", model=MODEL)
acall = partial(aresponses_at, provider="anthropic", path="", model=MODEL)


def assert_valid_response(response: dict[str, Any]) -> None:
    problems = response_schema_problems(response)
    assert not problems, problems


def output_text(response: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "")
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


def items(response: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in response["output"] if item["type"] == kind]


# ----------------------------------------------------------------------------- doc-derived fixtures
# Shapes follow https://docs.anthropic.com/en/api/messages (the Message object) and
# https://docs.anthropic.com/en/docs/build-with-claude/streaming (the event flow); texts and
# ids are made up here.


def doc_derived_message(
    content: list[dict[str, Any]] | None = None, stop_reason: str = "end_turn", **usage: int
) -> dict[str, Any]:
    """A Message object as https://docs.anthropic.com/en/api/messages documents it."""
    return {
        "id": "msg_doc_0001",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content if content is not None else [{"type": "text", "text": "Hi! My name is Claude."}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 7, **usage},
    }


def doc_derived_stream(
    blocks: list[list[dict[str, Any]]], stop_reason: str = "end_turn"
) -> list[dict[str, Any]]:
    """The streaming flow of https://docs.anthropic.com/en/docs/build-with-claude/streaming:
    message_start, then per block start/deltas/stop (with a ping), message_delta, message_stop.
    ``blocks`` is a list of [content_block, delta, delta, ...]."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_doc_0002",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-sonnet-4-5-20250929",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 25, "output_tokens": 1},
            },
        }
    ]
    for index, (block, *deltas) in enumerate(blocks):
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        if index == 0:
            events.append({"type": "ping"})
        events.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 15},
        }
    )
    events.append({"type": "message_stop"})
    return events


def doc_derived_text_block(*pieces: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": ""}, *({"type": "text_delta", "text": p} for p in pieces)]


def doc_derived_tool_block(call_id: str, name: str, *json_pieces: str) -> list[dict[str, Any]]:
    """A tool_use block streamed as input_json_delta fragments (streaming page, tool use example)."""
    return [
        {"type": "tool_use", "id": call_id, "name": name, "input": {}},
        *({"type": "input_json_delta", "partial_json": p} for p in json_pieces),
    ]


def doc_derived_thinking_block(signature: str, *pieces: str) -> list[dict[str, Any]]:
    """thinking_delta fragments then one signature_delta (streaming page, "extended thinking")."""
    return [
        {"type": "thinking", "thinking": "", "signature": ""},
        *({"type": "thinking_delta", "thinking": p} for p in pieces),
        {"type": "signature_delta", "signature": signature},
    ]


def doc_derived_error_event(kind: str, message: str) -> dict[str, Any]:
    """``event: error`` as the streaming page's "Error events" section shows it; the types
    and their HTTP statuses are those of https://docs.anthropic.com/en/api/errors."""
    return {"type": "error", "error": {"type": kind, "message": message}}


# ============================================================================= corpus: replies


@pytest.mark.corpus
def test_every_recorded_body_translates_to_a_valid_response(server: LoopbackServer, script: Script) -> None:
    """Each real Messages body, served as-is, becomes a spec-valid ResponseResource holding
    the same text, tool calls, thinking, status and usage."""
    bodies = [row for row in corpus_rows() if row.get("response_json")]
    counts: collections.Counter[str] = collections.Counter()
    for row in bodies:
        body = row["response_json"]
        script.queue.append(Reply.json(body))
        response = dump(call(server, "hi"))
        assert_valid_response(response)
        blocks = body["content"]
        stop = body["stop_reason"]
        expected_status = "completed" if stop in ("end_turn", "tool_use", "stop_sequence") else "incomplete"
        assert response["status"] == expected_status, row["file"]
        assert response["model"] == body["model"]
        assert output_text(response) == "".join(b["text"] for b in blocks if b["type"] == "text"), row["file"]
        calls = [
            (c["call_id"], c["name"], json.loads(c["arguments"])) for c in items(response, "function_call")
        ]
        assert calls == [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"], row[
            "file"
        ]
        thinking = [b for b in blocks if b["type"] in ("thinking", "redacted_thinking")]
        reasoning = items(response, "reasoning")
        assert len(reasoning) == len(thinking), row["file"]
        for block, item in zip(thinking, reasoning, strict=True):
            if block["type"] == "thinking":
                assert tr.decode_thinking(item["encrypted_content"]) == (
                    block["thinking"],
                    block["signature"],
                )
                shown = [{"type": "reasoning_text", "text": block["thinking"]}] if block["thinking"] else []
                assert item["content"] == shown  # empty thinking (display omitted): no part
            else:
                assert item["encrypted_content"] == tr.REDACTED_PREFIX + block["data"]
        usage = body["usage"]
        cached = usage.get("cache_read_input_tokens") or 0
        all_input = usage["input_tokens"] + cached + (usage.get("cache_creation_input_tokens") or 0)
        assert response["usage"]["input_tokens"] == all_input
        assert response["usage"]["output_tokens"] == usage["output_tokens"]
        assert response["usage"]["input_tokens_details"]["cached_tokens"] == cached
        counts.update(b["type"] for b in blocks)
        counts[f"stop:{stop}"] += 1
    print(f"\nanthropic corpus: {len(bodies)} bodies translated and validated; blocks/stops: {dict(counts)}")
    assert len(bodies) >= 100
    assert counts["tool_use"] and counts["thinking"] and counts["redacted_thinking"]


def _recorded_stream_expectations(events: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[int, str] = {}
    text, thinking, signature, arguments = [], [], [], collections.defaultdict(list)
    output_tokens = None
    for event in events:
        data = event["data"]
        if data["type"] == "content_block_start":
            kinds[data["index"]] = data["content_block"]["type"]
        elif data["type"] == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                text.append(delta["text"])
            elif delta["type"] == "thinking_delta":
                thinking.append(delta["thinking"])
            elif delta["type"] == "signature_delta":
                signature.append(delta["signature"])
            elif delta["type"] == "input_json_delta" and kinds[data["index"]] == "tool_use":
                arguments[data["index"]].append(delta["partial_json"])
        elif data["type"] == "message_delta":
            output_tokens = data["usage"]["output_tokens"]
    return {
        "text": "".join(text),
        "thinking": "".join(thinking),
        "signature": "".join(signature),
        "redacted": sum(1 for kind in kinds.values() if kind == "redacted_thinking"),
        "tool_calls": len(arguments),
        "output_tokens": output_tokens,
    }


def _check_recorded_stream(events: list[dict[str, Any]], row: dict[str, Any]) -> None:
    assert_stream_conforms(events)
    expected = _recorded_stream_expectations(row["sse_events"])
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.completed"
    assert output_text(final) == expected["text"]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == expected["text"]
    reasoning = items(final, "reasoning")
    assert len(reasoning) == (1 if expected["thinking"] else 0) + expected["redacted"]
    if expected["thinking"]:
        assert tr.decode_thinking(reasoning[0]["encrypted_content"]) == (
            expected["thinking"],
            expected["signature"],
        )
    assert len(items(final, "function_call")) == expected["tool_calls"]
    assert final["usage"]["output_tokens"] == expected["output_tokens"]


@pytest.mark.corpus
def test_every_recorded_stream_becomes_a_conforming_responses_stream(
    server: LoopbackServer, script: Script
) -> None:
    """The real SSE streams, re-sent in awkward 7-byte chunks and per event: each becomes
    a Responses stream that passes the schema and order checks with the same content."""
    streams = [row for row in corpus_rows() if row.get("sse_events")]
    checked = 0
    for row in streams:
        recorded = [event["data"] for event in row["sse_events"]]
        for split in (7, None):
            script.queue.append(sse_reply(recorded, split=split))
            events, error = collect(call(server, "hi", stream=True))
            assert error is None, (row["file"], error)
            _check_recorded_stream(events, row)
            checked += 1
    print(
        f"\nanthropic corpus: {len(streams)} streams x 2 chunkings replayed and conforming ({checked} runs)"
    )
    assert len(streams) >= 5


@pytest.mark.corpus
async def test_recorded_streams_async(server: LoopbackServer, script: Script) -> None:
    streams = [row for row in corpus_rows() if row.get("sse_events")]
    for row in streams:
        script.queue.append(sse_reply([event["data"] for event in row["sse_events"]], split=13))
        events, error = await acollect(await acall(server, "hi", stream=True))
        assert error is None, (row["file"], error)
        _check_recorded_stream(events, row)


# ============================================================================= corpus: request shapes

_TOP_KEYS = {
    "model", "messages", "max_tokens", "stream", "system", "tools", "tool_choice", "thinking",
    "output_config", "metadata", "stop_sequences", "cache_control",
}  # fmt: skip
_PASSTHROUGH = ("stop_sequences", "cache_control")  # Anthropic-only keys a caller passes as kwargs
_BLOCK_KEYS = {
    "text": ("text",),
    "image": ("source",),
    "document": ("source", "title"),
    "tool_use": ("id", "name", "input"),
    "tool_result": ("tool_use_id", "content"),
    "thinking": ("thinking", "signature"),
    "redacted_thinking": ("data",),
}


class NotExpressible(Exception):
    """The recorded request uses an Anthropic feature with no Responses counterpart."""


def _check_keys(block: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = set(block) - set(allowed) - {"type", "cache_control"}
    if block.get("type") == "tool_result" and block.get("is_error") is False:
        extra.discard("is_error")
    if extra:
        raise NotExpressible(f"{block.get('type', 'tool')} with {sorted(extra)}")


def _image_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block["source"]
    if source["type"] == "base64":
        return {"type": "input_image", "image_url": f"data:{source['media_type']};base64,{source['data']}"}
    if source["type"] == "url":
        return {"type": "input_image", "image_url": source["url"]}
    raise NotExpressible(f"image source {source['type']}")


def _file_part(block: dict[str, Any]) -> dict[str, Any]:
    source = block["source"]
    part: dict[str, Any] = {"type": "input_file"}
    if source["type"] == "base64" and source["media_type"] == "application/pdf":
        part["file_data"] = f"data:application/pdf;base64,{source['data']}"
    elif source["type"] == "text":
        encoded = base64.b64encode(source["data"].encode()).decode()
        part["file_data"] = f"data:text/plain;base64,{encoded}"
    elif source["type"] == "url":
        part["file_url"] = source["url"]
    else:
        raise NotExpressible(f"document source {source['type']}")
    if block.get("title"):
        part["filename"] = block["title"]
    return part


def _result_output(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if block["type"] == "text":
            parts.append({"type": "input_text", "text": block["text"]})
        elif block["type"] == "image":
            parts.append(_image_part(block))
        elif block["type"] == "document":
            parts.append(_file_part(block))
        else:
            raise NotExpressible(f"tool_result content {block['type']}")
    return parts


def responses_equivalent(recorded: dict[str, Any]) -> dict[str, Any]:
    """The ``responses()`` arguments that should produce ``recorded`` (a real Messages request)."""
    extra = set(recorded) - _TOP_KEYS
    if extra:
        raise NotExpressible(f"top-level {sorted(extra)}")
    kwargs: dict[str, Any] = {"max_output_tokens": recorded["max_tokens"]}
    if recorded.get("stream"):
        kwargs["stream"] = True
    system = recorded.get("system")
    if system:
        if isinstance(system, list):
            for block in system:
                if block["type"] != "text":
                    raise NotExpressible("system block")
                _check_keys(block, ("text",))
            system = "\n\n".join(block["text"] for block in system)
        kwargs["instructions"] = system
    input_items: list[dict[str, Any]] = []
    for message in recorded["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        role = message["role"]
        if role not in ("user", "assistant"):
            raise NotExpressible(f"role {role}")
        pending: list[dict[str, Any]] = []

        def flush(role: str = role, pending: list[dict[str, Any]] = pending) -> None:
            if pending:
                input_items.append({"type": "message", "role": role, "content": list(pending)})
                pending.clear()

        for block in blocks:
            kind = block["type"]
            if kind not in _BLOCK_KEYS:
                raise NotExpressible(f"block {kind}")
            _check_keys(block, _BLOCK_KEYS[kind])
            if kind == "text":
                pending.append(
                    {"type": "input_text" if role == "user" else "output_text", "text": block["text"]}
                )
            elif role == "user" and kind == "image":
                pending.append(_image_part(block))
            elif role == "user" and kind == "document":
                pending.append(_file_part(block))
            elif role == "user" and kind == "tool_result":
                flush()
                output = _result_output(block.get("content", ""))
                input_items.append(
                    {"type": "function_call_output", "call_id": block["tool_use_id"], "output": output}
                )
            elif role == "assistant" and kind == "tool_use":
                flush()
                input_items.append(
                    {
                        "type": "function_call",
                        "call_id": block["id"],
                        "name": block["name"],
                        "arguments": json.dumps(block["input"]),
                    }
                )
            elif role == "assistant" and kind == "thinking":
                flush()
                # The bare-signature form other tools produce: text in content, signature alone.
                input_items.append(
                    {
                        "type": "reasoning",
                        "summary": [],
                        "content": [{"type": "reasoning_text", "text": block["thinking"]}],
                        "encrypted_content": block["signature"],
                    }
                )
            elif role == "assistant" and kind == "redacted_thinking":
                flush()
                encrypted = tr.REDACTED_PREFIX + block["data"]
                input_items.append({"type": "reasoning", "summary": [], "encrypted_content": encrypted})
            else:
                raise NotExpressible(f"{kind} in a {role} message")
        flush()
    tools = []
    for tool in recorded.get("tools") or []:
        if tool.get("type") not in (None, "custom"):
            raise NotExpressible(f"tool type {tool.get('type')}")
        _check_keys(tool, ("name", "description", "input_schema", "strict"))
        entry = {"type": "function", "name": tool["name"], "parameters": tool["input_schema"]}
        if "description" in tool:
            entry["description"] = tool["description"]
        if tool.get("strict"):
            entry["strict"] = True
        tools.append(entry)
    if tools:
        kwargs["tools"] = tools
    choice = recorded.get("tool_choice")
    if choice and tools:
        _check_keys(choice, ("name", "disable_parallel_tool_use"))
        mapping = {"auto": "auto", "any": "required", "none": "none"}
        kwargs["tool_choice"] = (
            {"type": "function", "name": choice["name"]}
            if choice["type"] == "tool"
            else mapping[choice["type"]]
        )
        if choice.get("disable_parallel_tool_use"):
            kwargs["parallel_tool_calls"] = False
    thinking = recorded.get("thinking")
    if thinking:
        if thinking.get("type") != "enabled":
            raise NotExpressible(f"thinking {thinking.get('type')}")
        budget = thinking["budget_tokens"]
        kwargs["reasoning"] = {
            "effort": min(tr.EFFORT_BUDGETS, key=lambda effort: abs(tr.EFFORT_BUDGETS[effort] - budget))
        }
    config = recorded.get("output_config")
    if config:
        if set(config) != {"format"} or config["format"].get("type") != "json_schema":
            raise NotExpressible("output_config")
        kwargs["text"] = {
            "format": {"type": "json_schema", "name": "output", "schema": config["format"]["schema"]}
        }
    metadata = recorded.get("metadata")
    if metadata:
        kwargs["user"] = metadata["user_id"]
    for key in _PASSTHROUGH:
        if recorded.get(key):
            kwargs[key] = recorded[key]
    return {"input_data": input_items, **kwargs}


def _normalize(body: dict[str, Any]) -> dict[str, Any]:
    """A Messages request reduced to what a translation decides: merged turns, known keys."""
    messages: list[dict[str, Any]] = []
    for message in body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        kept = []
        for block in blocks:
            if block["type"] == "text" and not block["text"]:
                continue
            entry = {"type": block["type"], **{k: block[k] for k in _BLOCK_KEYS[block["type"]] if k in block}}
            if entry["type"] == "tool_result":
                entry.setdefault("content", "")
                if isinstance(entry["content"], list):
                    entry["content"] = [
                        {k: v for k, v in b.items() if k != "cache_control"} for b in entry["content"]
                    ]
            kept.append(entry)
        if messages and messages[-1]["role"] == message["role"]:
            messages[-1]["content"].extend(kept)
        elif kept:
            messages.append({"role": message["role"], "content": kept})
    system = body.get("system")
    if isinstance(system, list):
        system = "\n\n".join(block["text"] for block in system)
    tools = [
        {
            k: v
            for k, v in tool.items()
            if k in ("name", "input_schema") or (k in ("description", "strict") and v)
        }
        for tool in body.get("tools") or []
    ]
    choice = body.get("tool_choice") or ({"type": "auto"} if tools else None)
    thinking = body.get("thinking")
    normalized = {
        "model": body["model"],
        "max_tokens": body["max_tokens"],
        "stream": bool(body.get("stream")),
        "system": system or None,
        "messages": messages,
        "tools": tools or None,
        "tool_choice": choice if tools else None,
        "thinking": thinking and thinking["type"],
        "output_config": body.get("output_config"),
        "metadata": body.get("metadata"),
        "stop_sequences": body.get("stop_sequences"),
        "cache_control": body.get("cache_control"),
    }
    return normalized


def _reply_for(seen: Seen) -> Reply:
    if seen.json().get("stream"):
        return sse_reply(doc_derived_stream([doc_derived_text_block("ok")]))
    return Reply.json(doc_derived_message())


@pytest.mark.corpus
def test_recorded_requests_are_reproduced_by_the_translation(server: LoopbackServer, script: Script) -> None:
    """Each real request pydantic-ai sent, rebuilt as a Responses call: the body the bridge
    sends must have the recorded shape (system, turns and blocks, tools, tool_choice,
    thinking, output_config, metadata, max_tokens)."""
    script.default = _reply_for
    reproduced = 0
    skipped: collections.Counter[str] = collections.Counter()
    features: collections.Counter[str] = collections.Counter()
    for row in corpus_rows():
        recorded = row["request_body"]
        try:
            arguments = responses_equivalent(recorded)
        except NotExpressible as why:
            skipped[str(why).split(" with ")[0]] += 1
            continue
        input_data = arguments.pop("input_data")
        result = anyllm.responses(
            recorded["model"], input_data, provider="anthropic", api_base=server.url, api_key="k", **arguments
        )
        if arguments.get("stream"):
            _, error = collect(result)
            assert error is None
        sent = server.last().json()
        assert _normalize(sent) == _normalize(recorded), row["file"]
        if recorded.get("thinking"):
            budget = recorded["thinking"]["budget_tokens"]
            if budget in tr.EFFORT_BUDGETS.values() and budget <= recorded["max_tokens"] // 2:
                assert sent["thinking"] == recorded["thinking"]
            assert sent["thinking"]["budget_tokens"] < sent["max_tokens"]
        reproduced += 1
        features.update(key for key in _TOP_KEYS - {"model", "messages", "max_tokens"} if recorded.get(key))
        features.update(
            block["type"]
            for message in recorded["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
        )
    print(f"\nanthropic corpus: {reproduced} recorded requests reproduced; features {dict(features)}; "
          f"not expressible: {dict(skipped)}")  # fmt: skip
    assert reproduced >= 75  # the rest use Anthropic-only features (hosted tools, containers, ...)
    for feature in ("system", "tools", "tool_choice", "thinking", "output_config", "image", "document",
                    "tool_use", "tool_result", "stream"):  # fmt: skip
        assert features[feature], f"no recorded request with {feature} was reproduced"


# ============================================================================= doc-derived: replies


def test_text_reply_headers_and_path(server: LoopbackServer) -> None:
    response = call(server, "Hello, Claude", max_output_tokens=300, temperature=0.5, top_p=0.9)
    seen = server.last()
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == "test-key"
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in seen.headers
    body = seen.json()
    assert body == {
        "model": MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello, Claude"}]}],
        "max_tokens": 300,
        "temperature": 0.5,
        "top_p": 0.9,
    }
    data = dump(response)
    assert_valid_response(data)
    assert data["status"] == "completed"
    assert output_text(data) == "Hi! My name is Claude."
    assert data["usage"]["total_tokens"] == 19
    assert data["temperature"] == 0.5


def test_api_base_with_v1_suffix(server: LoopbackServer) -> None:
    anyllm.responses(MODEL, "hi", provider="anthropic", api_base=server.url + "/v1", api_key="k")
    assert server.last().path == "/v1/messages"


async def test_async_text_reply(server: LoopbackServer) -> None:
    data = dump(await acall(server, "Hello"))
    assert_valid_response(data)
    assert output_text(data) == "Hi! My name is Claude."


@pytest.mark.parametrize("split", [None, 5])
def test_doc_derived_text_stream(server: LoopbackServer, script: Script, split: int | None) -> None:
    script.queue.append(
        sse_reply(doc_derived_stream([doc_derived_text_block("Hello", "!", " How can I help?")]), split=split)
    )
    events, error = collect(call(server, "hi", stream=True))
    assert error is None
    assert_stream_conforms(events)
    assert server.last().json()["stream"] is True
    final = events[-1]["response"]
    assert output_text(final) == "Hello! How can I help?"
    assert final["usage"]["input_tokens"] == 25 and final["usage"]["output_tokens"] == 15
    assert final["model"] == "claude-sonnet-4-5-20250929"


async def test_doc_derived_text_stream_async(server: LoopbackServer, script: Script) -> None:
    script.queue.append(sse_reply(doc_derived_stream([doc_derived_text_block("Hel", "lo")]), split=3))
    events, error = await acollect(await acall(server, "hi", stream=True))
    assert error is None
    assert_stream_conforms(events)
    assert output_text(events[-1]["response"]) == "Hello"


def test_doc_derived_tool_use_stream(server: LoopbackServer, script: Script) -> None:
    stream = doc_derived_stream(
        [
            doc_derived_text_block("Let me check."),
            doc_derived_tool_block("toolu_doc_1", "get_weather", "", '{"location": ', '"San Francisco, CA"}'),
            doc_derived_tool_block("toolu_doc_2", "get_time"),
        ],
        stop_reason="tool_use",
    )
    script.queue.append(sse_reply(stream, split=11))
    events, error = collect(call(server, "Weather?", stream=True, tools=[_weather_tool(), _time_tool()]))
    assert error is None
    assert_stream_conforms(events)
    final = events[-1]["response"]
    assert final["status"] == "completed"
    calls = items(final, "function_call")
    assert [(c["call_id"], c["name"]) for c in calls] == [
        ("toolu_doc_1", "get_weather"),
        ("toolu_doc_2", "get_time"),
    ]
    assert json.loads(calls[0]["arguments"]) == {"location": "San Francisco, CA"}
    assert calls[1]["arguments"] == "{}"


def test_doc_derived_thinking_stream_then_round_trip(server: LoopbackServer, script: Script) -> None:
    """Thinking streamed (thinking_delta + signature_delta), then sent back: the request
    carries the same thinking block and signature, as Anthropic requires."""
    stream = doc_derived_stream(
        [
            doc_derived_thinking_block("c2lnLWRvYw==", "Let me work ", "this out."),
            doc_derived_tool_block("toolu_doc_3", "get_weather", '{"location": "Paris"}'),
        ],
        stop_reason="tool_use",
    )
    script.queue.append(sse_reply(stream))
    events, error = collect(
        call(server, "Weather in Paris?", stream=True, tools=[_weather_tool()], reasoning={"effort": "low"})
    )
    assert error is None
    assert_stream_conforms(events)
    first = server.last().json()
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert first["max_tokens"] == tr.DEFAULT_MAX_TOKENS + 1024
    final = events[-1]["response"]
    reasoning, function_call = final["output"]
    assert reasoning["type"] == "reasoning" and function_call["type"] == "function_call"
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Let me work this out."}]
    assert tr.decode_thinking(reasoning["encrypted_content"]) == ("Let me work this out.", "c2lnLWRvYw==")

    follow_up = [
        {"type": "message", "role": "user", "content": "Weather in Paris?"},
        *final["output"],
        {"type": "function_call_output", "call_id": "toolu_doc_3", "output": "18 C, clear"},
    ]
    call(server, follow_up, tools=[_weather_tool()], reasoning={"effort": "low"})
    messages = server.last().json()["messages"]
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Let me work this out.", "signature": "c2lnLWRvYw=="},
                {
                    "type": "tool_use",
                    "id": "toolu_doc_3",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_doc_3", "content": "18 C, clear"}],
        },
    ]


def test_doc_derived_consecutive_thinking_blocks_stay_separate(
    server: LoopbackServer, script: Script
) -> None:
    """Each thinking block keeps its own signature, so each is its own reasoning item."""
    redacted = {"type": "redacted_thinking", "data": "b3BhcXVl"}
    stream = doc_derived_stream(
        [
            doc_derived_thinking_block("c2lnLUE=", "first"),
            [redacted],
            doc_derived_thinking_block("c2lnLUI=", "sec", "ond"),
            doc_derived_text_block("answer"),
        ]
    )
    script.queue.append(sse_reply(stream, split=9))
    events, error = collect(call(server, "hi", stream=True, reasoning={"effort": "medium"}))
    assert error is None
    assert_stream_conforms(events)
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["reasoning", "reasoning", "reasoning", "message"]
    assert tr.decode_thinking(output[0]["encrypted_content"]) == ("first", "c2lnLUE=")
    assert output[1]["encrypted_content"] == tr.REDACTED_PREFIX + "b3BhcXVl" and output[1]["content"] == []
    assert tr.decode_thinking(output[2]["encrypted_content"]) == ("second", "c2lnLUI=")
    assert output_text(events[-1]["response"]) == "answer"


def test_tool_round_trip_through_the_local_store(
    server: LoopbackServer, script: Script, tmp_path: Path
) -> None:
    """store=True then previous_response_id: the store replays reasoning without its
    ``content`` (the input schema forbids it), and the thinking block still arrives whole."""
    script.queue.append(
        Reply.json(
            doc_derived_message(
                [
                    {"type": "thinking", "thinking": "Use the tool.", "signature": "c2ln"},
                    {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
                    {
                        "type": "tool_use",
                        "id": "toolu_doc_4",
                        "name": "get_weather",
                        "input": {"location": "Oslo"},
                    },
                ],
                stop_reason="tool_use",
            )
        )
    )
    store = {"response_store": str(tmp_path / "responses.sqlite")}
    first = call(server, "Weather in Oslo?", tools=[_weather_tool()], store=True, client_args=store)
    assert [item.type for item in first.output] == ["reasoning", "reasoning", "function_call"]
    output = [{"type": "function_call_output", "call_id": "toolu_doc_4", "output": "-3 C"}]
    second = call(server, output, tools=[_weather_tool()], previous_response_id=first.id, client_args=store)
    assert_valid_response(dump(second))
    assert server.last().json()["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "c2ln"},
                {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
                {
                    "type": "tool_use",
                    "id": "toolu_doc_4",
                    "name": "get_weather",
                    "input": {"location": "Oslo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_doc_4", "content": "-3 C"}],
        },
    ]


# -- endings -------------------------------------------------------------------------------


def test_max_tokens_is_incomplete(server: LoopbackServer, script: Script) -> None:
    script.queue.append(
        Reply.json(doc_derived_message([{"type": "text", "text": "Once upon a"}], "max_tokens"))
    )
    data = dump(call(server, "Tell a story", max_output_tokens=3))
    assert_valid_response(data)
    assert data["status"] == "incomplete"
    assert data["incomplete_details"] == {"reason": "max_output_tokens"}
    assert data["output"][-1]["status"] == "incomplete"
    assert server.last().json()["max_tokens"] == 3


def test_max_tokens_stream_is_incomplete(server: LoopbackServer, script: Script) -> None:
    stream = doc_derived_stream([doc_derived_text_block("Once", " upon")], stop_reason="max_tokens")
    script.queue.append(sse_reply(stream))
    events, error = collect(call(server, "Tell a story", stream=True, max_output_tokens=3))
    assert error is None
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_refusal_is_incomplete_content_filter(server: LoopbackServer, script: Script) -> None:
    """stop_reason "refusal" (https://docs.anthropic.com/en/docs/test-and-evaluate/strengthen-guardrails/handle-streaming-refusals)."""
    stream = doc_derived_stream([doc_derived_text_block("I can")], stop_reason="refusal")
    script.queue.append(sse_reply(stream))
    events, error = collect(call(server, "...", stream=True))
    assert error is None
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "error_class"),
    [
        ("overloaded_error", 529, ProviderError),
        ("rate_limit_error", 429, RateLimitError),
        ("api_error", 500, ProviderError),
    ],
)
def test_error_event_mid_stream(
    server: LoopbackServer, script: Script, kind: str, status: int, error_class: type[AnyLLMError]
) -> None:
    stream = doc_derived_stream([doc_derived_text_block("Partial", " answer")])
    cut = next(i for i, e in enumerate(stream) if e["type"] == "content_block_stop")
    script.queue.append(sse_reply([*stream[:cut], doc_derived_error_event(kind, "Overloaded")]))
    events, error = collect(call(server, "hi", stream=True))
    assert isinstance(error, error_class)
    assert error.status_code == status and error.provider == "anthropic" and error.code == kind
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(events)
    assert events[-1]["response"]["error"]["message"] == "Overloaded"


async def test_error_event_mid_stream_async(server: LoopbackServer, script: Script) -> None:
    stream = doc_derived_stream([doc_derived_text_block("Partial")])
    script.queue.append(sse_reply([*stream[:3], doc_derived_error_event("overloaded_error", "Overloaded")]))
    events, error = await acollect(await acall(server, "hi", stream=True))
    assert isinstance(error, ProviderError) and error.status_code == 529
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.failed"


def test_connection_cut_mid_stream(server: LoopbackServer, script: Script) -> None:
    stream = doc_derived_stream([doc_derived_text_block("a", "b", "c", "d")])
    script.queue.append(sse_reply(stream, reset_after=4))
    events, error = collect(call(server, "hi", stream=True, client_args={"timeout": 10}))
    assert isinstance(error, StreamError)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(events)


def test_stream_ending_without_message_stop(server: LoopbackServer, script: Script) -> None:
    stream = doc_derived_stream([doc_derived_text_block("a")])
    script.queue.append(sse_reply(stream[:-2]))
    events, error = collect(call(server, "hi", stream=True))
    assert isinstance(error, StreamError)
    assert events[-1]["type"] == "response.failed"
    assert_stream_conforms(events)


@pytest.mark.parametrize(
    ("status", "kind", "error_class"),
    [
        (400, "invalid_request_error", InvalidRequestError),
        (429, "rate_limit_error", RateLimitError),
        (529, "overloaded_error", ProviderError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_http_error_bodies(
    server: LoopbackServer,
    script: Script,
    status: int,
    kind: str,
    error_class: type[AnyLLMError],
    stream: bool,
) -> None:
    """Error bodies as https://docs.anthropic.com/en/api/errors shows them."""
    script.queue.append(Reply.json(doc_derived_error_event(kind, f"{kind} here"), status=status))
    with pytest.raises(error_class) as caught:
        result = call(server, "hi", stream=stream)
        list(result) if stream else None
    assert caught.value.status_code == status
    assert caught.value.message == f"{kind} here"


def test_allowed_tools_sends_every_tool_and_rejects_other_calls(
    server: LoopbackServer, script: Script
) -> None:
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]}
    script.queue.append(
        Reply.json(
            doc_derived_message(
                [{"type": "tool_use", "id": "toolu_x", "name": "get_weather", "input": {}}],
                stop_reason="tool_use",
            )
        )
    )
    with pytest.raises(ProviderError) as caught:
        call(server, "hi", tools=[_weather_tool(), _time_tool()], tool_choice=choice)
    assert caught.value.code == "tool_not_allowed"
    sent = server.last().json()
    assert [t["name"] for t in sent["tools"]] == ["get_weather", "get_time"]
    assert sent["tool_choice"] == {"type": "auto"}

    stream = doc_derived_stream(
        [doc_derived_tool_block("toolu_y", "get_weather", "{}")], stop_reason="tool_use"
    )
    script.queue.append(sse_reply(stream))
    events, error = collect(
        call(server, "hi", stream=True, tools=[_weather_tool(), _time_tool()], tool_choice=choice)
    )
    assert isinstance(error, ProviderError) and error.code == "tool_not_allowed"
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.failed"

    script.queue.append(
        Reply.json(
            doc_derived_message(
                [{"type": "tool_use", "id": "t", "name": "get_time", "input": {}}], "tool_use"
            )
        )
    )
    allowed = dump(call(server, "hi", tools=[_weather_tool(), _time_tool()], tool_choice=choice))
    assert items(allowed, "function_call")[0]["name"] == "get_time"


# ============================================================================= request translation


def _weather_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }


def _time_tool() -> dict[str, Any]:
    return {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}


def translate(**body: Any) -> dict[str, Any]:
    return tr.translate_request({"model": MODEL, "input": "hi", **body}, stream=False)


def test_system_developer_and_instructions_go_to_system_and_turns_merge() -> None:
    sent = translate(
        instructions="Be brief.",
        input=[
            {"role": "system", "content": "You are a pirate."},
            {"type": "message", "role": "user", "content": "one"},
            {"role": "user", "content": [{"type": "input_text", "text": "two"}]},
            {"role": "developer", "content": [{"type": "input_text", "text": "Answer in French."}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "un"}]},
            {"role": "assistant", "content": "deux"},
            {"role": "user", "content": "three"},
        ],
    )
    assert sent["system"] == "Be brief.\n\nYou are a pirate.\n\nAnswer in French."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "un"}, {"type": "text", "text": "deux"}]},
        {"role": "user", "content": [{"type": "text", "text": "three"}]},
    ]
    assert sent["max_tokens"] == tr.DEFAULT_MAX_TOKENS == 4096


def test_tools_and_tool_choice() -> None:
    tools = [_weather_tool(), {**_time_tool(), "strict": True}]
    sent = translate(tools=tools)
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather",
            "input_schema": _weather_tool()["parameters"],
        },
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}, "strict": True},
    ]
    assert sent["tool_choice"] == {"type": "auto"}
    assert translate(tools=tools, tool_choice="required")["tool_choice"] == {"type": "any"}
    assert translate(tools=tools, tool_choice="none")["tool_choice"] == {"type": "none"}
    named = translate(
        tools=tools, tool_choice={"type": "function", "name": "get_time"}, parallel_tool_calls=False
    )
    assert named["tool_choice"] == {"type": "tool", "name": "get_time", "disable_parallel_tool_use": True}
    assert translate(tools=tools, parallel_tool_calls=False)["tool_choice"] == {
        "type": "auto",
        "disable_parallel_tool_use": True,
    }
    assert "tool_choice" not in translate(tool_choice="auto")
    one = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_time"}]}
    assert translate(tools=tools, tool_choice=one)["tool_choice"] == {"type": "tool", "name": "get_time"}
    several = {
        **one,
        "tools": [{"type": "function", "name": "get_time"}, {"type": "function", "name": "get_weather"}],
    }
    assert translate(tools=tools, tool_choice=several)["tool_choice"] == {"type": "any"}
    assert len(translate(tools=tools, tool_choice=several)["tools"]) == 2
    with pytest.raises(InvalidRequestError, match="get_nothing"):
        translate(tools=tools, tool_choice={"type": "function", "name": "get_nothing"})
    with pytest.raises(UnsupportedParameterError, match=r"tools\[0\]"):
        translate(tools=[{"type": "web_search"}])


def test_function_call_items_and_outputs() -> None:
    sent = translate(
        input=[
            {"role": "user", "content": "weather?"},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "get_weather",
                "arguments": '{"location": "Rome"}',
            },
            {"type": "function_call", "call_id": "c2", "name": "get_time", "arguments": ""},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "noon"}],
            },
            {"role": "user", "content": "thanks"},
        ]
    )
    assert sent["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"location": "Rome"}},
                {"type": "tool_use", "id": "c2", "name": "get_time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "c2", "content": [{"type": "text", "text": "noon"}]},
                {"type": "text", "text": "thanks"},
            ],
        },
    ]
    with pytest.raises(InvalidRequestError, match=r"input\[0\]\.arguments"):
        translate(input=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{not json"}])


def test_images_and_files() -> None:
    pdf = base64.b64encode(b"%PDF-1.4 test").decode()
    text = base64.b64encode(b"plain text").decode()
    sent = translate(
        input=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,iVBORw0KGgo=",
                        "detail": "auto",
                    },
                    {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
                    {
                        "type": "input_file",
                        "filename": "a.pdf",
                        "file_data": f"data:application/pdf;base64,{pdf}",
                    },
                    {"type": "input_file", "filename": "b.pdf", "file_data": pdf},
                    {"type": "input_file", "filename": "notes.txt", "file_data": text},
                    {"type": "input_file", "file_url": "https://example.com/doc.pdf"},
                ],
            }
        ]
    )
    assert sent["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}, "title": "a.pdf"},  # noqa: E501
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}, "title": "b.pdf"},  # noqa: E501
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain text"}, "title": "notes.txt"},  # noqa: E501
        {"type": "document", "source": {"type": "url", "url": "https://example.com/doc.pdf"}},
    ]  # fmt: skip
    with pytest.raises(UnsupportedParameterError, match=r"\.docx"):
        translate(
            input=[
                {"role": "user", "content": [{"type": "input_file", "filename": "a.docx", "file_data": pdf}]}
            ]
        )
    with pytest.raises(UnsupportedParameterError, match="file_id"):
        translate(input=[{"role": "user", "content": [{"type": "input_file", "file_id": "file-123"}]}])
    with pytest.raises(UnsupportedParameterError, match="image/png"):
        translate(
            input=[
                {
                    "role": "user",
                    "content": [{"type": "input_file", "file_data": "data:image/png;base64,AA=="}],
                }
            ]
        )


@pytest.mark.parametrize(
    ("effort", "max_output", "thinking", "max_tokens"),
    [
        ("low", None, {"type": "enabled", "budget_tokens": 1024}, 4096 + 1024),
        ("medium", None, {"type": "enabled", "budget_tokens": 4096}, 4096 + 4096),
        ("high", None, {"type": "enabled", "budget_tokens": 12288}, 4096 + 12288),
        ("xhigh", None, {"type": "enabled", "budget_tokens": 24576}, 4096 + 24576),
        ("high", 10000, {"type": "enabled", "budget_tokens": 5000}, 10000),
        ("medium", 1500, {"type": "enabled", "budget_tokens": 1024}, 1500),
        ("none", None, {"type": "disabled"}, 4096),
    ],
)
def test_reasoning_effort_mapping(
    effort: str, max_output: int | None, thinking: dict[str, Any], max_tokens: int
) -> None:
    body: dict[str, Any] = {"reasoning": {"effort": effort, "summary": "auto"}}
    if max_output is not None:
        body["max_output_tokens"] = max_output
    sent = translate(**body)
    assert sent["thinking"] == thinking
    assert sent["max_tokens"] == max_tokens
    if thinking["type"] == "enabled":
        assert thinking["budget_tokens"] < sent["max_tokens"]


def test_reasoning_needs_room_and_a_signature() -> None:
    with pytest.raises(UnsupportedParameterError, match=r"reasoning\.effort"):
        translate(reasoning={"effort": "low"}, max_output_tokens=1000)
    with pytest.raises(InvalidRequestError, match="minimal"):
        translate(reasoning={"effort": "minimal"})  # not in the spec's enum
    with pytest.raises(UnsupportedParameterError, match="signature"):
        translate(input=[{"type": "reasoning", "summary": [{"type": "summary_text", "text": "x"}]}])
    with pytest.raises(InvalidRequestError, match="encrypted_content"):
        translate(
            input=[{"type": "reasoning", "summary": [], "encrypted_content": tr.THINKING_PREFIX + "!!"}]
        )


def test_structured_output_sampling_user_and_passthrough() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    sent = translate(
        text={"format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}},
        temperature=0.2,
        top_p=0.5,
        presence_penalty=0,
        user="user-42",
        metadata={"trace": "t1"},
        store=True,
        include=["reasoning.encrypted_content"],
        stream_options={"include_obfuscation": False},
        top_k=5,
        stop_sequences=["END"],
    )
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert sent["metadata"] == {"user_id": "user-42"}
    assert (sent["temperature"], sent["top_p"], sent["top_k"], sent["stop_sequences"]) == (
        0.2,
        0.5,
        5,
        ["END"],
    )
    for absent in ("store", "include", "stream_options", "presence_penalty", "text", "user"):
        assert absent not in sent
    assert tr.translate_request({"model": MODEL, "input": "hi"}, stream=True)["stream"] is True


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1.0}, "frequency_penalty"),
        ({"temperature": 1.5}, "temperature"),
        ({"text": {"format": {"type": "json_object"}}}, "text.format"),
        ({"background": True}, "background"),
        ({"truncation": "auto"}, "truncation"),
        ({"max_tool_calls": 2}, "max_tool_calls"),
        ({"prompt_cache_key": "k"}, "prompt_cache_key"),
        ({"include": ["message.output_text.logprobs"]}, "include"),
        ({"service_tier": "flex"}, "service_tier"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"tools": [{"type": "web_search_preview"}]}, "tools[0]"),
        ({"input_data": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
    ],
)
def test_unsupported_parameters_fail_before_any_network_call(
    server: LoopbackServer, params: dict[str, Any], named: str
) -> None:
    input_data = params.pop("input_data", "hi")
    with pytest.raises(UnsupportedParameterError) as caught:
        call(server, input_data, **params)
    assert caught.value.param == named
    assert named in str(caught.value)
    assert server.requests == []


def test_builder_events_of_a_whole_reply_conform() -> None:
    """translate_response emits a conforming event list too (what non-streaming builds on)."""
    builder = ResponseStreamBuilder({"model": MODEL, "input": "x"}, model=MODEL)
    events = builder.start()
    events += tr.translate_response(
        doc_derived_message(
            [
                {"type": "text", "text": "a"},
                {"type": "thinking", "thinking": "t1", "signature": "s1"},
                {"type": "thinking", "thinking": "t2", "signature": "s2"},
                {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}},
                {"type": "text", "text": "b"},
                {"type": "tool_use", "id": "tu", "name": "f", "input": {"x": 1}},
            ],
            "tool_use",
        ),
        builder,
    )
    assert_stream_conforms(events)
    kinds = [item["type"] for item in events[-1]["response"]["output"]]
    # The hosted tool's block is kept as an extension item (anyllm.translate.anthropic.hosted).
    assert kinds == [
        "message",
        "reasoning",
        "reasoning",
        "anthropic:server_tool_use",
        "message",
        "function_call",
    ]
