"""Property: responses() given arbitrary arguments either sends a valid request or raises a
clear typed error before the network; never a crash, never a hang.

The "network" is a real HTTP server on 127.0.0.1 that answers every protocol correctly
and counts requests: an InvalidRequestError must leave the count unchanged, a success
must have sent exactly one request whose body the provider's protocol accepts
(:func:`anyllm.testing.wire_checks.wire_problems`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import anyllm
from anyllm.errors import InvalidRequestError, MissingApiKeyError
from anyllm.providers.factory import clear_backends
from anyllm.providers.registry import provider_metadata
from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.wire_checks import wire_problems
from tests.helpers.loopback import LoopbackServer, Reply, Seen
from tests.helpers.synth import synth_events, synth_response

PROVIDERS = ("openresponses", "mistral", "anthropic", "gemini")


def _chat_reply(seen: Seen) -> Reply:
    if json.loads(seen.body).get("stream"):
        chunk = {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
        return Reply(
            200,
            b"",
            {"content-type": "text/event-stream"},
            chunks=[f"data: {json.dumps(chunk)}\n\n".encode(), b"data: [DONE]\n\n"],
        )
    return Reply.json(
        {
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ]
        }
    )


def _anthropic_reply(seen: Seen) -> Reply:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    if json.loads(seen.body).get("stream"):
        events = [
            {"type": "message_start", "message": message},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
            {"type": "message_stop"},
        ]
        return Reply(
            200,
            b"",
            {"content-type": "text/event-stream"},
            chunks=[f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events],
        )
    return Reply.json({**message, "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"})


def _gemini_reply(seen: Seen) -> Reply:
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}
    if "streamGenerateContent" in seen.path:
        return Reply(
            200, b"", {"content-type": "text/event-stream"}, chunks=[f"data: {json.dumps(body)}\n\n".encode()]
        )
    return Reply.json(body)


def _responses_reply(seen: Seen) -> Reply:
    request = json.loads(seen.body)
    plain = {"model": str(request.get("model")), "input": "hi"}
    return Reply.sse(synth_events(plain)) if request.get("stream") else Reply.json(synth_response(plain))


def handler(seen: Seen) -> Reply:
    if seen.path.endswith("/chat/completions"):
        return _chat_reply(seen)
    if seen.path.endswith("/messages"):
        return _anthropic_reply(seen)
    if "/models/" in seen.path:
        return _gemini_reply(seen)
    return _responses_reply(seen)


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(handler) as running:
        yield running


def call_outcome(
    server: LoopbackServer, provider: str, input_data: Any, kwargs: dict[str, Any]
) -> tuple[str, Any]:
    """("error", exc) for an argument error, ("ok", None) for a completed call."""
    clear_backends()
    try:
        result = anyllm.responses(
            "fuzz-model",
            input_data,
            provider=provider,
            api_base=f"{server.url}/v1",
            api_key="k",
            client_args={"timeout": 20},
            **kwargs,
        )
        if kwargs.get("stream") is True:
            list(result)
    except (InvalidRequestError, MissingApiKeyError) as exc:
        return "error", exc
    return "ok", None


def wire_errors(provider: str, seen: Seen) -> list[str]:
    protocol = provider_metadata(provider).protocol
    return wire_problems(protocol, seen.json())


INPUTS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.lists(S.input_items(), min_size=1, max_size=2),
    S.wild_values(),
)


@fuzz_settings()
@given(st.sampled_from(PROVIDERS), INPUTS, S.responses_arguments())
def test_arguments_give_a_valid_request_or_a_typed_error(
    server: LoopbackServer, provider: str, input_data: Any, kwargs: dict[str, Any]
) -> None:
    before = len(server.requests)
    outcome, error = call_outcome(server, provider, input_data, kwargs)
    sent = server.requests[before:]
    if outcome == "error":
        assert sent == [], f"{type(error).__name__} raised after a request was sent"
        assert str(error), "the error says nothing"
        return
    assert len(sent) == 1
    assert wire_errors(provider, sent[0]) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model", 3),
        ("model", ""),
        ("provider", "no-such-provider"),
        ("temperature", float("nan")),
        ("metadata", {"k": 1}),
        ("tool_choice", "sometimes"),
        ("input_data", 42),
    ],
)
def test_typical_bad_arguments_are_refused_before_the_network(
    server: LoopbackServer, name: str, value: Any
) -> None:
    args: dict[str, Any] = {"model": "fuzz-model", "input_data": "hi", "provider": "openresponses"}
    args[name] = value
    before = len(server.requests)
    with pytest.raises(InvalidRequestError) as info:
        anyllm.responses(api_base=f"{server.url}/v1", api_key="k", **args)
    assert len(server.requests) == before
    assert info.value.param or name == "provider"


@example("openresponses", {"max_output_tokens": 5})
@example("openresponses", {"include": ["everything"]})
@example("openresponses", {"service_tier": "gold"})
@example("openresponses", {"tool_choice": {"type": "web"}})
@given(st.just("openresponses"), st.just({"max_output_tokens": 1}))
@fuzz_settings(max_examples=1)
def test_spec_invalid_values_are_refused_locally(
    server: LoopbackServer, provider: str, kwargs: dict[str, Any]
) -> None:
    before = len(server.requests)
    outcome, _ = call_outcome(server, provider, "hi", kwargs)
    assert outcome == "error" and len(server.requests) == before


@pytest.mark.parametrize(
    "input_data",
    [
        [{"type": "message", "role": "user", "content": []}],
        [{"type": "message", "role": "developer", "content": "be brief"}],
    ],
)
def test_anthropic_refuses_inputs_that_leave_no_message(server: LoopbackServer, input_data: Any) -> None:
    before = len(server.requests)
    outcome, _ = call_outcome(server, "anthropic", input_data, {})
    assert outcome == "error" and len(server.requests) == before
