"""Issue 13 item 14: every bad argument ends in a typed error naming it, before any request.

The red-team pass sent 170 bad-argument probes; 57 escaped as ``ValueError``, ``TypeError`` or
``UnicodeEncodeError``, or reached the wire (lone surrogates in input, ``object()`` and ``nan``
in kwargs, ``client_args={"timeout": "abc"}``, ``{"headers": "x"}``, ``max_retries="many"``,
``api_base="http://"``, a message ``content`` of ``5``). This is that kind of probe set, run
against one provider of every wire protocol, sync and async: each probe must raise
``anyllm.errors.InvalidRequestError`` (or a subclass) whose ``param`` names the argument,
and the real loopback server standing in for the provider must have seen no request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import anyllm
from anyllm.errors import InvalidRequestError
from tests.helpers.faults import WIRES
from tests.helpers.loopback import LoopbackServer, Reply

PROVIDERS = {
    "openai": "openai",
    "openresponses": "openresponses",
    "chat": "openai_compatible",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
KEY = "probe-key-0123456789"


@dataclass(frozen=True)
class Probe:
    """One bad call: what differs from a good one, and the ``param`` the error must name."""

    id: str
    param: str
    args: dict[str, Any] = field(default_factory=dict)


def _input(*items: Any) -> dict[str, Any]:
    return {"input_data": list(items)}


def _message(content: Any, role: Any = "user", **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


_CYCLE: list[Any] = []
_CYCLE.append(_CYCLE)  # a list that contains itself: json.dumps raises ValueError

PROBES = [
    # model and provider
    Probe("model-none", "model", {"model": None}),
    Probe("model-empty", "model", {"model": "  "}),
    Probe("model-int", "model", {"model": 5}),
    Probe("model-surrogate", "model", {"model": "m\ud800"}),
    Probe("provider-unknown", "provider", {"provider": "nope"}),
    Probe("provider-int", "provider", {"provider": 5}),
    # input
    Probe("input-none", "input", {"input_data": None}),
    Probe("input-int", "input", {"input_data": 5}),
    Probe("input-dict", "input", {"input_data": {"role": "user", "content": "hi"}}),
    Probe("input-surrogate", "input", {"input_data": "hi \ud800"}),
    Probe("input-item-int", "input[0]", _input(5)),
    Probe("input-item-empty", "input[0]", _input({})),
    Probe("input-content-int", "input[0].content", _input(_message(5))),
    Probe("input-content-none", "input[0].content", _input(_message(None))),
    Probe("input-content-dict", "input[0].content", _input(_message({"type": "input_text", "text": "x"}))),
    Probe("input-content-missing", "input[0]", _input({"role": "user"})),
    Probe("input-content-part-int", "input[0].content[0]", _input(_message([5]))),
    Probe("input-content-part-untyped", "input[0].content[0]", _input(_message([{"text": "x"}]))),
    Probe(
        "input-text-int", "input[0].content[0].text", _input(_message([{"type": "input_text", "text": 5}]))
    ),
    Probe("input-content-surrogate", "input[0].content", _input(_message("\udfff"))),
    Probe("input-role-unknown", "input[0].role", _input(_message("hi", role="wizard"))),
    Probe("input-role-int", "input[0].role", _input(_message("hi", role=5))),
    Probe("input-type-int", "input[0].type", _input({"type": 5, "role": "user", "content": "hi"})),
    Probe(
        "input-call-id-int",
        "input[0].call_id",
        _input({"type": "function_call_output", "call_id": 5, "output": "x"}),
    ),
    Probe(
        "input-call-output-object",
        "input[0].output",
        _input({"type": "function_call_output", "call_id": "c", "output": object()}),
    ),
    Probe(
        "input-call-arguments-dict",
        "input[0].arguments",
        _input({"type": "function_call", "call_id": "c", "name": "f", "arguments": {"x": 1}}),
    ),
    Probe("input-extra-nan", "input[0].weight", _input(_message("hi", weight=float("nan")))),
    Probe("input-extra-bytes", "input[0].blob", _input(_message("hi", blob=b"\x00"))),
    # named parameters
    Probe("temperature-nan", "temperature", {"temperature": float("nan")}),
    Probe("temperature-str", "temperature", {"temperature": "0.5"}),
    Probe("temperature-high", "temperature", {"temperature": 3}),
    Probe("top-p-negative", "top_p", {"top_p": -0.1}),
    Probe("presence-penalty-inf", "presence_penalty", {"presence_penalty": float("inf")}),
    Probe("max-output-tokens-zero", "max_output_tokens", {"max_output_tokens": 0}),
    Probe("max-output-tokens-bool", "max_output_tokens", {"max_output_tokens": True}),
    Probe("max-output-tokens-float", "max_output_tokens", {"max_output_tokens": 1.5}),
    Probe("max-tool-calls-zero", "max_tool_calls", {"max_tool_calls": 0}),
    Probe("stream-str", "stream", {"stream": "yes"}),
    Probe("parallel-tool-calls-str", "parallel_tool_calls", {"parallel_tool_calls": "no"}),
    Probe("store-int", "store", {"store": 1}),
    Probe("instructions-int", "instructions", {"instructions": 5}),
    Probe("instructions-surrogate", "instructions", {"instructions": "be \ud800 brief"}),
    Probe("metadata-str", "metadata", {"metadata": "x"}),
    Probe("metadata-int-value", "metadata", {"metadata": {"k": 5}}),
    Probe("metadata-surrogate", "metadata.k", {"metadata": {"k": "\ud800"}}),
    Probe("include-str", "include", {"include": "reasoning.encrypted_content"}),
    Probe("reasoning-effort", "reasoning", {"reasoning": {"effort": "huge"}}),
    Probe("reasoning-int", "reasoning", {"reasoning": 5}),
    Probe("text-format", "text", {"text": {"format": {"type": "xml"}}}),
    Probe("truncation", "truncation", {"truncation": "sometimes"}),
    Probe("tool-choice-unknown", "tool_choice", {"tool_choice": "maybe"}),
    Probe("tool-choice-int", "tool_choice", {"tool_choice": 5}),
    Probe("tool-choice-required-without-tools", "tool_choice", {"tool_choice": "required"}),
    Probe("tools-str", "tools", {"tools": "get_weather"}),
    Probe("tools-int-entry", "tools[0]", {"tools": [5]}),
    Probe("previous-response-id-int", "previous_response_id", {"previous_response_id": 5}),
    Probe("conversation-int", "conversation", {"conversation": 5}),
    Probe("user-int", "user", {"user": 5}),
    Probe("service-tier-int", "service_tier", {"service_tier": 5}),
    # **kwargs: sent as given, so they must be JSON
    Probe("kwarg-object", "foo", {"foo": object()}),
    Probe("kwarg-nan", "foo", {"foo": float("nan")}),
    Probe("kwarg-inf", "foo.bar", {"foo": {"bar": float("-inf")}}),
    Probe("kwarg-surrogate", "foo[1]", {"foo": ["ok", "\ud83d"]}),
    Probe("kwarg-tuple-key", "foo", {"foo": {("a", "b"): "x"}}),
    Probe("kwarg-cycle", "foo", {"foo": _CYCLE}),
    Probe("kwarg-bytes", "foo", {"foo": b"bytes"}),
    Probe("kwarg-set", "foo", {"foo": {1, 2}}),
    Probe("kwarg-input", "input", {"input": "another prompt"}),
    # api_key and api_base
    Probe("api-key-int", "api_key", {"api_key": 12345678}),
    Probe("api-key-newline", "api_key", {"api_key": KEY + "\n"}),
    Probe("api-key-header-injection", "api_key", {"api_key": KEY + "\r\nx-injected: 1"}),
    Probe("api-key-non-ascii", "api_key", {"api_key": KEY + "é"}),
    Probe("api-base-no-host", "api_base", {"api_base": "http://"}),
    Probe("api-base-no-host-path", "api_base", {"api_base": "http:///v1"}),
    Probe("api-base-int", "api_base", {"api_base": 5}),
    Probe("api-base-ftp", "api_base", {"api_base": "ftp://127.0.0.1/v1"}),
    Probe("api-base-space", "api_base", {"api_base": "http://exa mple.com/v1"}),
    Probe("api-base-port", "api_base", {"api_base": "http://127.0.0.1:99999/v1"}),
    Probe("api-base-ipv6", "api_base", {"api_base": "http://[::1/v1"}),
    # client_args
    Probe("client-args-str", "client_args", {"client_args": "x"}),
    Probe("client-args-list", "client_args", {"client_args": [("timeout", 1)]}),
    Probe("timeout-str", "client_args.timeout", {"client_args": {"timeout": "abc"}}),
    Probe("timeout-negative", "client_args.timeout", {"client_args": {"timeout": -1}}),
    Probe("timeout-zero", "client_args.timeout", {"client_args": {"timeout": 0}}),
    Probe("timeout-nan", "client_args.timeout", {"client_args": {"timeout": float("nan")}}),
    Probe("timeout-bool", "client_args.timeout", {"client_args": {"timeout": True}}),
    Probe("max-retries-str", "client_args.max_retries", {"client_args": {"max_retries": "many"}}),
    Probe("max-retries-negative", "client_args.max_retries", {"client_args": {"max_retries": -1}}),
    Probe("max-retries-float", "client_args.max_retries", {"client_args": {"max_retries": 1.5}}),
    Probe("headers-str", "client_args.headers", {"client_args": {"headers": "x"}}),
    Probe("headers-int-value", "client_args.headers", {"client_args": {"headers": {"x-a": 5}}}),
    Probe("headers-injection", "client_args.headers", {"client_args": {"headers": {"x-a": "v\r\nx-b: 1"}}}),
    Probe("headers-bad-name", "client_args.headers", {"client_args": {"headers": {"bad name": "v"}}}),
    Probe("headers-non-ascii", "client_args.headers", {"client_args": {"headers": {"x-a": "é"}}}),
    Probe("default-headers-list", "client_args.default_headers", {"client_args": {"default_headers": ["x"]}}),
    Probe("headers-twice", "client_args", {"client_args": {"headers": {}, "default_headers": {}}}),
    Probe("client-args-unknown", "client_args.retries", {"client_args": {"retries": 3}}),
    Probe("response-store-int", "client_args.response_store", {"client_args": {"response_store": 5}}),
    Probe("transport-str", "client_args.transport", {"client_args": {"transport": "tcp"}}),
]


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    """The provider: a valid reply for anything, so a probe that slipped through would pass."""
    with LoopbackServer(lambda _seen: Reply.json(WIRES["openai"].reply)) as running:
        yield running


def _call(protocol: str, server: LoopbackServer, probe: Probe, mode: str) -> InvalidRequestError:
    wire = WIRES[protocol]
    args: dict[str, Any] = {
        "model": "m",
        "input_data": "hi",
        "provider": PROVIDERS[protocol],
        "api_base": server.url + wire.base_path,
        "api_key": KEY,
        "client_args": {"timeout": 5},
        **probe.args,
    }
    model, input_data = args.pop("model"), args.pop("input_data")
    try:
        if mode == "sync":
            result = anyllm.responses(model, input_data, **args)
            if args.get("stream") is True:
                list(result)
        else:
            asyncio.run(anyllm.aresponses(model, input_data, **args))
    except InvalidRequestError as error:
        return error
    except Exception as exc:
        raise AssertionError(f"{probe.id} escaped as {type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"{probe.id} was accepted")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
@pytest.mark.parametrize("protocol", list(PROVIDERS))
def test_bad_argument_is_a_typed_error_before_any_request(
    protocol: str, probe: Probe, mode: str, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(variable, raising=False)
    seen = len(server.requests)
    try:
        error = _call(protocol, server, probe, mode)
    finally:
        reached = server.requests[seen:]
        del server.requests[seen:]  # one probe's requests never fail the next one
    assert reached == [], f"{probe.id} reached the server"
    assert error.param == probe.param, f"{probe.id}: param {error.param!r}, message {error}"
    assert KEY not in str(error), "the key is quoted in the error"


def test_the_probe_set_is_large_and_its_ids_unique() -> None:
    assert len(PROBES) * len(PROVIDERS) >= 170
    assert len({p.id for p in PROBES}) == len(PROBES)


@pytest.mark.parametrize(
    ("variable", "value", "param"),
    [("OPENAI_API_KEY", KEY + "\n", "api_key"), ("OPENAI_BASE_URL", "http://", "api_base")],
)
def test_a_bad_value_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, param: str
) -> None:
    monkeypatch.setenv(variable, value)
    kwargs: dict[str, Any] = {"provider": "openai"}
    if variable != "OPENAI_API_KEY":
        kwargs["api_key"] = KEY
    with pytest.raises(InvalidRequestError) as caught:
        anyllm.responses("m", "hi", **kwargs)
    assert caught.value.param == param
    assert variable in str(caught.value)
    assert KEY not in str(caught.value)
    assert os.environ[variable] == value
