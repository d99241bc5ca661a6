"""The Gemini bridge (``provider="gemini"``) through real sockets, plus its pure translations.

The recorded corpus holds no native Gemini traffic (only Gemini's OpenAI-compatible
chat/completions endpoint), so every Gemini body here is a ``doc_derived_*`` fixture: the
shape Google documents, field for field (camelCase), on the page named beside it. They are
served by a real HTTP server on 127.0.0.1 and go through ``anyllm.responses()`` /
``aresponses()``, the backend, httpx2 and the SSE decoder, as a real call would.
Every stream is checked for order, identity and the spec's JSON schema per event.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from anyllm.errors import (
    AuthenticationError,
    ContentFilterError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    StreamError,
    UnsupportedParameterError,
)
from anyllm.store import output_item_to_input
from anyllm.translate.gemini import model_path, translate_request, translate_response
from anyllm.translate.stream import ResponseStreamBuilder
from tests.helpers.calls import aresponses_at, responses_at
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems
from tests.helpers.events import collect, dump
from tests.helpers.loopback import LoopbackServer, Reply, Seen

MODEL = "gemini-2.5-flash"
API_REF = "https://ai.google.dev/api/generate-content"
FUNCTION_CALLING = "https://ai.google.dev/gemini-api/docs/function-calling"
THINKING = "https://ai.google.dev/gemini-api/docs/thinking"
SIGNATURES = "https://ai.google.dev/gemini-api/docs/thought-signatures"
STRUCTURED = "https://ai.google.dev/gemini-api/docs/structured-output"
SIG_A = "CiQBcsjafFd3nFS6kZ1o3r9hK2Qm9n0Xq5l8X2bV3p4=="  # opaque base64, as the docs show them
SIG_B = "EpwCAcsjafzA9GuTd2uWqQ0mQ1p3pTQ6eJ3k1Zb7pJ8sYw=="

# ------------------------------------------------------------------ doc-derived wire fixtures

# API_REF, "Response body" / GenerateContentResponse: candidates[].content {parts, role},
# finishReason, index; usageMetadata; modelVersion; responseId.
doc_derived_text_response: dict[str, Any] = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Hello! How can I help you today?"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 8,
        "candidatesTokenCount": 9,
        "totalTokenCount": 17,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "tTCwacuEBMvnitYP06qsgQY",
}

# API_REF, streamGenerateContent with alt=sse: each event's data is one GenerateContentResponse
# holding only the new parts; the last one carries finishReason and the full usageMetadata.
doc_derived_text_stream: list[dict[str, Any]] = [
    {
        "candidates": [{"content": {"parts": [{"text": "Hello!"}], "role": "model"}, "index": 0}],
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "tTCwacuEBMvnitYP06qsgQY",
    },
    {
        "candidates": [{"content": {"parts": [{"text": " How can I help"}], "role": "model"}, "index": 0}],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "tTCwacuEBMvnitYP06qsgQY",
    },
    {
        "candidates": [
            {
                "content": {"parts": [{"text": " you today?"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 9, "totalTokenCount": 17},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "tTCwacuEBMvnitYP06qsgQY",
    },
]

# FUNCTION_CALLING + SIGNATURES: parallel calls in one model turn; Gemini 3 gives each call an
# id and puts the thought signature on the first functionCall part only.
doc_derived_parallel_calls_response: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {
                        "functionCall": {
                            "id": "8f2b1c",
                            "name": "get_weather",
                            "args": {"location": "Paris"},
                        },
                        "thoughtSignature": SIG_A,
                    },
                    {"functionCall": {"id": "9a3c2d", "name": "get_weather", "args": {"location": "London"}}},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 62,
        "candidatesTokenCount": 30,
        "thoughtsTokenCount": 48,
        "totalTokenCount": 140,
    },
    "modelVersion": "gemini-3-flash-preview",
}

# THINKING ("Thought summaries", includeThoughts): thought parts carry "thought": true;
# usageMetadata.thoughtsTokenCount counts the thinking. SIGNATURES: for a text answer the
# signature sits on the last part. Streamed: the function call of a step arrives whole.
doc_derived_thinking_tool_stream: list[dict[str, Any]] = [
    {
        "candidates": [
            {"content": {"parts": [{"text": "**Checking the weather**\n", "thought": True}], "role": "model"}}
        ],
        "modelVersion": "gemini-2.5-flash",
    },
    {
        "candidates": [
            {"content": {"parts": [{"text": "I need the forecast tool.", "thought": True}], "role": "model"}}
        ],
        "modelVersion": "gemini-2.5-flash",
    },
    {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {
                            "functionCall": {"name": "get_weather", "args": {"location": "Boston, MA"}},
                            "thoughtSignature": SIG_A,
                        }
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 70,
            "candidatesTokenCount": 12,
            "thoughtsTokenCount": 101,
            "cachedContentTokenCount": 32,
            "totalTokenCount": 183,
        },
        "modelVersion": "gemini-2.5-flash",
    },
]

# SIGNATURES ("text responses"): the signature arrives in the final chunk, on an empty text part.
doc_derived_signed_text_stream: list[dict[str, Any]] = [
    {"candidates": [{"content": {"parts": [{"text": "It is sunny"}], "role": "model"}}]},
    {"candidates": [{"content": {"parts": [{"text": " in Boston."}], "role": "model"}}]},
    {
        "candidates": [
            {
                "content": {"parts": [{"text": "", "thoughtSignature": SIG_B}], "role": "model"},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 7, "totalTokenCount": 97},
    },
]

# API_REF, FinishReason MAX_TOKENS.
doc_derived_max_tokens_response: dict[str, Any] = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Once upon a time, in a land far"}], "role": "model"},
            "finishReason": "MAX_TOKENS",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 10, "totalTokenCount": 15},
    "modelVersion": "gemini-2.5-flash",
}

# API_REF, FinishReason SAFETY with the candidate's safetyRatings (HarmCategory/HarmProbability).
doc_derived_safety_response: dict[str, Any] = {
    "candidates": [
        {
            "content": {"parts": [{"text": "I can describe the"}], "role": "model"},
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
            ],
        }
    ],
    "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16},
}

# API_REF, PromptFeedback: a blocked prompt has no candidates, only promptFeedback.blockReason.
doc_derived_prompt_blocked: dict[str, Any] = {
    "promptFeedback": {
        "blockReason": "SAFETY",
        "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
    },
    "usageMetadata": {"promptTokenCount": 11, "totalTokenCount": 11},
    "modelVersion": "gemini-2.5-flash",
}

# API_REF errors (google.rpc.Status as JSON): {"error": {code, message, status}}.
doc_derived_error_overloaded: dict[str, Any] = {
    "error": {
        "code": 503,
        "message": "The model is overloaded. Please try again later.",
        "status": "UNAVAILABLE",
    }
}
doc_derived_error_bad_key: dict[str, Any] = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
    }
}
doc_derived_error_quota: dict[str, Any] = {
    "error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
    }
}


# ------------------------------------------------------------------------------------ helpers


def sse(chunks: list[dict[str, Any]], *, crlf: bool = True, split: int | None = None) -> Reply:
    """Gemini's SSE framing (``data: <json>`` + blank line, no event names); ``split`` also
    cuts the bytes into pieces of that size, so events straddle network chunks."""
    end = "\r\n\r\n" if crlf else "\n\n"
    raw = [f"data: {json.dumps(chunk)}{end}".encode() for chunk in chunks]
    if split:
        joined = b"".join(raw)
        raw = [joined[i : i + split] for i in range(0, len(joined), split)]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=raw)


# anyllm.responses()/aresponses() at a loopback server that speaks the Gemini API under /v1beta.
call = partial(responses_at, provider="gemini", path="/v1beta", model=MODEL, input_data="hi")
acall = partial(aresponses_at, provider="gemini", path="/v1beta", model=MODEL, input_data="hi")


def built(reply: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole reply through translate_response, without HTTP (for the pure checks)."""
    builder = ResponseStreamBuilder(request or {"model": MODEL, "input": "hi"}, model=MODEL)
    events = builder.start()
    events += translate_response(reply, builder)
    assert_stream_conforms(events)
    return builder.response


