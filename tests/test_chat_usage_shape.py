"""A chat reply whose usage counts are not numbers is the provider's fault, typed and named.

``usage.prompt_tokens: "x"`` made the chat bridge raise a bare ``ValueError`` from
``int()``: a provider author driving the bridge (``anyllm.translate.base.Bridge``) got an
untyped exception, and ``responses()`` a message about ``int()`` instead of the field.
Replies come from a real loopback server; the shapes are OpenAI's chat completion and
chunk objects (https://platform.openai.com/docs/api-reference/chat/object) with one
member of the wrong type.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import anyllm
from anyllm.errors import ProviderError, StreamError
from anyllm.providers.base import ClientConfig
from anyllm.providers.http import HttpTransport
from anyllm.providers.registry import provider_metadata
from anyllm.translate.chat import ChatBridge, dialect_for
from anyllm.translate.stream import ResponseStreamBuilder
from tests.helpers.events import acollect, collect
from tests.helpers.loopback import LoopbackServer, Reply, Seen


def _completion(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": usage,
    }


def _chunks(usage: dict[str, Any]) -> Reply:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}],
        },
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**base, "choices": [], "usage": usage},
    ]
    frames = [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=frames)


BAD_USAGE = [
    pytest.param({"prompt_tokens": "x", "completion_tokens": 2}, "prompt_tokens", id="string"),
    pytest.param({"prompt_tokens": 1, "completion_tokens": [2]}, "completion_tokens", id="list"),
    pytest.param({"prompt_tokens": 1.5, "completion_tokens": 2}, "prompt_tokens", id="fraction"),
    pytest.param({"prompt_tokens": -1, "completion_tokens": 2}, "prompt_tokens", id="negative"),
    pytest.param({"prompt_tokens": True, "completion_tokens": 2}, "prompt_tokens", id="bool"),
]


def _server(usage: dict[str, Any]) -> LoopbackServer:
    def handler(seen: Seen) -> Reply:
        return _chunks(usage) if seen.json().get("stream") else Reply.json(_completion(usage))

    return LoopbackServer(handler)


@pytest.mark.parametrize(("usage", "field"), BAD_USAGE)
def test_the_bridge_raises_a_typed_error_naming_the_field(usage: dict[str, Any], field: str) -> None:
    """The bridge itself, given the reply the server sent (read by the library's transport)."""
    meta = provider_metadata("llamacpp")
    with _server(usage) as server:
        transport = HttpTransport(ClientConfig(meta, server.url, None), headers={})
        try:
            reply = transport.post_json("chat/completions", {"model": "m", "messages": []})
        finally:
            transport.close()
    bridge = ChatBridge(dialect_for("llamacpp", tools=True, images=False))
    builder = ResponseStreamBuilder({"model": "m", "input": "hi"}, model="m")
    builder.start()
    with pytest.raises(ProviderError, match=rf"usage\.{field}") as info:
        bridge.translate_response(reply, builder)
    assert info.value.provider == "llamacpp"


@pytest.mark.parametrize(("usage", "field"), BAD_USAGE)
def test_responses_names_the_field(usage: dict[str, Any], field: str) -> None:
    with (
        _server(usage) as server,
        pytest.raises(ProviderError, match=rf"llamacpp sent usage\.{field} ") as info,
    ):
        anyllm.responses("m", "hi", provider="llamacpp", api_base=server.url)
    assert not isinstance(info.value, StreamError)


STRING_USAGE = {"prompt_tokens": "x", "completion_tokens": 2, "total_tokens": 3}


def _failed_as_stream_error(events: list[dict[str, Any]], error: Exception | None) -> None:
    assert isinstance(error, StreamError), error
    assert "llamacpp sent usage.prompt_tokens 'x'" in str(error)
    assert [event["type"] for event in events[-2:]] == ["error", "response.failed"]


def test_a_stream_names_the_field_after_its_failure_events() -> None:
    with _server(STRING_USAGE) as server:
        stream = anyllm.responses("m", "hi", provider="llamacpp", api_base=server.url, stream=True)
        _failed_as_stream_error(*collect(stream))


async def test_async_calls_name_the_field() -> None:
    with _server(STRING_USAGE) as server:
        with pytest.raises(ProviderError, match=r"usage\.prompt_tokens 'x'"):
            await anyllm.aresponses("m", "hi", provider="llamacpp", api_base=server.url)
        stream = await anyllm.aresponses("m", "hi", provider="llamacpp", api_base=server.url, stream=True)
        _failed_as_stream_error(*await acollect(stream))


def test_whole_number_counts_are_still_read() -> None:
    """JSON has one number type: ``3.0`` is a count of 3, and absent counts are 0."""
    with _server({"prompt_tokens": 3.0, "completion_tokens": 2}) as server:
        response = anyllm.responses("m", "hi", provider="llamacpp", api_base=server.url)
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (3, 2, 5)
