"""The Responses WebSocket transport (``anyllm.responses_websocket``), over real sockets.

Every test talks to ``tests.helpers.ws_server.SpecWebSocketServer``, a loopback server that
follows the spec's WebSocket sections exactly (a test helper: no real server here does),
through the real ``websockets`` client the library uses. Fault switches make it misbehave.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

import anyllm
from anyllm.errors import (
    AnyLLMError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PreviousResponseNotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ResponseInFlightError,
    StreamError,
    UnsupportedProviderError,
    WebSocketConnectionLimitReachedError,
)
from tests.helpers.conformance import assert_stream_conforms
from tests.helpers.events import dump
from tests.helpers.faults import refused_url
from tests.helpers.ws_server import SpecWebSocketServer, envelope


@pytest.fixture
def server() -> Iterator[SpecWebSocketServer]:
    with SpecWebSocketServer() as running:
        yield running


def session(server: SpecWebSocketServer, **client_args: Any) -> Any:
    return anyllm.responses_websocket(
        "loopback-model", provider="openresponses", api_base=server.base_url, client_args=client_args or None
    )


def asession(server: SpecWebSocketServer, **client_args: Any) -> Any:
    return anyllm.aresponses_websocket(
        "loopback-model", provider="openresponses", api_base=server.base_url, client_args=client_args or None
    )


def sent(server: SpecWebSocketServer, connection: int = 0) -> list[dict[str, Any]]:
    """The messages the server received on a connection, decoded."""
    return [json.loads(text) for text in server.connections[connection].received]


def text_of(response: Any) -> str:
    return str(response.output[0].content[0].text)


# -- turns -------------------------------------------------------------------------------------


def test_sync_turn_yields_the_typed_events_of_http_streaming(server: SpecWebSocketServer) -> None:
    from openresponses_types import ResponseCompletedStreamingEvent

    with session(server) as ws:
        turn = ws.create("Find the bug", store=False, temperature=0.2)
        events = list(turn)
    assert isinstance(events[-1], ResponseCompletedStreamingEvent)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert_stream_conforms(dump(e) for e in events)
    assert text_of(turn.response) == "turn 1: 1 items in context"
    # spec: "Clients MUST start each turn by sending a JSON object with type: response.create"
    assert server.connections[0].received[0].startswith('{"type":"response.create"')
    assert sent(server) == [
        {
            "type": "response.create",
            "model": "loopback-model",
            "input": "Find the bug",
            "store": False,
            "temperature": 0.2,
        }
    ]


async def test_async_turn_and_continuation(server: SpecWebSocketServer) -> None:
    async with asession(server) as ws:
        turn = await ws.create("hi", store=False)
        events = [event async for event in turn]
        second = await (
            await ws.create([{"type": "message", "role": "user", "content": "more"}], store=False)
        ).drain()
    assert_stream_conforms(dump(e) for e in events)
    assert text_of(turn.response) == "turn 1: 1 items in context"
    assert text_of(second) == "turn 2: 3 items in context"  # hi, the reply, more
    assert sent(server)[1]["previous_response_id"] == turn.response.id


def test_continuation_sends_the_previous_id_and_only_the_new_items(server: SpecWebSocketServer) -> None:
    """Spec "WebSocket Continuation": "A follow-up response.create message SHOULD include only
    new input items ... plus the previous_response_id of the prior response"."""
    new_items = [{"type": "message", "role": "user", "content": "Now optimize it."}]
    with session(server) as ws:
        first = ws.create("Find the bug", store=False).drain()
        assert ws.previous_response_id == first.id
        second = ws.create(new_items, store=False).drain()
        third = ws.create("again", store=False).drain()
    messages = sent(server)
    assert "previous_response_id" not in messages[0]
    assert messages[1]["previous_response_id"] == first.id and messages[1]["input"] == new_items
    assert messages[2]["previous_response_id"] == second.id
    assert text_of(third) == "turn 3: 5 items in context"


def test_previous_response_id_none_starts_a_new_chain_and_a_string_is_sent_as_given(
    server: SpecWebSocketServer,
) -> None:
    with session(server) as ws:
        first = ws.create("one", store=True).drain()
        ws.create("two", store=True).drain()
        fresh = ws.create("three", previous_response_id=None).drain()
        chosen = ws.create("four", previous_response_id=first.id).drain()
    messages = sent(server)
    assert "previous_response_id" not in messages[2]  # "omitting previous_response_id"
    assert text_of(fresh) == "turn 3: 1 items in context"
    assert messages[3]["previous_response_id"] == first.id
    assert text_of(chosen) == "turn 4: 3 items in context"  # hydrated from the persisted store