# ===================================================================== request translation


def test_roles_system_instruction_and_parts() -> None:
    body = {
        "model": MODEL,
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "developer", "content": "Answer in French."},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in these?"},
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,iVBORw0KGgo=",
                        "detail": "high",
                    },
                    {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
                    {
                        "type": "input_file",
                        "file_data": "data:application/pdf;base64,JVBERi0x",
                        "filename": "a.pdf",
                    },
                    {"type": "input_file", "file_data": "JVBERi0x", "filename": "b.pdf"},
                    {"type": "input_file", "file_url": "gs://bucket/report.pdf"},
                    {"type": "input_video", "video_url": "https://example.com/clip.mp4"},
                ],
            },
            {"role": "assistant", "content": [{"type": "output_text", "text": "Un chat."}]},
            {"role": "user", "content": "Merci"},
            {"role": "user", "content": "!"},
        ],
    }
    request = translate_request(body)
    assert request["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]}
    assert [c["role"] for c in request["contents"]] == ["user", "model", "user"]
    assert request["contents"][0]["parts"] == [
        {"text": "What is in these?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/report.pdf"}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "https://example.com/clip.mp4"}},
    ]
    assert request["contents"][1] == {"role": "model", "parts": [{"text": "Un chat."}]}
    # Consecutive user messages form one content, as Gemini expects turns to alternate.
    assert request["contents"][2] == {"role": "user", "parts": [{"text": "Merci"}, {"text": "!"}]}
    assert "generationConfig" not in request and "tools" not in request


