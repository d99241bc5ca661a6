"""What the Gemini bridge used to lose or break (issue 14, items 3, 4, 5 and 7).

The recorded corpus holds no native Gemini traffic, so every body here is a
``doc_derived_*`` fixture following the page named beside it (camelCase, field for field),
served by a real loopback HTTP server to ``anyllm.responses(provider="gemini")``.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from anyllm.errors import RateLimitError, error_from_http
from anyllm.extensions import ExtensionItem
from anyllm.store import output_item_to_input
from anyllm.testing.validate import validate_response
from anyllm.translate import chat
from anyllm.translate.gemini import translate_request
from tests.helpers.calls import responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems
from tests.helpers.events import collect, dump
from tests.helpers.loopback import LoopbackServer, Reply

MODEL = "gemini-2.5-flash"
call = partial(responses_at, provider="gemini", path="/v1beta", model=MODEL)

CODE_EXECUTION = "https://ai.google.dev/gemini-api/docs/code-execution"
GROUNDING = "https://ai.google.dev/gemini-api/docs/google-search"
# Streaming function-call arguments (FunctionCall.partialArgs / willContinue, PartialArg)
STREAMED_ARGS = "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/function-calling"
# google.rpc.RetryInfo in the error details
ERRORS = "https://ai.google.dev/gemini-api/docs/troubleshooting, https://cloud.google.com/apis/design/errors"


def sse(chunks: list[dict[str, Any]], split: int | None = None) -> Reply:
    raw = b"".join(f"data: {json.dumps(c)}\r\n\r\n".encode() for c in chunks)
    pieces = [raw[i : i + split] for i in range(0, len(raw), split)] if split else [raw]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=pieces)


def severities(violations: list[Any]) -> set[str]:
    return {v.severity for v in violations}


def history(response: dict[str, Any], follow_up: str = "Thanks") -> dict[str, Any]:
    """The next request's generateContent body when ``response`` is given back as input."""
    items = [{"role": "user", "content": "q"}, *(output_item_to_input(i) for i in response["output"])]
    return translate_request({"model": MODEL, "input": [*items, {"role": "user", "content": follow_up}]})


# ======================================================================= item 4: code execution

# CODE_EXECUTION, "Code execution" REST example: the model's parts are text, executableCode,
# codeExecutionResult and text again.
CODE_PARTS: list[dict[str, Any]] = [
    {"text": "I'll compute the sum of the first 50 primes."},
    {
        "executableCode": {
            "language": "PYTHON",
            "code": "primes = []\nn = 2\nwhile len(primes) < 50:\n    ...\nprint(sum(primes))\n",
        }
    },
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "5117\n"}},
    {"text": "The sum of the first 50 prime numbers is 5117."},
]


def doc_derived_code_execution_reply() -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"parts": CODE_PARTS, "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 80, "totalTokenCount": 100},
        "modelVersion": MODEL,
    }


def test_code_execution_parts_are_kept_and_the_final_text_too() -> None:
    with LoopbackServer(Reply.json(doc_derived_code_execution_reply())) as server:
        typed = call(server, "Sum of the first 50 primes?")
    response = dump(typed)
    assert not response_schema_problems(response)
    assert "error" not in severities(validate_response(response))
    kinds = [item["type"] for item in response["output"]]
    assert kinds == ["message", "gemini:executable_code", "gemini:code_execution_result", "message"]
    assert response["output"][-1]["content"][0]["text"] == "The sum of the first 50 prime numbers is 5117."
    assert [item["part"] for item in response["output"][1:3]] == CODE_PARTS[1:3]
    assert all(item["status"] == "completed" and item["id"] for item in response["output"][1:3])
    assert all(isinstance(item, ExtensionItem) for item in typed.output[1:3])
    # sent back, the model turn holds the same four parts
    assert history(response)["contents"][1] == {"role": "model", "parts": CODE_PARTS}


@pytest.mark.parametrize("split", [None, 13])
def test_code_execution_parts_stream_with_the_item_lifecycle(split: int | None) -> None:
    candidates: list[dict[str, Any]] = [
        {"content": {"parts": [part], "role": "model"}, "index": 0} for part in CODE_PARTS
    ]
    candidates[-1]["finishReason"] = "STOP"
    chunks = [{"candidates": [candidate], "modelVersion": MODEL} for candidate in candidates]
    with LoopbackServer(sse(chunks, split)) as server:
        events, error = collect(call(server, "Sum?", stream=True))
    assert error is None
    assert_stream_conforms(events)
    added = [e["item"]["type"] for e in events if e["type"] == "response.output_item.added"]
    assert added == ["message", "gemini:executable_code", "gemini:code_execution_result", "message"]
    assert events[-1]["type"] == "response.completed"