def test_openai_protocol_sessions_yield_the_sdks_event_types() -> None:
    from openai.types.responses import Response, ResponseCompletedEvent, ResponseTextDeltaEvent

    with SpecWebSocketServer(api_key="sk-loopback-key") as server:
        ws = anyllm.responses_websocket(
            "loopback-model", provider="openai", api_base=server.base_url, api_key="sk-loopback-key"
        )
        with ws:
            events = list(ws.create("hi", store=False))
            frames = ws.frames
        assert server.connections[0].headers["authorization"] == "Bearer sk-loopback-key"
    assert any(isinstance(e, ResponseTextDeltaEvent) for e in events)
    assert isinstance(events[-1], ResponseCompletedEvent) and isinstance(events[-1].response, Response)
    assert [f.direction for f in frames] == ["send"] + ["recv"] * len(events)
    assert not any("sk-loopback-key" in f.text for f in frames)  # the key travels in a header only


def test_a_frame_larger_than_one_mebibyte_is_read(server: SpecWebSocketServer) -> None:
    """websockets refuses frames over 1 MiB by default; a large response is one event, as
    over SSE, and the SSE bound (MAX_EVENT_BYTES) applies instead."""
    server.reply_text = "x" * (3 * 1024 * 1024)
    with session(server) as ws:
        response = ws.create("long", store=False).drain()
    assert len(text_of(response)) == 3 * 1024 * 1024


# -- what is refused before sending ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("stream", True),
        ("stream", False),
        ("stream_options", {"include_obfuscation": False}),
        ("background", True),
    ],
)
def test_the_fields_the_spec_forbids_are_refused_before_sending(
    server: SpecWebSocketServer, name: str, value: Any
) -> None:
    """Spec: "stream, stream_options, and background MUST NOT be sent on WebSocket requests"."""
    with (
        session(server) as ws,
        pytest.raises(InvalidRequestError, match="cannot be sent on a WebSocket") as info,
    ):
        ws.create("hi", **{name: value})
    assert info.value.param == name
    assert server.connections[0].received == []


async def test_the_async_session_refuses_them_too(server: SpecWebSocketServer) -> None:
    async with asession(server) as ws:
        with pytest.raises(InvalidRequestError) as info:
            await ws.create("hi", background=True)
    assert info.value.param == "background" and server.connections[0].received == []


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"model": "other"}, "model"),
        ({"type": "response.cancel"}, "type"),
        ({"previous_response_id": 7}, "previous_response_id"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"reasoning": {"effort": "minimal"}}, "reasoning"),  # not in the spec's enum: openresponses
    ],
)
def test_the_checks_of_responses_apply_before_sending(
    server: SpecWebSocketServer, params: dict[str, Any], param: str
) -> None:
    with session(server) as ws, pytest.raises(InvalidRequestError) as info:
        ws.create("hi", **params)
    assert info.value.param == param
    assert server.connections[0].received == []


def test_bad_input_is_refused_before_sending(server: SpecWebSocketServer) -> None:
    with session(server) as ws, pytest.raises(InvalidRequestError) as info:
        ws.create([{"type": "message", "role": "robot", "content": "x"}])
    assert info.value.param == "input[0].role" and server.connections[0].received == []


@pytest.mark.parametrize("provider", ["mistral", "anthropic", "gemini", "llamacpp"])
def test_translated_providers_have_no_websocket(provider: str) -> None:
    with pytest.raises(
        UnsupportedProviderError, match=f"provider '{provider}' has no Responses WebSocket"
    ) as info:
        anyllm.responses_websocket("m", provider=provider, api_key="k", api_base=refused_url())
    assert info.value.provider == provider


def test_http_only_client_args_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        anyllm.responses_websocket(
            "m", provider="openresponses", api_base=refused_url(), client_args={"max_retries": 2}
        )
    assert info.value.param == "client_args.max_retries"


def test_a_session_must_be_open_and_not_closed(server: SpecWebSocketServer) -> None:
    ws = session(server)
    with pytest.raises(InvalidRequestError, match="not open"):
        ws.create("hi")
    with ws:
        ws.create("hi").drain()
    with pytest.raises(InvalidRequestError, match="is closed"):
        ws.create("hi")
    assert len(server.connections[0].received) == 1