def test_function_call_round_trip_names_ids_and_outputs() -> None:
    body = {
        "model": MODEL,
        "input": [
            {"role": "user", "content": "Weather in Paris and London?"},
            {
                "type": "function_call",
                "call_id": "8f2b1c",
                "name": "get_weather",
                "arguments": '{"location":"Paris"}',
            },
            {
                "type": "function_call",
                "call_id": "call_" + "a" * 32,  # made by the bridge: never sent to Gemini
                "name": "get_time",
                "arguments": "",
            },
            {"type": "function_call_output", "call_id": "8f2b1c", "output": '{"temp_c": 21}'},
            {"type": "function_call_output", "call_id": "call_" + "a" * 32, "output": "noon"},
        ],
    }
    contents = translate_request(body)["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}, "id": "8f2b1c"}},
            {"functionCall": {"name": "get_time", "args": {}}},
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}, "id": "8f2b1c"}},
            {"functionResponse": {"name": "get_time", "response": {"output": "noon"}}},
        ],
    }


def test_function_call_output_without_its_call_names_the_call_id() -> None:
    body = {
        "model": MODEL,
        "input": [{"type": "function_call_output", "call_id": "call_missing", "output": "x"}],
    }
    with pytest.raises(InvalidRequestError, match="call_missing"):
        translate_request(body)


def test_tools_and_tool_choice() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"city": {"$ref": "#/$defs/City"}},
        "required": ["city"],
        "additionalProperties": False,
        "$defs": {"City": {"type": "string"}},
    }
    tools: list[dict[str, Any]] = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather.",
            "parameters": schema,
            "strict": False,
        },
        {"type": "function", "name": "send_email", "parameters": {"type": "object", "properties": {}}},
    ]
    base = {"model": MODEL, "input": "hi", "tools": tools}
    request = translate_request(base)
    assert request["tools"] == [
        {
            "functionDeclarations": [
                {"name": "get_weather", "description": "Weather.", "parametersJsonSchema": schema},
                {"name": "send_email", "parametersJsonSchema": {"type": "object", "properties": {}}},
            ]
        }
    ]
    cases: list[tuple[Any, dict[str, Any]]] = [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ({"type": "function", "name": "send_email"}, {"mode": "ANY", "allowedFunctionNames": ["send_email"]}),
        (
            {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_weather"}]},
            {"mode": "VALIDATED", "allowedFunctionNames": ["get_weather"]},
        ),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "get_weather"}],
            },
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ]
    for choice, expected in cases:
        config = translate_request({**base, "tool_choice": choice})["toolConfig"]
        assert config == {"functionCallingConfig": expected}, choice
    strict = [{**tool, "strict": True} for tool in tools]
    assert translate_request({**base, "tools": strict})["toolConfig"] == {
        "functionCallingConfig": {"mode": "VALIDATED"}
    }
    with pytest.raises(InvalidRequestError, match="nope"):
        translate_request({**base, "tool_choice": {"type": "function", "name": "nope"}})
    with pytest.raises(UnsupportedParameterError, match="web_search"):
        translate_request({**base, "tools": [{"type": "web_search"}]})


