"""``native_previous_response_id`` drives the native backends, through real sockets.

A native Responses server that keeps no responses (Groq: "doesn't support stateful
conversations yet", https://console.groq.com/docs/responses-api) gets ``store=True`` and
``previous_response_id`` from the local response store, as the translated providers do:
the stored conversation goes in front of the new input and the server never sees either
field. A server that keeps responses (OpenAI) gets both fields untouched, and the local
store is never opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from anyllm import aresponses, provider_metadata, responses
from anyllm.errors import NotFoundError
from anyllm.providers.base import ClientConfig
from anyllm.providers.factory import get_backend
from anyllm.request import ResponsesRequest
from anyllm.store import ResponseStore
from tests.helpers.loopback import LoopbackServer, Reply, Seen
from tests.helpers.synth import synth_events, synth_response

ANSWER = "Your name is Ada."


def _handler(seen: Seen) -> Reply:
    body = seen.json()
    if body.get("stream"):
        return Reply.sse(synth_events(body, text=ANSWER))
    return Reply.json(synth_response(body, text=ANSWER))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(_handler) as srv:
        yield srv


@pytest.fixture
def store_args(tmp_path: Path) -> dict[str, Any]:
    return {"response_store": str(tmp_path / "responses.sqlite3")}


def _call(server: LoopbackServer, provider: str, input_data: Any, **kwargs: Any) -> Any:
    return responses("m", input_data, provider=provider, api_base=server.url, api_key="k", **kwargs)


def _assistant_turn() -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "output_text", "text": ANSWER}]}


def _without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("id", "status", "type")} for item in items]


def test_the_registry_says_who_keeps_responses() -> None:
    assert provider_metadata("groq").native_previous_response_id is False
    assert provider_metadata("groq").previous_response_id is True  # backed by the local store
    assert provider_metadata("openai").native_previous_response_id is True


def test_a_stateless_server_gets_the_stored_conversation(
    server: LoopbackServer, store_args: dict[str, Any]
) -> None:
    first = _call(server, "groq", "My name is Ada.", store=True, client_args=store_args)
    sent = server.last().json()
    assert "store" not in sent and "previous_response_id" not in sent
    assert ResponseStore(store_args["response_store"]).load(first.id) is not None

    _call(server, "groq", "What is my name?", previous_response_id=first.id, client_args=store_args)
    sent = server.last().json()
    assert "previous_response_id" not in sent and "store" not in sent
    assert sent["input"][0] == {"type": "message", "role": "user", "content": "My name is Ada."}
    assert _without_ids(sent["input"][1:2]) == [_assistant_turn()]
    assert sent["input"][2] == {"type": "message", "role": "user", "content": "What is my name?"}


def test_a_streamed_response_is_stored_too(server: LoopbackServer, store_args: dict[str, Any]) -> None:
    events = list(_call(server, "groq", "My name is Ada.", store=True, stream=True, client_args=store_args))
    assert events[-1].type == "response.completed"
    assert server.last().json()["stream"] is True
    stored_id = events[-1].response.id
    streamed = _call(
        server, "groq", "And again?", previous_response_id=stored_id, stream=True, client_args=store_args
    )
    assert list(streamed)[-1].type == "response.completed"
    sent = server.last().json()
    assert sent["stream"] is True and "previous_response_id" not in sent
    assert len(sent["input"]) == 3


async def test_the_async_path_uses_the_store_the_same_way(
    server: LoopbackServer, store_args: dict[str, Any]
) -> None:
    first = await aresponses(
        "m",
        "My name is Ada.",
        provider="groq",
        api_base=server.url,
        api_key="k",
        store=True,
        client_args=store_args,
    )
    await aresponses(
        "m",
        "Name?",
        provider="groq",
        api_base=server.url,
        api_key="k",
        previous_response_id=first.id,
        client_args=store_args,
    )
    assert len(server.last().json()["input"]) == 3


def test_without_store_true_nothing_is_kept(server: LoopbackServer, store_args: dict[str, Any]) -> None:
    first = _call(server, "groq", "hi", client_args=store_args)
    assert not Path(store_args["response_store"]).exists()
    with pytest.raises(NotFoundError) as caught:
        _call(server, "groq", "again", previous_response_id=first.id, client_args=store_args)
    assert caught.value.param == "previous_response_id"
    assert len(server.requests) == 1, "a missing previous response must fail before any request"


def test_a_stateful_server_gets_both_fields_and_the_store_stays_closed(
    server: LoopbackServer, store_args: dict[str, Any]
) -> None:
    _call(server, "openai", "hi", store=True, previous_response_id="resp_on_server", client_args=store_args)
    sent = server.last().json()
    assert sent["store"] is True and sent["previous_response_id"] == "resp_on_server"
    assert sent["input"] == "hi"
    assert not Path(store_args["response_store"]).exists()


def test_the_openresponses_backend_follows_the_same_metadata(
    server: LoopbackServer, store_args: dict[str, Any]
) -> None:
    """No registered OpenResponses server lacks state today; the field still drives it."""
    meta = replace(provider_metadata("openresponses"), native_previous_response_id=False)
    backend = get_backend(ClientConfig(meta, server.url, None, store_args))
    first = backend.create(ResponsesRequest({"model": "m", "input": "My name is Ada.", "store": True}))
    follow_up = {"model": "m", "input": "Name?", "previous_response_id": first.id, "store": True}
    events = list(backend.stream(ResponsesRequest(follow_up, stream=True)))
    sent = server.last().json()
    assert sent["stream"] is True and "previous_response_id" not in sent and "store" not in sent
    assert _without_ids(sent["input"][1:2]) == [_assistant_turn()] and len(sent["input"]) == 3
    assert ResponseStore(store_args["response_store"]).load(events[-1].response.id) is not None
