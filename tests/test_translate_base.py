"""What every bridge shares (anyllm.translate.base) and the one typed request (anyllm.request).

The rules here used to be written once per bridge, and disagreed: Anthropic's
``allowed_tool_names`` said "no restriction" with an empty set and ignored a
``{"type": "function"}`` choice, Gemini's said it with None and honoured it. Now there is
one of each rule, and both bridges enforce a named-function choice on the reply.
"""

from __future__ import annotations

from typing import Any

import pytest

from anyllm.errors import ProviderError, UnsupportedParameterError
from anyllm.request import ResponsesRequest
from anyllm.spec import REQUEST_FIELDS
from anyllm.translate import anthropic, chat, gemini
from anyllm.translate.base import (
    Bridge,
    allowed_tool_names,
    check_tool_allowed,
    check_unsupported,
    input_items,
    passthrough_fields,
)
from anyllm.translate.stream import ResponseStreamBuilder

# -- allowed_tool_names ------------------------------------------------------------------------


@pytest.mark.parametrize("choice", [None, "auto", "none", "required", {"type": "web_search"}, 7])
def test_choices_that_restrict_nothing_give_none(choice: Any) -> None:
    assert allowed_tool_names(choice) is None


def test_a_named_function_permits_that_function_only() -> None:
    assert allowed_tool_names({"type": "function", "name": "lookup"}) == frozenset({"lookup"})


def test_allowed_tools_permit_the_listed_functions() -> None:
    choice = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "b"}, "junk", {}],
    }
    assert allowed_tool_names(choice) == frozenset({"a", "b"})


def test_an_empty_allowed_list_permits_nothing_rather_than_everything() -> None:
    assert allowed_tool_names({"type": "allowed_tools", "tools": []}) == frozenset()


def test_check_tool_allowed() -> None:
    check_tool_allowed(None, "anything", "p")
    check_tool_allowed(frozenset({"a"}), "a", "p")
    with pytest.raises(ProviderError) as caught:
        check_tool_allowed(frozenset({"a"}), "b", "p")
    assert caught.value.code == "tool_not_allowed" and caught.value.provider == "p"


def _anthropic_tool_reply(name: str) -> dict[str, Any]:
    return {
        "type": "message",
        "model": "claude",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _gemini_tool_reply(name: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"parts": [{"functionCall": {"name": name, "args": {}}}]}, "finishReason": "STOP"}
        ]
    }


@pytest.mark.parametrize(
    ("translate", "reply"),
    [(anthropic.translate_response, _anthropic_tool_reply), (gemini.translate_response, _gemini_tool_reply)],
    ids=["anthropic", "gemini"],
)
@pytest.mark.parametrize(
    "choice",
    [
        {"type": "function", "name": "lookup"},
        {"type": "allowed_tools", "tools": [{"type": "function", "name": "lookup"}]},
    ],
    ids=["function", "allowed_tools"],
)
def test_both_bridges_reject_a_call_outside_the_choice(
    translate: Any, reply: Any, choice: dict[str, Any]
) -> None:
    request = {"model": "m", "input": "hi", "tool_choice": choice}
    allowed = ResponseStreamBuilder(request, model="m")
    allowed.start()
    translate(reply("lookup"), allowed)
    assert allowed.finished
    refused = ResponseStreamBuilder(request, model="m")
    refused.start()
    with pytest.raises(ProviderError) as caught:
        translate(reply("delete_everything"), refused)
    assert caught.value.code == "tool_not_allowed"


# -- check_unsupported -------------------------------------------------------------------------


def test_a_field_outside_the_supported_set_fails_naming_it() -> None:
    supported = REQUEST_FIELDS - {"max_tool_calls"}
    with pytest.raises(UnsupportedParameterError) as caught:
        check_unsupported({"max_tool_calls": 2}, supported, "acme", {"max_tool_calls": "no limit there"})
    assert caught.value.param == "max_tool_calls" and caught.value.provider == "acme"
    assert str(caught.value).startswith("acme cannot express max_tool_calls: no limit there")