def test_generation_config_structured_output_and_thinking() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    body = {
        "model": MODEL,
        "input": "hi",
        "max_output_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}},
        "reasoning": {"effort": "low", "summary": "auto"},
    }
    assert translate_request(body)["generationConfig"] == {
        "maxOutputTokens": 256,
        "temperature": 0.2,
        "topP": 0.9,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }
    json_object = translate_request({**body, "text": {"format": {"type": "json_object"}}, "reasoning": None})
    assert json_object["generationConfig"]["responseMimeType"] == "application/json"
    assert "responseJsonSchema" not in json_object["generationConfig"]
    off = translate_request({**body, "reasoning": {"effort": "none"}})["generationConfig"]["thinkingConfig"]
    assert off == {"thinkingBudget": 0}
    gemini3 = translate_request({**body, "model": "gemini-3-pro-preview", "reasoning": {"effort": "high"}})
    assert gemini3["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "high"}
    with pytest.raises(UnsupportedParameterError, match=r"reasoning\.effort"):
        translate_request({**body, "model": "gemini-3-pro-preview", "reasoning": {"effort": "none"}})


def test_unknown_keys_pass_through_and_merge() -> None:
    body = {
        "model": MODEL,
        "input": "hi",
        "max_output_tokens": 100,
        "metadata": {"team": "a"},
        "stream_options": {"include_obfuscation": False},
        "store": False,
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "generationConfig": {"topK": 40, "maxOutputTokens": 50},
    }
    request = translate_request(body)
    assert request["safetySettings"] == body["safetySettings"]
    assert request["generationConfig"] == {"maxOutputTokens": 50, "topK": 40}
    for key in ("metadata", "stream_options", "store", "model", "input"):
        assert key not in request


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("top_logprobs", 3),
        ("background", True),
        ("conversation", "conv_1"),
        ("truncation", "auto"),
        ("max_tool_calls", 2),
        ("prompt_cache_key", "k"),
        ("prompt_cache_retention", "24h"),
        ("user", "u1"),
        ("safety_identifier", "s1"),
        ("service_tier", "flex"),
        ("include", ["reasoning.encrypted_content"]),
        ("text", {"verbosity": "low"}),
        ("parallel_tool_calls", False),
    ],
)
def test_unexpressible_parameters_raise_before_any_request(param: str, value: Any) -> None:
    seen: list[Seen] = []

    def handler(request: Seen) -> Reply:
        seen.append(request)
        return Reply.json(doc_derived_text_response)

    tools = [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]
    with LoopbackServer(handler) as server, pytest.raises(UnsupportedParameterError) as info:
        call(server, tools=tools, **{param: value})
    assert param.split(".")[0] in str(info.value)
    assert seen == []


def test_model_path() -> None:
    assert model_path("gemini-2.5-flash", stream=False) == "models/gemini-2.5-flash:generateContent"
    assert (
        model_path("models/gemini-2.5-pro", stream=True)
        == "models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    )
    assert model_path("tunedModels/my-model", stream=False) == "tunedModels/my-model:generateContent"


# ====================================================================== response translation


def test_thinking_text_and_signature_become_items() -> None:
    reply = {  # THINKING + SIGNATURES: thought summary, then a signed text answer
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "**Planning**", "thought": True},
                        {"text": "Forty-two.", "thoughtSignature": SIG_B},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 3, "thoughtsTokenCount": 20},
    }
    response = built(reply)
    kinds = [item["type"] for item in response["output"]]
    assert kinds == ["reasoning", "message", "reasoning"]
    assert response["output"][0]["content"] == [{"type": "reasoning_text", "text": "**Planning**"}]
    assert response["output"][1]["content"][0]["text"] == "Forty-two."
    assert response["output"][2]["encrypted_content"] == f"gemini:prev:{SIG_B}"
    assert response["usage"]["output_tokens"] == 23
    assert response["usage"]["output_tokens_details"] == {"reasoning_tokens": 20}
    # Sent back, the signature lands on the message's text part, where Gemini put it.
    history = [output_item_to_input(item) for item in response["output"]]
    contents = translate_request({"model": MODEL, "input": [{"role": "user", "content": "q"}, *history]})[
        "contents"
    ]
    assert contents[1] == {"role": "model", "parts": [{"text": "Forty-two.", "thoughtSignature": SIG_B}]}


