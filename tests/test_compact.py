"""``anyllm.compact()`` / ``acompact()``: ``POST /responses/compact``, over real sockets.

The happy path runs against ``tests.helpers.ws_server.SpecWebSocketServer`` (a test helper
that follows the spec; every real local server answers 404 here), the 404 and bad-reply
paths against it and ``tests.helpers.loopback.LoopbackServer``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import anyllm
from anyllm.errors import InvalidRequestError, NotFoundError, ProviderError, UnsupportedProviderError
from tests.helpers.faults import refused_url
from tests.helpers.loopback import LoopbackServer, Reply
from tests.helpers.ws_server import SpecWebSocketServer

CONVERSATION: list[dict[str, Any]] = [
    {"type": "message", "role": "user", "content": "Create a landing page for a dog cafe."},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Here it is."}]},
]


@pytest.fixture
def server() -> Iterator[SpecWebSocketServer]:
    with SpecWebSocketServer() as running:
        yield running


def test_compact_returns_the_typed_compact_resource(server: SpecWebSocketServer) -> None:
    from openresponses_types import CompactResource

    result = anyllm.compact(
        "loopback-model",
        CONVERSATION,
        provider="openresponses",
        api_base=server.base_url,
        instructions="be brief",
    )
    assert isinstance(result, CompactResource)
    assert result.object.value == "response.compaction"
    assert [item.type for item in result.output] == ["message", "compaction"]
    assert server.compactions == [
        {"model": "loopback-model", "input": CONVERSATION, "instructions": "be brief"}
    ]
    dumped = result.model_dump(mode="json")
    assert dumped["object"] == "response.compaction" and dumped["output"][1]["type"] == "compaction"


def test_the_next_websocket_turn_starts_from_the_compacted_window(server: SpecWebSocketServer) -> None:
    """Spec "WebSocket Compaction": "After standalone compaction, clients MUST start a new
    response on the WebSocket by omitting previous_response_id ..., passing the compacted
    output as the base input, and appending the latest user or tool items"."""
    with anyllm.responses_websocket(
        "loopback-model", provider="openresponses", api_base=server.base_url
    ) as ws:
        ws.create("one", store=True).drain()
        ws.create("two", store=True).drain()
        compacted = anyllm.compact(
            "loopback-model",
            provider="openresponses",
            api_base=server.base_url,
            previous_response_id=ws.previous_response_id,
        )
        latest = {"type": "message", "role": "user", "content": "three"}
        response = ws.create([*anyllm.compacted_input(compacted), latest], previous_response_id=None).drain()
    message = json.loads(server.connections[0].received[-1])
    assert "previous_response_id" not in message
    assert message["input"][-1] == latest and message["input"][-2]["type"] == "compaction"
    # the server read the compacted window back: one, reply, two, reply, three
    assert response.output[0].content[0].text == "turn 3: 5 items in context"


async def test_acompact(server: SpecWebSocketServer) -> None:
    result = await anyllm.acompact("loopback-model", "hi", provider="openresponses", api_base=server.base_url)
    assert result.output[0].content[0].text == "hi"


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_openai_protocol_returns_the_sdks_compacted_response(asynchronous: bool) -> None:
    from openai.types.responses import CompactedResponse

    with SpecWebSocketServer(api_key="sk-compact") as server:
        args: dict[str, Any] = {"provider": "openai", "api_base": server.base_url, "api_key": "sk-compact"}
        if asynchronous:
            result = await anyllm.acompact("loopback-model", CONVERSATION, **args)
        else:
            result = anyllm.compact("loopback-model", CONVERSATION, **args)
    assert isinstance(result, CompactedResponse) and result.object == "response.compaction"
    assert result.output[-1].type == "compaction"


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_server_without_the_endpoint_is_not_found(
    server: SpecWebSocketServer, provider: str, asynchronous: bool
) -> None:
    """What llama-server, open-responses-server and LiteLLM's proxy answer: 404."""
    server.faults.compaction = False
    args: dict[str, Any] = {"provider": provider, "api_base": server.base_url, "api_key": "k"}
    with pytest.raises(NotFoundError) as info:
        if asynchronous:
            await anyllm.acompact("m", "hi", **args)
        else:
            anyllm.compact("m", "hi", **args)
    assert info.value.status_code == 404 and info.value.provider == provider


def test_an_unknown_previous_response_is_a_typed_error(server: SpecWebSocketServer) -> None:
    with pytest.raises(InvalidRequestError) as info:
        anyllm.compact(
            "m", provider="openresponses", api_base=server.base_url, previous_response_id="resp_nope"
        )
    assert info.value.code == "previous_response_not_found" and info.value.status_code == 400


@pytest.mark.parametrize(
    "body",
    [{"id": "x", "object": "response"}, {"not": "a compaction"}, [1, 2]],
    ids=["response", "other", "list"],
)
@pytest.mark.parametrize("provider", ["openresponses", "openai"])
def test_a_reply_that_is_not_a_compaction_is_refused(provider: str, body: object) -> None:
    with LoopbackServer(Reply.json(body)) as loop, pytest.raises(ProviderError, match="compact"):
        anyllm.compact("m", "hi", provider=provider, api_base=loop.url, api_key="k")


@pytest.mark.parametrize("provider", ["mistral", "anthropic", "gemini", "llamacpp", "together"])
def test_translated_providers_raise_unsupported_naming_the_provider(provider: str) -> None:
    with pytest.raises(
        UnsupportedProviderError, match=f"provider '{provider}' has no /responses/compact"
    ) as info:
        anyllm.compact("m", "hi", provider=provider, api_key="k", api_base=refused_url())
    assert info.value.provider == provider


@pytest.mark.parametrize(
    ("args", "param"),
    [
        ({}, "input"),
        ({"input_data": 5}, "input"),
        ({"input_data": "x", "instructions": ""}, "instructions"),
        ({"input_data": "x", "input": "y"}, "input"),
        ({"input_data": "x", "metadata": {"k": {1, 2}}}, "metadata.k"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(args: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        anyllm.compact("m", provider="openresponses", api_base=refused_url(), **args)  # type: ignore[arg-type]
    assert info.value.param == param