# ======================================================================= item 3: grounding

# ü and € are more than one byte in UTF-8 (Gemini's segment offsets count bytes)
GROUNDED = "Spain won Euro 2024 after beating Deutschland in München, then England 2-1 (tickets: 95 €)."


def _byte_span(fragment: str) -> dict[str, Any]:
    start = len(GROUNDED[: GROUNDED.index(fragment)].encode())
    return {"startIndex": start, "endIndex": start + len(fragment.encode()), "text": fragment}


def doc_derived_grounding_metadata() -> dict[str, Any]:
    """GROUNDING, "Understanding the grounding response": groundingChunks (web uri/title),
    groundingSupports (segment in UTF-8 byte offsets + groundingChunkIndices),
    webSearchQueries and the searchEntryPoint widget."""
    return {
        "webSearchQueries": ["who won euro 2024"],
        "searchEntryPoint": {
            "renderedContent": "<style>.container{}</style><div class='container'>...</div>"
        },
        "groundingChunks": [
            {
                "web": {
                    "uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/AAA",
                    "title": "uefa.com",
                }
            },
            {
                "web": {
                    "uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/BBB",
                    "title": "aljazeera.com",
                }
            },
        ],
        "groundingSupports": [
            {
                "segment": _byte_span("beating Deutschland in München"),
                "groundingChunkIndices": [0],
            },
            {"segment": _byte_span("then England 2-1 (tickets: 95 €)."), "groundingChunkIndices": [0, 1]},
        ],
    }


def _check_grounding(output: list[dict[str, Any]]) -> None:
    message, grounding = output
    part = message["content"][0]
    assert part["text"] == GROUNDED
    cited = [(GROUNDED[a["start_index"] : a["end_index"]], a["title"]) for a in part["annotations"]]
    assert cited == [
        ("beating Deutschland in München", "uefa.com"),
        ("then England 2-1 (tickets: 95 €).", "uefa.com"),
        ("then England 2-1 (tickets: 95 €).", "aljazeera.com"),
    ]
    assert all(a["url"].startswith("https://vertexaisearch.cloud.google.com/") for a in part["annotations"])
    assert grounding["type"] == "gemini:grounding_metadata" and grounding["status"] == "completed"
    assert grounding["grounding_metadata"] == doc_derived_grounding_metadata()


def test_grounding_whole_reply() -> None:
    reply = {
        "candidates": [
            {
                "content": {"parts": [{"text": GROUNDED}], "role": "model"},
                "finishReason": "STOP",
                "groundingMetadata": doc_derived_grounding_metadata(),
                "index": 0,
            }
        ],
        "modelVersion": MODEL,
    }
    with LoopbackServer(Reply.json(reply)) as server:
        response = dump(call(server, "Who won Euro 2024?"))
    assert not response_schema_problems(response)
    _check_grounding(response["output"])
    # metadata about an answer has no place in a request: the next turn sends the text only
    assert history(response)["contents"][1] == {"role": "model", "parts": [{"text": GROUNDED}]}


@pytest.mark.parametrize("split", [None, 11])
def test_grounding_stream(split: int | None) -> None:
    """In a stream the metadata comes with the last chunk; the annotations attach before the
    text part closes, with annotation.added events."""
    half = GROUNDED.index("then")
    chunks: list[dict[str, Any]] = [
        {"candidates": [{"content": {"parts": [{"text": GROUNDED[:half]}], "role": "model"}, "index": 0}]},
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": GROUNDED[half:]}], "role": "model"},
                    "finishReason": "STOP",
                    "groundingMetadata": doc_derived_grounding_metadata(),
                    "index": 0,
                }
            ]
        },
    ]
    with LoopbackServer(sse(chunks, split)) as server:
        events, error = collect(call(server, "Who won Euro 2024?", stream=True))
    assert error is None
    assert_stream_conforms(events)
    _check_grounding(events[-1]["response"]["output"])
    assert len([e for e in events if e["type"] == "response.output_text.annotation.added"]) == 3


# ======================================================================= item 5: streamed arguments


def doc_derived_streamed_arguments() -> list[dict[str, Any]]:
    """STREAMED_ARGS: the call's name first (willContinue), then partialArgs pieces by
    jsonPath (a string in two pieces, a number, a nested value), then a last functionCall
    without willContinue, and the finish."""

    def chunk(call_: dict[str, Any], **extra: Any) -> dict[str, Any]:
        candidate = {"content": {"parts": [{"functionCall": call_}], "role": "model"}, "index": 0, **extra}
        return {"candidates": [candidate], "modelVersion": MODEL}

    return [
        chunk({"name": "get_weather", "willContinue": True}),
        chunk(
            {
                "partialArgs": [{"jsonPath": "$.location", "stringValue": "Bos", "willContinue": True}],
                "willContinue": True,
            }
        ),
        chunk({"partialArgs": [{"jsonPath": "$.location", "stringValue": "ton, MA"}], "willContinue": True}),
        chunk(
            {
                "partialArgs": [
                    {"jsonPath": "$.days", "numberValue": 3},
                    {"jsonPath": "$.units['temp']", "stringValue": "F"},
                    {"jsonPath": "$.alerts", "boolValue": True},
                ],
                "willContinue": True,
            }
        ),
        chunk({}, finishReason="STOP"),
    ]