def test_unknown_finish_reason_fails() -> None:
    """(Parts the spec has no item for are kept as extension items: tests/test_gemini_hosted.py.)"""
    malformed = {
        "candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "MALFORMED_FUNCTION_CALL"}]
    }
    with pytest.raises(ProviderError, match="MALFORMED_FUNCTION_CALL"):
        built(malformed)


# ================================================================ through the real HTTP path


def test_text_non_streaming_sync() -> None:
    with LoopbackServer(Reply.json(doc_derived_text_response)) as server:
        response = call(server, instructions="Be kind.", max_output_tokens=64, metadata={"k": "v"})
        seen = server.last()
    assert seen.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert seen.headers["x-goog-api-key"] == "test-key"
    assert "authorization" not in seen.headers and "key=" not in seen.path
    assert seen.json() == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "Be kind."}]},
        "generationConfig": {"maxOutputTokens": 64},
    }
    data = dump(response)
    assert response_schema_problems(data) == []
    assert data["status"] == "completed" and data["model"] == "gemini-2.5-flash"
    assert data["output"][0]["content"][0]["text"] == "Hello! How can I help you today?"
    assert data["usage"]["input_tokens"] == 8 and data["usage"]["output_tokens"] == 9
    assert data["metadata"] == {"k": "v"} and data["max_output_tokens"] == 64


async def test_text_non_streaming_async() -> None:
    with LoopbackServer(Reply.json(doc_derived_text_response)) as server:
        response = await acall(server)
    data = dump(response)
    assert response_schema_problems(data) == []
    assert data["output"][0]["content"][0]["text"] == "Hello! How can I help you today?"


@pytest.mark.parametrize(("crlf", "split"), [(True, None), (False, None), (True, 7)])
def test_text_streaming_sync(crlf: bool, split: int | None) -> None:
    with LoopbackServer(sse(doc_derived_text_stream, crlf=crlf, split=split)) as server:
        events, error = collect(call(server, stream=True))
        seen = server.last()
    assert error is None
    assert seen.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert seen.json() == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert_stream_conforms(events)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["Hello!", " How can I help", " you today?"]
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["usage"]["input_tokens"] == 8 and final["usage"]["output_tokens"] == 9


async def test_text_streaming_async() -> None:
    with LoopbackServer(sse(doc_derived_text_stream, split=11)) as server:
        stream = await acall(server, stream=True)
        events = [dump(event) async for event in stream]
    assert_stream_conforms(events)
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "Hello! How can I help you today?"


def test_parallel_calls_with_ids_and_signature() -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    with LoopbackServer(Reply.json(doc_derived_parallel_calls_response)) as server:
        response = call(server, tools=tools, tool_choice="required")
        sent = server.last().json()
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    data = dump(response)
    assert response_schema_problems(data) == []
    output = data["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call", "function_call"]
    assert output[0]["encrypted_content"] == f"gemini:next:{SIG_A}"
    assert [(item["call_id"], json.loads(item["arguments"])) for item in output[1:]] == [
        ("8f2b1c", {"location": "Paris"}),
        ("9a3c2d", {"location": "London"}),
    ]
    usage = data["usage"]
    assert (usage["output_tokens"], usage["output_tokens_details"]["reasoning_tokens"]) == (78, 48)


