"""What the Anthropic bridge used to lose or get wrong (issue 14, items 1, 3, 4, 6, 8).

Through ``anyllm.responses()`` against a real loopback HTTP server. The server's replies are
the real Anthropic traffic of ``../shared/corpus`` where it has the shape (web search with
citations, web fetch, MCP, code execution, compaction; skipped cleanly when absent), and
``doc_derived_*`` fixtures, which follow the documentation page they name, where it has not
(max_tokens inside a tool_use block, a programmatic-tool-call continuation, a spliced
stream).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from anyllm.errors import StreamError
from anyllm.extensions import ExtensionItem
from anyllm.store import output_item_to_input
from anyllm.testing.validate import validate_response, validate_stream
from anyllm.translate import anthropic as tr
from tests.helpers.calls import responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems
from tests.helpers.corpus import corpus_row, corpus_rows
from tests.helpers.events import collect, dump
from tests.helpers.loopback import LoopbackServer, Reply, Seen

MODEL = "claude-sonnet-4-5"
call = partial(responses_at, provider="anthropic", path="", model=MODEL)


class Script:
    """The loopback server's replies, in order."""

    def __init__(self) -> None:
        self.queue: list[Reply] = []

    def __call__(self, seen: Seen) -> Reply:
        return self.queue.pop(0)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def server(script: Script) -> Iterator[LoopbackServer]:
    with LoopbackServer(script) as running:
        yield running


def sse_reply(events: list[dict[str, Any]], split: int | None = None) -> Reply:
    """Anthropic's framing (``event:`` + ``data:``), one chunk per event or every ``split`` bytes."""
    raw = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]
    chunks = raw
    if split:
        joined = b"".join(raw)
        chunks = [joined[i : i + split] for i in range(0, len(joined), split)]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=chunks)


def recorded_events(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded SSE events' data (the corpus keeps it decoded or as text)."""
    return [e["data"] if isinstance(e["data"], dict) else json.loads(e["data"]) for e in row["sse_events"]]


def output_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = events[-1]["response"]["output"]
    return result


def done_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "response.output_item.done"]