# -- one in-flight response ----------------------------------------------------------------------


def test_a_second_turn_while_one_is_in_flight_is_refused(server: SpecWebSocketServer) -> None:
    """Spec: "A single WebSocket connection MUST process at most one in-flight response"."""
    with session(server) as ws:
        turn = ws.create("first", store=False)
        next(turn)
        with pytest.raises(ResponseInFlightError, match="still in flight"):
            ws.create("second", store=False)
        assert len(server.connections[0].received) == 1  # nothing was sent
        assert ws.in_flight
        turn.drain()
        assert not ws.in_flight
        assert text_of(ws.create("second", store=False).drain()) == "turn 2: 3 items in context"


async def test_the_async_session_refuses_a_second_turn_in_flight(server: SpecWebSocketServer) -> None:
    async with asession(server) as ws:
        turn = await ws.create("first")
        with pytest.raises(ResponseInFlightError):
            await ws.create("second")
        await turn.drain()
    assert len(server.connections[0].received) == 1


def test_the_server_processes_creates_sequentially_unless_told_to_interleave(
    server: SpecWebSocketServer,
) -> None:
    """The helper itself, for the harness: two creates sent at once are answered one after
    the other; the ``interleave`` fault breaks that on purpose."""

    def lifecycle() -> list[str]:
        """The created / completed events of two creates sent back to back, in order."""
        create = json.dumps({"type": "response.create", "model": "m", "input": "x", "store": False})
        with connect(server.ws_url) as raw:
            raw.send(create)
            raw.send(create)
            seen: list[str] = []
            while seen.count("response.completed") < 2:
                event = json.loads(raw.recv(timeout=10))
                if event["type"] in ("response.created", "response.completed"):
                    seen.append(event["type"])
        return seen

    assert lifecycle() == ["response.created", "response.completed"] * 2  # sequential
    server.faults.interleave = True
    assert lifecycle() == ["response.created"] * 2 + ["response.completed"] * 2  # two in flight


# -- errors ----------------------------------------------------------------------------------------


def test_previous_response_not_found_has_its_own_class(server: SpecWebSocketServer) -> None:
    """Spec: with store=false "if the referenced response is not available from
    connection-local state, the server MUST fail the turn with ... previous_response_not_found"."""
    with session(server) as ws:
        with pytest.raises(PreviousResponseNotFoundError) as info:
            ws.create("hi", store=False, previous_response_id="resp_elsewhere").drain()
        error = info.value
        assert isinstance(error, NotFoundError)
        assert (error.status_code, error.code, error.param) == (
            400,
            "previous_response_not_found",
            "previous_response_id",
        )
        assert error.body["type"] == "error" and "resp_elsewhere" in error.message
        assert ws.create("fresh start", previous_response_id=None).drain() is not None  # still usable


def test_a_failed_continuation_evicts_the_store_false_response(server: SpecWebSocketServer) -> None:
    """Spec: "If a continuation turn fails with a 4xx or 5xx error, the server MUST evict the
    referenced previous_response_id ... A later attempt ... MUST fail with previous_response_not_found"."""
    server.faults.fail_next = []
    with session(server) as ws:
        first = ws.create("one", store=False).drain()
        server.faults.fail_next.append(envelope(500, "server_error", "boom"))
        with pytest.raises(ProviderError) as info:
            ws.create("two", store=False).drain()
        assert info.value.status_code == 500 and info.value.code == "server_error"
        assert ws.previous_response_id == first.id  # a failed turn leaves the chain where it was
        with pytest.raises(PreviousResponseNotFoundError):
            ws.create("two again", store=False).drain()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "invalid_request_error", InvalidRequestError),
        (401, "invalid_api_key", AuthenticationError),
        (404, "model_not_found", NotFoundError),
        (429, "rate_limit_exceeded", RateLimitError),
        (500, "server_error", ProviderError),
    ],
)
def test_error_envelopes_map_by_status(
    server: SpecWebSocketServer, status: int, code: str, kind: type[AnyLLMError]
) -> None:
    server.faults.fail_next.append(envelope(status, code, f"failed with {code}"))
    with session(server) as ws:
        turn = ws.create("hi")
        with pytest.raises(kind) as info:
            next(turn)
        assert (info.value.status_code, info.value.code, info.value.message) == (
            status,
            code,
            f"failed with {code}",
        )
        assert turn.done and list(turn) == []
        assert ws.create("hi").drain() is not None  # the connection goes on