@pytest.mark.parametrize(
    ("name", "neutral", "used"),
    [
        ("presence_penalty", 0, 0.5),
        ("top_logprobs", 0, 2),
        ("background", False, True),
        ("truncation", "disabled", "auto"),
        ("service_tier", "default", "flex"),
        ("include", [], ["reasoning.encrypted_content"]),
        ("user", None, "u1"),
    ],
)
def test_neutral_values_of_an_unsupported_field_pass(name: str, neutral: Any, used: Any) -> None:
    supported = REQUEST_FIELDS - {name}
    check_unsupported({name: neutral}, supported, "acme", {})
    with pytest.raises(UnsupportedParameterError, match=name):
        check_unsupported({name: used}, supported, "acme", {})


def test_a_reason_may_quote_the_value() -> None:
    with pytest.raises(UnsupportedParameterError, match="'flex' is not offered"):
        check_unsupported(
            {"service_tier": "flex"}, set(), "acme", {"service_tier": "{value!r} is not offered"}
        )


def test_supported_fields_are_never_checked() -> None:
    check_unsupported({"max_tool_calls": 2, "background": True}, REQUEST_FIELDS, "acme", {})


# -- field tables and input --------------------------------------------------------------------


def test_passthrough_fields_are_the_non_responses_keys() -> None:
    body = {"model": "m", "input": "hi", "temperature": 0.2, "top_k": 5, "safetySettings": []}
    assert passthrough_fields(body) == {"top_k": 5, "safetySettings": []}


def test_input_items() -> None:
    assert input_items(None) == []
    assert input_items("hi") == [{"type": "message", "role": "user", "content": "hi"}]
    items = [{"type": "message", "role": "user", "content": "x"}]
    assert input_items(items) == items and input_items(items) is not items


# -- the typed request and the bridges ---------------------------------------------------------


def test_wire_body_adds_stream_exactly_when_streaming() -> None:
    body = {"model": "m", "input": "hi"}
    assert ResponsesRequest(body).wire_body() == body
    assert ResponsesRequest(body, stream=True).wire_body() == {**body, "stream": True}
    streaming = ResponsesRequest(body, stream=True)
    fresh = streaming.wire_body()
    fresh["input"] = "changed"
    assert streaming.wire_body()["input"] == "hi", "wire_body must be a fresh dict"


def test_the_body_never_carries_stream_and_cannot_be_changed() -> None:
    with pytest.raises(ValueError, match="stream"):
        ResponsesRequest({"model": "m", "stream": True})
    source = {"model": "m", "input": "hi"}
    request = ResponsesRequest(source)
    source["input"] = "changed later"
    assert request.body["input"] == "hi"
    with pytest.raises(TypeError):
        request.body["input"] = "x"  # type: ignore[index]


BRIDGES: dict[str, Bridge] = {
    "chat": chat.ChatBridge(chat.dialect_for("together")),
    "anthropic": anthropic.AnthropicBridge("https://api.anthropic.com"),
    "gemini": gemini.GeminiBridge(),
}


@pytest.mark.parametrize("name", sorted(BRIDGES))
def test_every_bridge_reads_the_stream_flag_of_the_request(name: str) -> None:
    bridge = BRIDGES[name]
    body = {"model": "gemini-2.5-flash", "input": "hi"}
    once, streamed = ResponsesRequest(body), ResponsesRequest(body, stream=True)
    if name == "gemini":  # streaming is chosen by the method in the path
        assert bridge.translate_request(once) == bridge.translate_request(streamed)
        assert bridge.path(streamed).endswith(":streamGenerateContent?alt=sse")
        assert bridge.path(once).endswith(":generateContent")
    else:
        assert "stream" not in bridge.translate_request(once)
        assert bridge.translate_request(streamed)["stream"] is True
        assert bridge.path(once) == bridge.path(streamed)


def test_anthropic_bridge_path_and_headers() -> None:
    assert anthropic.AnthropicBridge("https://api.anthropic.com").path(ResponsesRequest({})) == "v1/messages"
    assert anthropic.AnthropicBridge("http://gw/v1/").path(ResponsesRequest({})) == "messages"
    assert anthropic.AnthropicBridge("x").headers() == {"anthropic-version": anthropic.ANTHROPIC_VERSION}