@pytest.mark.parametrize("split", [None, 17])
def test_streamed_function_call_arguments_are_assembled(split: int | None) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    config = {"functionCallingConfig": {"mode": "AUTO", "streamFunctionCallArguments": True}}
    with LoopbackServer(sse(doc_derived_streamed_arguments(), split)) as server:
        events, error = collect(
            call(server, "Weather in Boston?", stream=True, tools=[tool], toolConfig=config)
        )
        sent = server.last().json()
    assert sent["toolConfig"]["functionCallingConfig"]["streamFunctionCallArguments"] is True
    assert error is None, error
    assert_stream_conforms(events)
    [item] = events[-1]["response"]["output"]
    assert (item["type"], item["status"], item["name"]) == ("function_call", "completed", "get_weather")
    assert json.loads(item["arguments"]) == {
        "location": "Boston, MA",
        "days": 3,
        "units": {"temp": "F"},
        "alerts": True,
    }
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert len(added) == 1 and added[0]["item"]["name"] == "get_weather"


def test_streamed_arguments_for_a_call_never_named_fail_typed() -> None:
    chunks = doc_derived_streamed_arguments()[1:]
    with LoopbackServer(sse(chunks)) as server:
        events, error = collect(call(server, "Weather?", stream=True))
    assert error is not None and "never named" in error.message
    assert events[-1]["type"] == "response.failed"


# ======================================================================= item 7: RetryInfo


def doc_derived_quota_error() -> dict[str, Any]:
    """ERRORS: a 429 RESOURCE_EXHAUSTED whose details carry QuotaFailure, Help and
    RetryInfo (retryDelay, a protobuf Duration); no Retry-After header."""
    return {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details. "
            "Please retry in 34.4s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {
                            "description": "Learn more",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"},
            ],
        }
    }


@pytest.mark.parametrize("stream", [False, True])
def test_retry_delay_from_the_error_body(stream: bool) -> None:
    with (
        LoopbackServer(Reply.json(doc_derived_quota_error(), status=429)) as server,
        pytest.raises(RateLimitError) as caught,
    ):
        result = call(server, "hi", stream=stream)
        if stream:
            list(result)
    assert caught.value.retry_after == pytest.approx(34.4)
    assert caught.value.status_code == 429


def retry_after(status: int, body: Any, headers: dict[str, str] | None = None) -> float | None:
    error = error_from_http(status, json.dumps(body), headers or {}, provider="gemini")
    assert isinstance(error, RateLimitError)
    return error.retry_after


def test_retry_delay_in_other_body_shapes_and_the_header_first() -> None:
    body = doc_derived_quota_error()
    assert retry_after(429, [body]) == pytest.approx(34.4)  # Gemini's OpenAI-compatible endpoint: a list
    body["error"]["details"][2]["retryDelay"] = {"seconds": 7, "nanos": 500000000}
    assert retry_after(429, body) == pytest.approx(7.5)
    assert retry_after(429, body, {"retry-after": "2"}) == 2.0  # the header, where given, decides
    relayed = {  # a gateway passing the upstream error on as text (OpenRouter's metadata.raw)
        "error": {
            "code": 429,
            "message": "Provider returned error",
            "metadata": {"raw": json.dumps(doc_derived_quota_error())},
        }
    }
    assert retry_after(429, relayed) == pytest.approx(34.4)


# ======================================================================= other implementations' items


def test_other_implementations_extension_items_are_skipped() -> None:
    """An anthropic:* item reaching Gemini or a chat server carries nothing they can use
    (the spec: extension items are "specific to that implementation")."""
    foreign = {
        "type": "anthropic:server_tool_use",
        "id": "ext_1",
        "status": "completed",
        "block": {"type": "server_tool_use"},
    }
    items = [{"role": "user", "content": "q"}, foreign, {"role": "user", "content": "again"}]
    assert translate_request({"model": MODEL, "input": items})["contents"] == [
        {"role": "user", "parts": [{"text": "q"}, {"text": "again"}]}
    ]
    body = chat.translate_request({"model": "m", "input": items}, chat.dialect_for("mistral"), stream=False)
    assert [m["role"] for m in body["messages"]] == ["user", "user"]
