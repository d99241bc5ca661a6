"""Chat-completions ``message.annotations`` of type ``url_citation`` (issue 14, item 2).

They map one to one onto the spec's ``url_citation`` annotation of the output_text part,
with ``response.output_text.annotation.added`` when streaming. The recorded corpus has no
search-model traffic, so the replies are ``doc_derived_*`` fixtures that follow the
documentation page they name, served by a real loopback HTTP server to
``anyllm.responses(provider="openai_compatible")``.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from tests.helpers.calls import responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems
from tests.helpers.events import collect, dump
from tests.helpers.loopback import LoopbackServer, Reply

call = partial(responses_at, provider="openai_compatible", model="gpt-4o-search-preview")

ANSWER = "The 2024 Euro final was won by Spain, who beat England 2-1 in Berlin."


def _span(fragment: str) -> tuple[int, int]:
    start = ANSWER.index(fragment)
    return start, start + len(fragment)


SPAIN = _span("won by Spain")
BERLIN = _span("in Berlin")


def doc_derived_openai_search_completion() -> dict[str, Any]:
    """A chat completion of a search model, shaped as
    https://platform.openai.com/docs/guides/tools-web-search?api-mode=chat shows it:
    ``message.annotations`` = ``[{type: url_citation, url_citation: {end_index,
    start_index, title, url}}]``."""
    return {
        "id": "chatcmpl-doc-search",
        "object": "chat.completion",
        "created": 1741036000,
        "model": "gpt-4o-search-preview-2025-03-11",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": ANSWER,
                    "refusal": None,
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url_citation": {
                                "end_index": SPAIN[1],
                                "start_index": SPAIN[0],
                                "title": "Euro 2024 final report",
                                "url": "https://www.uefa.com/euro2024/final/?utm_source=openai",
                            },
                        },
                        {
                            "type": "url_citation",
                            "url_citation": {
                                "end_index": BERLIN[1],
                                "start_index": BERLIN[0],
                                "title": "Olympiastadion",
                                "url": "https://en.wikipedia.org/wiki/Olympiastadion_(Berlin)",
                            },
                        },
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 20, "total_tokens": 29},
    }


def doc_derived_openrouter_search_stream() -> list[dict[str, Any]]:
    """OpenRouter's web search (https://openrouter.ai/docs/features/web-search, "Parsing
    web search results"): the annotations, with OpenRouter's extra ``content`` excerpt,
    come in a delta of their own after the text; then the finish chunk and usage."""
    head = {
        "id": "gen-doc-search",
        "object": "chat.completion.chunk",
        "created": 1741036000,
        "model": "openai/gpt-4o:online",
    }
    pieces = [ANSWER[:20], ANSWER[20:45], ANSWER[45:]]
    chunks = [
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": p}, "finish_reason": None}],
        }
        for p in pieces
    ]
    annotations = [
        {
            "type": "url_citation",
            "url_citation": {
                "url": "https://www.uefa.com/euro2024/final/",
                "title": "Euro 2024 final report",
                "content": "Spain beat England 2-1 ...",
                "start_index": SPAIN[0],
                "end_index": SPAIN[1],
            },
        }
    ]
    chunks.append(
        {
            **head,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "", "annotations": annotations},
                    "finish_reason": None,
                }
            ],
        }
    )
    chunks.append(
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "stop"}],
        }
    )
    chunks.append(
        {**head, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 20, "total_tokens": 29}}
    )
    return chunks


def sse(chunks: list[dict[str, Any]], split: int | None) -> Reply:
    raw = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
    pieces = [raw[i : i + split] for i in range(0, len(raw), split)] if split else [raw]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=pieces)


def test_url_citations_of_a_whole_completion() -> None:
    with LoopbackServer(Reply.json(doc_derived_openai_search_completion())) as server:
        response = dump(call(server, "Who won Euro 2024?"))
    assert not response_schema_problems(response)
    [message] = response["output"]
    [part] = message["content"]
    assert part["text"] == ANSWER
    assert part["annotations"] == [
        {
            "type": "url_citation",
            "url": "https://www.uefa.com/euro2024/final/?utm_source=openai",
            "title": "Euro 2024 final report",
            "start_index": SPAIN[0],
            "end_index": SPAIN[1],
        },
        {
            "type": "url_citation",
            "url": "https://en.wikipedia.org/wiki/Olympiastadion_(Berlin)",
            "title": "Olympiastadion",
            "start_index": BERLIN[0],
            "end_index": BERLIN[1],
        },
    ]
    assert [ANSWER[a["start_index"] : a["end_index"]] for a in part["annotations"]] == [
        "won by Spain",
        "in Berlin",
    ]


@pytest.mark.parametrize("split", [None, 5])
def test_url_citations_of_a_stream(split: int | None) -> None:
    with LoopbackServer(sse(doc_derived_openrouter_search_stream(), split)) as server:
        events, error = collect(call(server, "Who won Euro 2024?", stream=True))
    assert error is None
    assert_stream_conforms(events)
    added = [e for e in events if e["type"] == "response.output_text.annotation.added"]
    expected = {
        "type": "url_citation",
        "url": "https://www.uefa.com/euro2024/final/",
        "title": "Euro 2024 final report",
        "start_index": SPAIN[0],
        "end_index": SPAIN[1],
    }
    assert [(e["annotation"], e["annotation_index"], e["content_index"]) for e in added] == [(expected, 0, 0)]
    order = [e["type"] for e in events]
    assert order.index("response.output_text.annotation.added") < order.index("response.output_text.done")
    [part_done] = [e for e in events if e["type"] == "response.content_part.done"]
    assert part_done["part"]["annotations"] == [expected]
    assert events[-1]["response"]["output"][0]["content"][0]["annotations"] == [expected]


def test_annotations_before_the_text_wait_for_it() -> None:
    """Some gateways put the annotations in the first delta: they are attached once the text opens."""
    chunks = doc_derived_openrouter_search_stream()
    annotated = chunks.pop(3)
    chunks.insert(0, annotated)
    with LoopbackServer(sse(chunks, None)) as server:
        events, error = collect(call(server, "Who won Euro 2024?", stream=True))
    assert error is None
    assert_stream_conforms(events)
    final = events[-1]["response"]["output"][0]["content"][0]
    assert final["text"] == ANSWER
    assert [ANSWER[a["start_index"] : a["end_index"]] for a in final["annotations"]] == ["won by Spain"]