def severities(violations: list[Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for violation in violations:
        found.setdefault(violation.severity, set()).add(violation.rule)
    return found


# ----------------------------------------------------------------------------- doc-derived fixtures
# https://docs.anthropic.com/en/docs/build-with-claude/streaming (event flow, input_json_delta)
# and https://docs.anthropic.com/en/api/messages (the Message object); ids and texts made up.


def doc_derived_stream(blocks: list[list[dict[str, Any]]], stop_reason: str) -> list[dict[str, Any]]:
    """message_start, each block as start / deltas / stop, message_delta, message_stop."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_doc_hosted",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-sonnet-4-5-20250929",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 30, "output_tokens": 1},
            },
        }
    ]
    for index, (block, *deltas) in enumerate(blocks):
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 9},
        }
    )
    events.append({"type": "message_stop"})
    return events


def doc_derived_text(*pieces: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": ""}, *({"type": "text_delta", "text": p} for p in pieces)]


def doc_derived_tool(call_id: str, *json_pieces: str) -> list[dict[str, Any]]:
    return [
        {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {}},
        *({"type": "input_json_delta", "partial_json": p} for p in json_pieces),
    ]


def weather_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }


# ======================================================================= item 1: max_tokens in a tool_use


@pytest.mark.parametrize("split", [None, 7])
def test_max_tokens_inside_a_tool_use_block_ends_the_call_incomplete(
    server: LoopbackServer, script: Script, split: int | None
) -> None:
    """content_block_stop closes the block before the stop reason says max_tokens cut it: the
    call must end ``incomplete`` (it was being written when the budget ran out), never
    ``completed`` with its truncated arguments."""
    stream = doc_derived_stream(
        [doc_derived_text("Let me check."), doc_derived_tool("toolu_doc_cut", '{"city": ', '"Par')],
        "max_tokens",
    )
    script.queue.append(sse_reply(stream, split))
    events, error = collect(
        call(server, "Weather in Paris?", stream=True, tools=[weather_tool()], max_output_tokens=20)
    )
    assert error is None
    assert_stream_conforms(events)
    calls = [item for item in done_items(events) if item["type"] == "function_call"]
    assert [(c["status"], c["arguments"]) for c in calls] == [("incomplete", '{"city": "Par')]
    assert events[-1]["type"] == "response.incomplete"
    assert (
        output_of(events)[-1]["status"] == "incomplete" and output_of(events)[-1]["type"] == "function_call"
    )
    assert [item["status"] for item in output_of(events)] == ["completed", "incomplete"]


def test_max_tokens_inside_a_tool_use_block_whole_reply(server: LoopbackServer, script: Script) -> None:
    script.queue.append(
        Reply.json(
            {
                "id": "msg_doc_cut",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "tool_use", "id": "toolu_doc_cut", "name": "get_weather", "input": {}}],
                "stop_reason": "max_tokens",
                "stop_sequence": None,
                "usage": {"input_tokens": 30, "output_tokens": 20},
            }
        )
    )
    response = dump(call(server, "Weather?", tools=[weather_tool()], max_output_tokens=20))
    assert not response_schema_problems(response)
    assert response["status"] == "incomplete"
    assert [(i["type"], i["status"]) for i in response["output"]] == [("function_call", "incomplete")]


def test_a_call_followed_by_another_block_was_complete(server: LoopbackServer, script: Script) -> None:
    """A block after the call shows the call was finished: it stays ``completed`` when
    max_tokens cuts the later text, which ends ``incomplete`` as the last item."""
    stream = doc_derived_stream(
        [doc_derived_tool("toolu_doc_ok", '{"city": "Oslo"}'), doc_derived_text("And then")], "max_tokens"
    )
    script.queue.append(sse_reply(stream))
    events, error = collect(call(server, "Weather?", stream=True, tools=[weather_tool()]))
    assert error is None
    assert_stream_conforms(events)
    assert [(i["type"], i["status"]) for i in output_of(events)] == [
        ("function_call", "completed"),
        ("message", "incomplete"),
    ]


# ======================================================================= item 6: content in message_start


def doc_derived_programmatic_continuation() -> list[dict[str, Any]]:
    """A continuation of a programmatic tool call
    (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/programmatic-tool-calling):
    the code running in the container calls a client tool again, and the stream is a
    ``message_start`` already holding the content and the stop reason, then ``message_stop``."""
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_doc_ptc",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_doc_ptc_2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                        "caller": {"type": "code_execution_20250825", "tool_id": "srvtoolu_doc_ptc"},
                    }
                ],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "container": {"id": "container_doc_ptc", "expires_at": "2026-01-01T00:00:00Z"},
                "usage": {"input_tokens": 410, "output_tokens": 0},
            },
        },
        {"type": "message_stop"},
    ]


def test_message_start_holding_content_and_stop_reason(server: LoopbackServer, script: Script) -> None:
    script.queue.append(sse_reply(doc_derived_programmatic_continuation()))
    events, error = collect(call(server, "Weather in three cities", stream=True, tools=[weather_tool()]))
    assert error is None, error
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.completed"
    [item] = output_of(events)
    assert (item["type"], item["status"], item["call_id"], json.loads(item["arguments"])) == (
        "function_call",
        "completed",
        "toolu_doc_ptc_2",
        {"city": "Rome"},
    )
    assert events[-1]["response"]["usage"]["input_tokens"] == 410


# ======================================================================= item 8: a spliced stream


def test_a_spliced_stream_fails_before_closing_the_open_call(server: LoopbackServer, script: Script) -> None:
    """A second message_start while the first message is open: StreamError naming the splice,
    and nothing of the open call is reported ``completed`` before it."""
    first = doc_derived_stream([doc_derived_tool("toolu_doc_a", '{"city": "Par')], "tool_use")
    second = doc_derived_stream([doc_derived_tool("toolu_doc_b", '{"city": "Rome"}')], "tool_use")
    cut = max(i for i, e in enumerate(first) if e["type"] == "content_block_delta") + 1
    script.queue.append(sse_reply(first[:cut] + second))
    events, error = collect(call(server, "Weather?", stream=True, tools=[weather_tool()]))
    assert isinstance(error, StreamError)
    assert "spliced" in error.message and "message_start" in error.message
    assert not [item for item in done_items(events) if item["type"] == "function_call"]
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(events)
    assert all(item.get("status") != "completed" for item in output_of(events))


# ======================================================================= item 3: citations


def _cited_blocks(blocks: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(b["text"], b["citations"]) for b in blocks if b["type"] == "text" and b.get("citations")]


def _check_citations(output: list[dict[str, Any]], blocks: list[dict[str, Any]]) -> None:
    """Every URL citation is a url_citation over the text it cites, and every citation is
    kept whole in the anthropic:citations item that follows its message."""
    cited = _cited_blocks(blocks)
    assert cited, "the recorded reply has citations"
    annotations: list[tuple[str, dict[str, Any]]] = []
    kept: list[dict[str, Any]] = []
    for position, item in enumerate(output):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            annotations += [(text, a) for a in item["content"][0]["annotations"]]
        if item["type"] == "anthropic:citations":
            assert output[position - 1]["id"] == item["message_id"]  # right after its message
            assert item["status"] == "completed" and item["id"]
            message_text = output[position - 1]["content"][0]["text"]
            for entry in item["blocks"]:
                kept.append(entry)
                assert message_text[entry["start_index"] : entry["end_index"]] in [t for t, _ in cited]
    assert [entry["citations"] for entry in kept] == [c for _, c in cited]  # whole: encrypted_index too
    urls = [c for _, cs in cited for c in cs if c.get("url")]
    assert len(annotations) == len(urls)
    for (text, annotation), citation in zip(annotations, urls, strict=True):
        assert annotation["url"] == citation["url"] and annotation["title"] == citation["title"]
        assert text[annotation["start_index"] : annotation["end_index"]] in [t for t, _ in cited]


@pytest.mark.corpus
def test_recorded_web_search_citations_whole_reply(server: LoopbackServer, script: Script) -> None:
    row = corpus_row("anthropic", "test_anthropic/test_anthropic_web_search_tool.yaml", 0)
    script.queue.append(Reply.json(row["response_json"]))
    typed = call(server, "news")
    response = dump(typed)
    assert not response_schema_problems(response)
    _check_citations(response["output"], row["response_json"]["content"])
    assert any(isinstance(item, ExtensionItem) for item in typed.output)


@pytest.mark.corpus
@pytest.mark.parametrize("split", [None, 97])
def test_recorded_web_search_citations_stream(
    server: LoopbackServer, script: Script, split: int | None
) -> None:
    row = corpus_row("anthropic", "test_anthropic/test_anthropic_web_search_tool_stream.yaml", 0)
    recorded = recorded_events(row)
    script.queue.append(sse_reply(recorded, split))
    events, error = collect(call(server, "news", stream=True))
    assert error is None
    assert_stream_conforms(events)
    blocks: dict[int, dict[str, Any]] = {}
    for event in recorded:  # the blocks as the stream built them
        if event["type"] == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif event["type"] == "content_block_delta" and event["delta"]["type"] == "citations_delta":
            blocks[event["index"]].setdefault("citations", []).append(event["delta"]["citation"])
        elif event["type"] == "content_block_delta" and event["delta"]["type"] == "text_delta":
            blocks[event["index"]]["text"] += event["delta"]["text"]
    _check_citations(output_of(events), [blocks[i] for i in sorted(blocks)])
    added = [e for e in events if e["type"] == "response.output_text.annotation.added"]
    final = [
        a
        for item in output_of(events)
        if item["type"] == "message"
        for a in item["content"][0]["annotations"]
    ]
    assert [e["annotation"] for e in added] == final and final


def doc_derived_document_citations_reply() -> dict[str, Any]:
    """Citations of other location types (https://docs.anthropic.com/en/docs/build-with-claude/citations):
    ``char_location`` into a plain-text document (no URL: nothing for url_citation) and
    ``search_result_location`` whose ``source`` is a URL."""
    return {
        "id": "msg_doc_cite",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "text", "text": "According to the document, "},
            {
                "type": "text",
                "text": "the grass is green",
                "citations": [
                    {
                        "type": "char_location",
                        "cited_text": "The grass is green.",
                        "document_index": 0,
                        "document_title": "Example Document",
                        "start_char_index": 0,
                        "end_char_index": 20,
                    }
                ],
            },
            {"type": "text", "text": " and "},
            {
                "type": "text",
                "text": "the sky is blue",
                "citations": [
                    {
                        "type": "search_result_location",
                        "source": "https://example.com/sky",
                        "title": "Sky facts",
                        "cited_text": "The sky is blue.",
                        "search_result_index": 0,
                        "start_block_index": 0,
                        "end_block_index": 0,
                    }
                ],
            },
            {"type": "text", "text": "."},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 610, "output_tokens": 30},
    }


def test_other_citation_location_types(server: LoopbackServer, script: Script) -> None:
    reply = doc_derived_document_citations_reply()
    script.queue.append(Reply.json(reply))
    response = dump(call(server, "What colour is the grass?"))
    assert not response_schema_problems(response)
    message, kept = response["output"]
    part = message["content"][0]
    assert part["text"] == "According to the document, the grass is green and the sky is blue."
    [annotation] = part["annotations"]  # only the citation with a URL
    assert (annotation["url"], annotation["title"]) == ("https://example.com/sky", "Sky facts")
    assert part["text"][annotation["start_index"] : annotation["end_index"]] == "the sky is blue"
    assert kept["type"] == "anthropic:citations" and kept["message_id"] == message["id"]
    assert [b["citations"] for b in kept["blocks"]] == [
        b["citations"] for b in reply["content"] if "citations" in b
    ]
    assert _normalized(_sent_back(response["output"])) == _normalized(reply["content"])


def test_a_message_cut_by_max_tokens_keeps_its_annotations_last(
    server: LoopbackServer, script: Script
) -> None:
    """The incomplete message must be the last item (spec, item lifecycle), so its
    anthropic:citations item is not emitted; the url_citation annotations stay."""
    citation = {
        "type": "web_search_result_location",
        "url": "https://example.com/a",
        "title": "A",
        "cited_text": "a",
        "encrypted_index": "ZW5j",
    }
    stream = doc_derived_stream(
        [
            [
                {"type": "text", "text": "", "citations": []},
                {"type": "citations_delta", "citation": citation},
                *doc_derived_text("Cited text")[1:],
            ],
            doc_derived_text(" and then the bud"),
        ],
        "max_tokens",
    )
    script.queue.append(sse_reply(stream))
    events, error = collect(call(server, "q", stream=True))
    assert error is None
    assert_stream_conforms(events)
    [message] = output_of(events)
    assert message["status"] == "incomplete"
    [annotation] = message["content"][0]["annotations"]
    assert (annotation["start_index"], annotation["end_index"], annotation["url"]) == (
        0,
        10,
        "https://example.com/a",
    )


# ======================================================================= item 4: hosted content


def _translatable(block: dict[str, Any]) -> bool:
    return block["type"] in ("text", "thinking", "redacted_thinking", "tool_use")


def _normalized(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as compared after a round trip: adjacent uncited text merged, empty text
    dropped, tool_use without ``caller`` (the function_call item has no field for it)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] == "text":
            if not block["text"]:
                continue
            if (
                not block.get("citations")
                and out
                and out[-1]["type"] == "text"
                and not out[-1].get("citations")
            ):
                out[-1] = {"type": "text", "text": out[-1]["text"] + block["text"]}
                continue
            block = {k: v for k, v in block.items() if k != "citations" or v}
        if block["type"] == "tool_use":
            block = {k: v for k, v in block.items() if k != "caller"}
        out.append(block)
    return out


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _sent_back(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assistant content the bridge sends when ``output`` is given back as input."""
    history = [{"role": "user", "content": "q"}, *(output_item_to_input(item) for item in output)]
    body = tr.translate_request(
        {"model": MODEL, "input": [*history, {"role": "user", "content": "next"}]}, stream=False
    )
    [assistant] = [m for m in body["messages"] if m["role"] == "assistant"]
    content: list[dict[str, Any]] = assistant["content"]
    return content


@pytest.mark.corpus
def test_every_recorded_hosted_block_is_kept_and_sent_back(server: LoopbackServer, script: Script) -> None:
    """Each real Messages body: every block the spec has no item for becomes an extension
    item carrying it verbatim (valid under the spec's extension rules), and the whole
    content goes back to Anthropic on the next turn as it came."""
    bodies = [
        row["response_json"]
        for row in corpus_rows("anthropic", "/v1/messages")
        if isinstance(row.get("response_json"), dict) and row["response_json"].get("type") == "message"
    ]
    hosted = 0
    for body in bodies:
        script.queue.append(Reply.json(body))
        response = dump(call(server, "hi"))
        violations = validate_response(response)
        assert "error" not in severities(violations) and "warning" not in severities(violations), violations
        kept = [
            item["block"]
            for item in response["output"]
            if item["type"].startswith("anthropic:") and "block" in item
        ]
        assert kept == [b for b in body["content"] if not _translatable(b)]
        for item in response["output"]:
            if item["type"].startswith("anthropic:"):
                assert (
                    item["type"] == "anthropic:citations"
                    or item["type"] == "anthropic:" + item["block"]["type"]
                )
                assert item["id"] and item["status"] == "completed"
        hosted += len(kept)
        assert _normalized(_sent_back(response["output"])) == _normalized(body["content"])
    assert hosted >= 30  # server_tool_use, *_tool_result, mcp_* blocks in the corpus


@pytest.mark.corpus
def test_recorded_mcp_turn_round_trips_through_the_local_store(
    server: LoopbackServer, script: Script, tmp_path: Path
) -> None:
    """mcp_servers is forwarded as a passthrough key; the MCP blocks of the reply come back
    as extension items and reach Anthropic again, through previous_response_id, exactly as
    the recorded second request (pydantic-ai's) sent them."""
    first = corpus_row("anthropic", "test_anthropic/test_anthropic_mcp_servers.yaml", 0)
    second = corpus_row("anthropic", "test_anthropic/test_anthropic_mcp_servers.yaml", 1)
    script.queue += [Reply.json(first["response_json"]), Reply.json(second["response_json"])]
    mcp = first["request_body"]["mcp_servers"]
    store = {"response_store": str(tmp_path / "responses.sqlite")}
    question = first["request_body"]["messages"][0]["content"][0]["text"]
    typed = call(
        server, question, store=True, client_args=store, mcp_servers=mcp, reasoning={"effort": "low"}
    )
    assert [type(item).__name__ for item in typed.output if item.type.startswith("anthropic:")] == [
        "ExtensionItem",
        "ExtensionItem",
    ]
    follow_up = second["request_body"]["messages"][2]["content"][0]["text"]
    call(
        server,
        follow_up,
        previous_response_id=typed.id,
        client_args=store,
        mcp_servers=mcp,
        reasoning={"effort": "low"},
    )
    sent = server.requests[-1].json()
    assert sent["mcp_servers"] == mcp
    recorded_assistant = second["request_body"]["messages"][1]["content"]
    # pydantic-ai writes absent optional fields as null (citations: null in the MCP result)
    assert _normalized(sent["messages"][1]["content"]) == _normalized(_without_nulls(recorded_assistant))


@pytest.mark.corpus
@pytest.mark.parametrize(
    "cassette",
    [
        "test_anthropic/test_anthropic_web_fetch_tool_stream.yaml",
        "test_anthropic/test_anthropic_web_search_tool_stream.yaml",
        "test_anthropic/test_anthropic_compaction_usage_with_cache_streaming.yaml",
    ],
)
def test_recorded_hosted_blocks_stream_with_the_item_lifecycle(
    server: LoopbackServer, script: Script, cassette: str
) -> None:
    row = corpus_row("anthropic", cassette, 0)
    recorded = recorded_events(row)
    script.queue.append(sse_reply(recorded, 61))
    events, error = collect(call(server, "hi", stream=True))
    assert error is None
    violations = validate_stream(events)
    assert "error" not in severities(violations) and "warning" not in severities(violations), violations
    started = [e["content_block"] for e in recorded if e["type"] == "content_block_start"]
    expected = [b["type"] for b in started if not _translatable(b)]
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    kept = [i for i in added if i["type"] == "compaction" or i["type"].startswith("anthropic:")]
    kept = [i for i in kept if i["type"] != "anthropic:citations"]  # made here, whole, after its message
    assert [i["type"].removeprefix("anthropic:") for i in kept] == expected
    # added while the block streams, done when it is complete
    assert all(i.get("status", "in_progress") == "in_progress" for i in kept)
    done = {i["id"]: i for i in done_items(events)}
    for item in kept:
        final = done[item["id"]]
        if final["type"] != "compaction":
            assert final["status"] == "completed"
            assert final["block"]["type"] == final["type"].removeprefix("anthropic:")


@pytest.mark.corpus
def test_recorded_compaction_becomes_the_spec_compaction_item_and_goes_back(
    server: LoopbackServer, script: Script
) -> None:
    """Anthropic's compaction block (context_management, forwarded) is the spec's own
    ``compaction`` item; its content is kept opaque and sent back as the same block."""
    row = corpus_row(
        "anthropic", "test_anthropic/test_anthropic_compaction_usage_with_cache_streaming.yaml", 0
    )
    recorded = recorded_events(row)
    script.queue.append(sse_reply(recorded))
    context = row["request_body"]["context_management"]
    events, error = collect(call(server, "hi", stream=True, context_management=context))
    assert error is None
    assert server.requests[-1].json()["context_management"] == context
    [item] = [i for i in output_of(events) if i["type"] == "compaction"]
    assert set(item) == {"type", "id", "encrypted_content"}
    summary = "".join(
        e["delta"]["content"]
        for e in recorded
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "compaction_delta"
    )
    assert _sent_back(output_of(events))[0] == {"type": "compaction", "content": summary}


def test_foreign_extension_items_are_skipped_and_bad_ones_named() -> None:
    """Another implementation's extension item carries nothing Anthropic can use (the spec:
    "specific to that implementation"); an anthropic:* item without its block is named."""
    body = tr.translate_request(
        {
            "model": MODEL,
            "input": [
                {"role": "user", "content": "q"},
                {"type": "gemini:executable_code", "id": "ext_1", "status": "completed", "part": {}},
            ],
        },
        stream=False,
    )
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "q"}]}]
    from anyllm.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=r"input\[1\]\.block"):
        tr.translate_request(
            {
                "model": MODEL,
                "input": [{"role": "user", "content": "q"}, {"type": "anthropic:server_tool_use", "id": "x"}],
            },
            stream=False,
        )