def test_streamed_tool_call_round_trip_keeps_signature_and_names() -> None:
    """Thinking + a function call streamed, then the call's output sent back: the signature
    returns on the functionCall part (Gemini 3 rejects history without it), the response is
    matched to the call by name."""
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    answer = {
        "candidates": [{"content": {"parts": [{"text": "Sunny."}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 2, "totalTokenCount": 92},
    }

    def handler(seen: Seen) -> Reply:
        return sse(doc_derived_thinking_tool_stream) if "stream" in seen.path else Reply.json(answer)

    with LoopbackServer(handler) as server:
        events, error = collect(
            call(server, stream=True, tools=tools, reasoning={"effort": "medium", "summary": "auto"})
        )
        assert error is None
        assert_stream_conforms(events)
        first = server.last().json()
        assert first["generationConfig"]["thinkingConfig"] == {
            "thinkingBudget": 8192,
            "includeThoughts": True,
        }
        final = events[-1]["response"]
        assert [item["type"] for item in final["output"]] == ["reasoning", "function_call"]
        reasoning, function_call = final["output"]
        assert reasoning["content"][0]["text"] == "**Checking the weather**\nI need the forecast tool."
        assert reasoning["encrypted_content"] == f"gemini:next:{SIG_A}"
        assert function_call["name"] == "get_weather" and function_call["call_id"].startswith("call_")
        assert json.loads(function_call["arguments"]) == {"location": "Boston, MA"}
        assert final["usage"]["input_tokens_details"]["cached_tokens"] == 32
        argument_deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
        assert len(argument_deltas) == 1  # arrives whole

        history = [output_item_to_input(item) for item in final["output"]]
        follow_up = [
            {"role": "user", "content": "Weather in Boston?"},
            *history,
            {"type": "function_call_output", "call_id": function_call["call_id"], "output": "sunny, 24 C"},
        ]
        response = call(server, input_data=follow_up, tools=tools)
        second = server.last().json()
    assert second["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Boston?"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"location": "Boston, MA"}},
                    "thoughtSignature": SIG_A,
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "sunny, 24 C"}}}],
        },
    ]
    assert dump(response)["output"][0]["content"][0]["text"] == "Sunny."


def test_previous_response_id_through_the_local_store(tmp_path: Any) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    replies = [doc_derived_parallel_calls_response, doc_derived_text_response]
    with LoopbackServer(lambda seen: Reply.json(replies[len(server.requests) - 1])) as server:
        store_args = {"response_store": str(tmp_path / "store.sqlite")}
        first = call(server, input_data="Weather?", tools=tools, store=True, client_args=store_args)
        outputs = [
            {"type": "function_call_output", "call_id": item.call_id, "output": '{"temp_c": 20}'}
            for item in first.output
            if item.type == "function_call"
        ]
        call(server, input_data=outputs, tools=tools, previous_response_id=first.id, client_args=store_args)
        contents = server.last().json()["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][0]["thoughtSignature"] == SIG_A
    assert [p["functionCall"]["id"] for p in contents[1]["parts"]] == ["8f2b1c", "9a3c2d"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"temp_c": 20}, "id": "8f2b1c"}},
        {"functionResponse": {"name": "get_weather", "response": {"temp_c": 20}, "id": "9a3c2d"}},
    ]


def test_signed_text_stream() -> None:
    with LoopbackServer(sse(doc_derived_signed_text_stream)) as server:
        events, error = collect(call(server, stream=True))
    assert error is None
    assert_stream_conforms(events)
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["message", "reasoning"]
    assert output[0]["content"][0]["text"] == "It is sunny in Boston."
    assert output[1]["encrypted_content"] == f"gemini:prev:{SIG_B}"


@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_is_incomplete(stream: bool) -> None:
    reply = sse([doc_derived_max_tokens_response]) if stream else Reply.json(doc_derived_max_tokens_response)
    with LoopbackServer(reply) as server:
        result = call(server, max_output_tokens=10, stream=stream)
        if stream:
            events, error = collect(result)
            assert error is None
            assert_stream_conforms(events)
            final = events[-1]["response"]
            assert events[-1]["type"] == "response.incomplete"
        else:
            final = dump(result)
            assert response_schema_problems(final) == []
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete"
    assert final["output"][0]["content"][0]["text"] == "Once upon a time, in a land far"


@pytest.mark.parametrize("stream", [False, True])
def test_safety_finish_is_incomplete_content_filter(stream: bool) -> None:
    reply = sse([doc_derived_safety_response]) if stream else Reply.json(doc_derived_safety_response)
    with LoopbackServer(reply) as server:
        result = call(server, stream=stream)
        if stream:
            events, error = collect(result)
            assert error is None
            assert_stream_conforms(events)
            final = events[-1]["response"]
        else:
            final = dump(result)
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "content_filter"}


