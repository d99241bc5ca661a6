"""``response.output_text`` on every provider, as OpenAI's ``Response`` has it.

Before, a ``ResponseResource`` (every provider but the openai-protocol ones) had no
``output_text``: code written against the openai SDK raised AttributeError on translated
and OpenResponses providers. Calls go through ``anyllm.responses()`` to loopback servers
that send OpenAI-shaped chat completions (https://platform.openai.com/docs/api-reference/chat/object)
and spec-valid Responses bodies made by the library's own state machine (``tests.helpers.synth``).
"""

from __future__ import annotations

from typing import Any

import openai.types.responses
import openresponses_types
import pytest

import anyllm
import anyllm.types
from tests.helpers.loopback import LoopbackServer, Reply
from tests.helpers.synth import synth_events, synth_response


def _completion(message: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }


def _translated(message: dict[str, Any], finish: str = "stop") -> Any:
    with LoopbackServer(Reply.json(_completion(message, finish))) as server:
        return anyllm.responses("m", "hi", provider="llamacpp", api_base=server.url)


def test_a_translated_response_has_output_text_and_stays_a_response_resource() -> None:
    response = _translated({"content": "Hello there"})
    assert isinstance(response, openresponses_types.ResponseResource)
    # anyllm.types.ResponseResource: the class at run time, and what type checkers see
    assert isinstance(response, anyllm.types.ResponseResource)
    assert response.output_text == "Hello there"
    assert anyllm.output_text(response) == "Hello there"
    # a property, not a field: dumps stay what the spec defines
    assert "output_text" not in response.model_dump()
    assert "output_text" not in openresponses_types.ResponseResource.model_fields


def test_reasoning_and_text_count_only_the_text() -> None:
    response = _translated({"content": "Answer.", "reasoning_content": "Thinking first."})
    assert [item.type for item in response.output] == ["reasoning", "message"]
    assert response.output_text == "Answer."


def test_a_tool_call_alone_has_empty_output_text() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    response = _translated({"content": None, "tool_calls": [call]}, finish="tool_calls")
    assert [item.type for item in response.output] == ["function_call"]
    assert response.output_text == ""


def test_an_openresponses_server_reply_has_output_text() -> None:
    with LoopbackServer(Reply.json(synth_response(text="Hello from loopback"))) as server:
        response = anyllm.responses("m", "hi", provider="openresponses", api_base=f"{server.url}/v1")
    assert isinstance(response, openresponses_types.ResponseResource)
    assert anyllm.output_text(response) == "Hello from loopback"
    assert not isinstance(response, openai.types.responses.Response)
    assert response.output_text == "Hello from loopback"  # typed: responses() declares it


@pytest.mark.parametrize("provider", ["openresponses", "llamacpp"])
def test_streamed_responses_have_output_text(provider: str) -> None:
    """The ``response`` carried by ``response.completed`` is the same class, with the text
    the deltas carried."""
    if provider == "openresponses":
        reply = Reply.sse(synth_events(text="Streamed words here"))
    else:
        chunks = [{"content": "Streamed "}, {"content": "words here"}]
        base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        bodies = [
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in chunks
        ]
        bodies.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        reply = Reply.sse(bodies, named=False)
    with LoopbackServer(reply) as server:
        events = list(
            anyllm.responses("m", "hi", provider=provider, api_base=f"{server.url}/v1", stream=True)
        )
    deltas = "".join(
        getattr(event, "delta", "") for event in events if event.type == "response.output_text.delta"
    )
    completed = events[-1]
    assert isinstance(completed, openresponses_types.ResponseCompletedStreamingEvent)
    response = completed.response
    assert isinstance(response, openresponses_types.ResponseResource)
    assert isinstance(response, anyllm.types.ResponseResource)
    assert response.output_text == deltas == "Streamed words here"


def test_the_helper_agrees_with_openais_own_property() -> None:
    with LoopbackServer(Reply.json(synth_response(text="Same text"))) as server:
        response = anyllm.responses("m", "hi", provider="openai", api_base=f"{server.url}/v1", api_key="k")
    assert isinstance(response, openai.types.responses.Response)
    assert anyllm.output_text(response) == response.output_text == "Same text"