def test_connection_limit_reached_has_its_own_class(server: SpecWebSocketServer) -> None:
    """Spec "WebSocket Reconnects": "servers MUST return an error whose code is
    websocket_connection_limit_reached and clients SHOULD open a new WebSocket connection"."""
    server.faults.connection_limit_turns = 1
    with session(server) as ws:
        ws.create("hi").drain()
        with pytest.raises(WebSocketConnectionLimitReachedError) as info:
            ws.create("again").drain()
        assert isinstance(info.value, ProviderConnectionError)
        assert info.value.code == "websocket_connection_limit_reached"
        with pytest.raises(ProviderConnectionError, match="cannot send"):
            ws.create("once more")
        assert len(server.connections[0].received) == 2  # nothing sent after the limit
    with session(server) as fresh:  # a new connection goes on from the persisted response
        assert fresh.create("hi").drain() is not None


def test_a_response_failed_is_yielded_then_raised(server: SpecWebSocketServer) -> None:
    server.faults.fail_response = True
    with session(server) as ws:
        turn = ws.create("hi")
        seen: list[str] = []
        with pytest.raises(StreamError, match="failed this response on purpose"):
            for event in turn:
                seen.append(event.type)
        assert seen[-2:] == ["error", "response.failed"]
        server.faults.fail_response = False
        assert ws.create("hi").drain() is not None  # the error event did not end the turn early


def test_a_frame_that_is_not_json_is_a_stream_error(server: SpecWebSocketServer) -> None:
    server.faults.garbage_after_events = 3
    with session(server) as ws, pytest.raises(StreamError, match="not JSON"):
        ws.create("hi").drain()


def test_a_connection_cut_mid_turn_is_a_stream_error(server: SpecWebSocketServer) -> None:
    server.faults.close_after_events = 4
    with session(server) as ws:
        with pytest.raises(StreamError, match="close code 1011"):
            ws.create("hi").drain()
        with pytest.raises(ProviderConnectionError, match="closed"):
            ws.create("hi")


async def test_the_async_session_types_a_cut_connection(server: SpecWebSocketServer) -> None:
    server.faults.close_after_events = 2
    async with asession(server) as ws:
        with pytest.raises(StreamError, match="close code 1011"):
            await (await ws.create("hi")).drain()


def test_a_stalled_turn_times_out_and_gives_up_the_connection(server: SpecWebSocketServer) -> None:
    server.faults.stall_after_events = 3
    with session(server, timeout=0.5) as ws:
        turn = ws.create("hi")
        with pytest.raises(ProviderTimeoutError, match=r"no WebSocket event within 0\.5 s"):
            turn.drain()
        with pytest.raises(ProviderConnectionError, match="cannot send"):
            ws.create("hi")


async def test_the_async_session_times_out_too(server: SpecWebSocketServer) -> None:
    server.faults.stall_after_events = 0
    async with asession(server, timeout=0.5) as ws:
        with pytest.raises(ProviderTimeoutError):
            await (await ws.create("hi")).drain()


# -- the handshake -----------------------------------------------------------------------------------


def test_a_refused_handshake_raises_the_http_error_class() -> None:
    with SpecWebSocketServer(api_key="sk-right") as server:
        ws = anyllm.responses_websocket(
            "m", provider="openresponses", api_base=server.base_url, api_key="sk-wrong"
        )
        with pytest.raises(AuthenticationError) as info:
            ws.__enter__()
        assert info.value.status_code == 401
        server.faults.handshake_status = 503
        with pytest.raises(ProviderError) as failed:
            anyllm.responses_websocket(
                "m", provider="openresponses", api_base=server.base_url, api_key="sk-right"
            ).open()
        assert failed.value.status_code == 503


async def test_no_server_is_a_connection_error() -> None:
    with (
        pytest.raises(ProviderConnectionError),
        anyllm.responses_websocket("m", provider="openresponses", api_base=refused_url()),
    ):
        pass
    with pytest.raises(ProviderConnectionError):
        async with anyllm.aresponses_websocket("m", provider="vllm", api_base=refused_url()):
            pass


def test_the_websocket_url_follows_the_api_base() -> None:
    ws = anyllm.responses_websocket("m", provider="openresponses", api_base="https://example.invalid/v1/")
    assert ws.url == "wss://example.invalid/v1/responses"
    assert "sk" not in repr(anyllm.responses_websocket("m", provider="openai", api_key="sk-secret"))