def test_blocked_prompt_raises_content_filter_error() -> None:
    with (
        LoopbackServer(Reply.json(doc_derived_prompt_blocked)) as server,
        pytest.raises(ContentFilterError, match="SAFETY"),
    ):
        call(server)
    with LoopbackServer(sse([doc_derived_prompt_blocked])) as server:
        events, error = collect(call(server, stream=True))
    assert isinstance(error, ContentFilterError)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(events)


def test_error_chunk_mid_stream_fails_then_raises() -> None:
    chunks = [doc_derived_text_stream[0], doc_derived_error_overloaded]
    with LoopbackServer(sse(chunks)) as server:
        events, error = collect(call(server, stream=True))
    assert isinstance(error, ProviderError) and error.status_code == 503
    assert "overloaded" in str(error)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-2]["error"]["message"] == "The model is overloaded. Please try again later."
    assert_stream_conforms(events)


async def test_error_chunk_mid_stream_async() -> None:
    with LoopbackServer(sse([doc_derived_text_stream[0], doc_derived_error_quota])) as server:
        stream = await acall(server, stream=True)
        events: list[Any] = []
        with pytest.raises(RateLimitError):
            async for event in stream:
                events.append(event)
    dumped = [dump(event) for event in events]
    assert dumped[-1]["type"] == "response.failed"
    assert_stream_conforms(dumped)


def test_connection_cut_mid_stream_fails_then_raises() -> None:
    reply = sse(doc_derived_text_stream)
    reply.reset_after = 1
    with LoopbackServer(reply) as server:
        events, error = collect(call(server, stream=True, client_args={"timeout": 10}))
    assert isinstance(error, StreamError)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert_stream_conforms(events)


def test_stream_without_finish_reason_is_truncated() -> None:
    with LoopbackServer(sse(doc_derived_text_stream[:2])) as server:
        events, error = collect(call(server, stream=True))
    assert isinstance(error, StreamError) and "finishReason" in str(error)
    assert events[-1]["type"] == "response.failed"
    assert_stream_conforms(events)


def test_http_errors_are_typed() -> None:
    with (
        LoopbackServer(Reply.json(doc_derived_error_bad_key, status=400)) as server,
        pytest.raises(InvalidRequestError, match="API key not valid"),
    ):
        call(server)
    with (
        LoopbackServer(Reply.json(doc_derived_error_quota, status=429)) as server,
        pytest.raises(RateLimitError),
    ):
        call(server, stream=True)
    forbidden = {"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}}
    with LoopbackServer(Reply.json(forbidden, status=403)) as server, pytest.raises(AuthenticationError):
        call(server)


def test_call_outside_allowed_tools_is_rejected() -> None:
    tools = [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}},
        {"type": "function", "name": "send_email", "parameters": {"type": "object", "properties": {}}},
    ]
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "send_email"}]}
    with LoopbackServer(Reply.json(doc_derived_parallel_calls_response)) as server:
        with pytest.raises(ProviderError) as info:
            call(server, tools=tools, tool_choice=choice)
        sent = server.last().json()
    assert info.value.code == "tool_not_allowed"
    assert len(sent["tools"][0]["functionDeclarations"]) == 2  # every tool stays visible


def test_standalone_signature_and_foreign_reasoning_items() -> None:
    """An empty signed part after a call keeps a part of its own on the way back; reasoning
    items without a Gemini signature (plain text, another provider's) are not sent."""
    reply = {  # SIGNATURES: a signature may arrive on an empty text part of its own
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"functionCall": {"name": "get_time", "args": {}}},
                        {"text": "", "thoughtSignature": SIG_B},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ]
    }
    response = built(reply)
    assert [item["type"] for item in response["output"]] == ["function_call", "reasoning"]
    assert response["output"][1]["encrypted_content"] == f"gemini:part:{SIG_B}"
    history = [output_item_to_input(item) for item in response["output"]]
    foreign = [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAABopenai-opaque"},
    ]
    body = {"model": MODEL, "input": [{"role": "user", "content": "time?"}, *foreign, *history]}
    contents = translate_request(body)["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_time", "args": {}}},
            {"text": "", "thoughtSignature": SIG_B},
        ],
    }
    assert len(contents) == 2
