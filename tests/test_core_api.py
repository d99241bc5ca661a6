"""responses()/aresponses() over the native providers, through real sockets.

The openai provider runs the real openai SDK, the openresponses provider the project's own
httpx2 path; both talk to a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import gc
import inspect
import json
import time
import warnings
from typing import Any

import pytest
from openai.types.responses import Response
from openresponses_types import ResponseResource

import anyllm
from anyllm import LLMProvider, aresponses, responses
from anyllm.errors import (
    InvalidRequestError,
    MissingApiKeyError,
    StreamError,
    UnsupportedProviderError,
)
from anyllm.providers.factory import get_backend
from tests.helpers.loopback import LoopbackServer, Reply, Seen
from tests.helpers.synth import synth_events, synth_response

EVERY_PARAMETER: dict[str, Any] = {
    "tools": [
        {"type": "function", "name": "lookup", "description": "Look up.", "parameters": {"type": "object"}}
    ],
    "tool_choice": "auto",
    "max_output_tokens": 64,
    "temperature": 0.5,
    "top_p": 0.9,
    "instructions": "Be brief.",
    "max_tool_calls": 3,
    "parallel_tool_calls": False,
    "reasoning": {"effort": "low"},
    "text": {"format": {"type": "text"}},
    "presence_penalty": 0.1,
    "frequency_penalty": 0.2,
    "truncation": "disabled",
    "store": True,
    "service_tier": "default",
    "user": "user-1",
    "metadata": {"k": "v"},
    "previous_response_id": "resp_prev",
    "include": ["reasoning.encrypted_content"],
    "background": False,
    "safety_identifier": "safe-1",
    "prompt_cache_key": "cache-1",
    "prompt_cache_retention": "24h",
    "conversation": "conv_1",
}


def json_server(request_log: list[Seen] | None = None) -> LoopbackServer:
    def handler(seen: Seen) -> Reply:
        body = seen.json()
        if body.get("stream"):
            return Reply.sse(synth_events(body))
        return Reply.json(synth_response(body))

    return LoopbackServer(handler)


@pytest.fixture
def server():
    with json_server() as srv:
        yield srv


# -- the signature ---------------------------------------------------------------------------


def test_signature_is_exactly_the_documented_one() -> None:
    expected = [
        "model",
        "input_data",
        "provider",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "temperature",
        "top_p",
        "stream",
        "api_key",
        "api_base",
        "instructions",
        "max_tool_calls",
        "parallel_tool_calls",
        "reasoning",
        "text",
        "presence_penalty",
        "frequency_penalty",
        "truncation",
        "store",
        "service_tier",
        "user",
        "metadata",
        "previous_response_id",
        "include",
        "background",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "conversation",
        "client_args",
        "kwargs",
    ]
    for fn in (responses, aresponses):
        params = inspect.signature(fn).parameters
        assert list(params) == expected
        assert params["input_data"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in expected[2:-1])
        assert params["kwargs"].kind is inspect.Parameter.VAR_KEYWORD


# -- every parameter reaches the wire --------------------------------------------------------


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
def test_every_parameter_reaches_the_wire_body(server: LoopbackServer, provider: str) -> None:
    base = f"{server.url}/v1"
    responses("m-1", "hello", provider=provider, api_base=base, api_key="sk-test", seed=7, **EVERY_PARAMETER)
    sent = server.last()
    assert sent.path == "/v1/responses"
    body = sent.json()
    assert body["model"] == "m-1"
    assert body["input"] == "hello"
    assert body["seed"] == 7  # kwargs go into the body
    for name, value in EVERY_PARAMETER.items():
        assert body[name] == value, name
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
def test_parameters_left_as_none_are_not_sent(server: LoopbackServer, provider: str) -> None:
    responses(
        "m-1", "hello", provider=provider, api_base=server.url, api_key="k", temperature=None, top_p=None
    )
    assert set(server.last().json()) == {"model", "input"}


# -- model formats ---------------------------------------------------------------------------


def test_the_three_model_formats_reach_the_same_provider(server: LoopbackServer) -> None:
    responses("m-1", "a", provider="openresponses", api_base=server.url)
    responses("m-1", "a", provider=LLMProvider.OPENRESPONSES, api_base=server.url)
    responses("openresponses:m-1", "a", api_base=server.url)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        responses("openresponses/m-1", "a", api_base=server.url)
    assert [r.json()["model"] for r in server.requests] == ["m-1"] * 4


def test_colon_format_does_not_warn(server: LoopbackServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        responses("openresponses:org/model:tag", "a", api_base=server.url)
    assert server.last().json()["model"] == "org/model:tag"


@pytest.mark.parametrize(
    ("model", "provider", "error", "words"),
    [
        ("m", "nope", UnsupportedProviderError, ["'nope'", "openai", "mistral"]),
        ("nope:m", None, UnsupportedProviderError, ["'nope'", "valid providers"]),
        ("", "openai", InvalidRequestError, ["model must not be empty"]),
        ("   ", "openai", InvalidRequestError, ["model must not be empty"]),
        ("plainmodel", None, InvalidRequestError, ["No provider", "provider:model"]),
        ("openai:", None, InvalidRequestError, ["no model"]),
    ],
)
def test_bad_model_or_provider_fails_before_the_network(
    server: LoopbackServer, model: str, provider: str | None, error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as info:
        responses(model, "a", provider=provider, api_base=server.url, api_key="k")
    for word in words:
        assert word in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"temperature": 3}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"max_output_tokens": 1.5}, "max_output_tokens"),
        ({"stream": "yes"}, "stream"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"truncation": "middle"}, "truncation"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"include": "x"}, "include"),
        ({"instructions": ""}, "instructions"),
        ({"client_args": "x"}, "client_args"),
        ({"tools": ["not a tool"]}, "tools"),
        ({"reasoning": {"effort": "maximal"}}, "reasoning"),
        ({"reasoning": {"summary": "short"}}, "reasoning"),
        ({"text": {"format": {"type": "yaml"}}}, "text"),
        ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text"),
    ],
)
def test_bad_arguments_name_the_parameter_before_the_network(
    server: LoopbackServer, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        responses("m", "a", provider="openresponses", api_base=server.url, **kwargs)
    assert param in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("bad_input", [None, 42, {"role": "user"}, [1], [{"content": "no role or type"}]])
def test_bad_input_data_is_refused(server: LoopbackServer, bad_input: Any) -> None:
    with pytest.raises(InvalidRequestError, match="input"):
        responses("m", bad_input, provider="openresponses", api_base=server.url)
    assert server.requests == []


def test_missing_key_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        responses("gpt-4.1-mini", "a", provider="openai")


def test_key_comes_from_the_environment(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    responses("m", "a", provider="openai", api_base=server.url)
    assert server.last().headers["authorization"] == "Bearer sk-from-env"


def test_missing_base_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENRESPONSES_BASE_URL", raising=False)
    with pytest.raises(InvalidRequestError, match="api_base"):
        responses("m", "a", provider="openresponses")


# -- return types ----------------------------------------------------------------------------


def test_openai_provider_returns_the_openai_type(server: LoopbackServer) -> None:
    result = responses("m", "hi", provider="openai", api_base=server.url, api_key="k")
    assert isinstance(result, Response)
    assert result.output_text == "Hello from loopback"


def test_openresponses_provider_returns_response_resource(server: LoopbackServer) -> None:
    result = responses("m", "hi", provider="openresponses", api_base=server.url)
    assert isinstance(result, ResponseResource)
    assert result.output[0].content[0].text == "Hello from loopback"  # type: ignore[union-attr]
    assert result.usage is not None and result.usage.total_tokens == 12


async def test_async_returns_the_same_types(server: LoopbackServer) -> None:
    native = await aresponses("m", "hi", provider="openai", api_base=server.url, api_key="k")
    spec = await aresponses("m", "hi", provider="openresponses", api_base=server.url)
    assert isinstance(native, Response)
    assert isinstance(spec, ResponseResource)


# -- streaming -------------------------------------------------------------------------------


def _types(events: list[Any]) -> list[str]:
    return [str(getattr(e.type, "value", e.type)) for e in events]


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
def test_sync_stream_yields_every_event_in_order(server: LoopbackServer, provider: str) -> None:
    events = list(responses("m", "hi", provider=provider, api_base=server.url, api_key="k", stream=True))
    expected = [e["type"] for e in synth_events()]
    assert _types(events) == expected
    assert [e.sequence_number for e in events] == list(range(len(expected)))
    assert server.last().json()["stream"] is True


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
async def test_async_stream_yields_every_event_in_order(server: LoopbackServer, provider: str) -> None:
    stream = await aresponses("m", "hi", provider=provider, api_base=server.url, api_key="k", stream=True)
    events = [event async for event in stream]
    assert _types(events) == [e["type"] for e in synth_events()]


def test_sync_stream_needs_no_running_event_loop(server: LoopbackServer) -> None:
    import asyncio

    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    assert len(list(responses("m", "hi", provider="openresponses", api_base=server.url, stream=True))) > 5


def _slow_stream_server() -> LoopbackServer:
    # About 10 s of stream if nobody hangs up: long enough that even a loaded machine
    # cannot finish it before the client closes.
    events = synth_events(text="x" * 2000, pieces=1000)
    return LoopbackServer(Reply.sse(events, pause=0.01))


def _wait_for_server_to_notice(server: LoopbackServer) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and server.stats and not server.stats[-1].finished:
        time.sleep(0.02)


@pytest.mark.parametrize("provider", ["openresponses", "openai"])
def test_breaking_out_of_a_stream_closes_the_connection(provider: str) -> None:
    with _slow_stream_server() as server:
        stream = responses("m", "hi", provider=provider, api_base=server.url, api_key="k", stream=True)
        for count, _event in enumerate(stream):
            if count == 3:
                break
        stream.close()
        _wait_for_server_to_notice(server)
        stats = server.stats[-1]
        assert stats.finished and stats.broken, "server kept writing to a closed connection"
        assert stats.chunks_written < stats.chunks_total


def test_dropping_a_stream_iterator_closes_the_connection() -> None:
    with _slow_stream_server() as server:
        stream = responses("m", "hi", provider="openresponses", api_base=server.url, stream=True)
        next(iter(stream))
        del stream
        gc.collect()
        _wait_for_server_to_notice(server)
        stats = server.stats[-1]
        assert stats.finished and stats.broken
        assert stats.chunks_written < stats.chunks_total


async def test_async_early_break_closes_the_connection() -> None:
    with _slow_stream_server() as server:
        stream = await aresponses("m", "hi", provider="openresponses", api_base=server.url, stream=True)
        async for event in stream:
            if event.sequence_number == 3:
                break
        await stream.aclose()
        _wait_for_server_to_notice(server)
        assert server.stats[-1].broken


def test_stream_without_terminal_event_raises_stream_error() -> None:
    events = synth_events()[:-1]
    with LoopbackServer(Reply.sse(events, done=False)) as server:
        stream = responses("m", "hi", provider="openresponses", api_base=server.url, stream=True)
        received = []
        with pytest.raises(StreamError, match=r"without response\.completed"):
            for event in stream:
                received.append(event)
        assert len(received) == len(events)


def test_invalid_json_event_raises_stream_error_naming_the_event() -> None:
    reply = Reply.sse(synth_events()[:3])
    assert reply.chunks is not None
    reply.chunks.insert(2, b"event: response.output_text.delta\ndata: {not json\n\n")
    with LoopbackServer(reply) as server:
        stream = responses("m", "hi", provider="openresponses", api_base=server.url, stream=True)
        with pytest.raises(StreamError, match=r"#2"):
            list(stream)


def test_response_failed_raises_after_yielding_it() -> None:
    from anyllm.translate.stream import ResponseStreamBuilder

    builder = ResponseStreamBuilder({"model": "m"}, model="m")
    events = builder.start() + builder.text("par") + builder.fail("model crashed", code="server_error")
    with LoopbackServer(Reply.sse(events)) as server:
        received = []
        with pytest.raises(StreamError, match="model crashed"):
            for event in responses("m", "hi", provider="openresponses", api_base=server.url, stream=True):
                received.append(event)
        assert _types(received)[-2:] == ["error", "response.failed"]


def test_extension_events_are_passed_through_not_dropped() -> None:
    events = synth_events()
    events.insert(2, {"type": "acme:trace", "sequence_number": 99, "detail": "x"})
    with LoopbackServer(Reply.sse(events)) as server:
        received = list(responses("m", "hi", provider="openresponses", api_base=server.url, stream=True))
    extension = received[2]
    assert type(extension).__name__ == "ExtensionEvent"
    assert extension.model_dump()["detail"] == "x"


# -- tools from callables reach the wire -----------------------------------------------------


def get_weather(city: str, unit: str = "celsius") -> str:
    """Current weather for a city.

    Args:
        city: The city name.
        unit: celsius or fahrenheit.
    """
    return f"{city}: 20 {unit}"


def test_callable_tools_reach_the_wire_as_function_tools(server: LoopbackServer) -> None:
    responses("m", "hi", provider="openresponses", api_base=server.url, tools=[get_weather])
    (tool,) = server.last().json()["tools"]
    assert tool["type"] == "function"
    assert tool["name"] == "get_weather"
    assert tool["description"].startswith("Current weather for a city")
    assert tool["parameters"]["properties"]["city"]["type"] == "string"
    assert tool["parameters"]["required"] == ["city"]


# -- clients are created once ----------------------------------------------------------------


def test_clients_are_reused_per_configuration(server: LoopbackServer) -> None:
    from anyllm.api import _config
    from anyllm.providers.registry import provider_metadata

    meta = provider_metadata("openresponses")
    first = get_backend(_config(meta, "k", server.url, None))
    again = get_backend(_config(meta, "k", server.url, None))
    other_key = get_backend(_config(meta, "k2", server.url, None))
    other_args = get_backend(_config(meta, "k", server.url, {"timeout": 5}))
    assert first is again
    assert first is not other_key and first is not other_args
    for _ in range(3):
        responses("m", "hi", provider="openresponses", api_base=server.url, api_key="k")
    assert len({seen.client_port for seen in server.requests}) == 1, "a new connection was opened per call"


def test_provider_metadata_is_static() -> None:
    meta = anyllm.provider_metadata("openai")
    assert meta.native_responses and meta.responses and meta.streaming
    assert meta.api_key_env == "OPENAI_API_KEY"
    assert meta.default_base_url == "https://api.openai.com/v1"
    assert meta.docs_url.startswith("https://")
    assert anyllm.provider_metadata(LLMProvider.MISTRAL).protocol == "chat"
    assert anyllm.list_providers() == sorted(p.value for p in LLMProvider)
    for name in (
        "azureopenai",
        "openrouter",
        "huggingface",
        "groq",
        "fireworks",
        "xai",
        "deepseek",
        "ollama",
        "vllm",
        "lmstudio",
    ):
        meta = anyllm.provider_metadata(name)
        assert meta.native_responses, name
        assert meta.api_key_env, name


def test_body_is_sent_as_compact_json(server: LoopbackServer) -> None:
    responses("m", [{"role": "user", "content": "é"}], provider="openresponses", api_base=server.url)
    raw = server.last().body
    assert json.loads(raw)["input"][0]["content"] == "é"
    assert b", " not in raw


def test_a_server_echoing_the_json_schema_is_still_typed(server: LoopbackServer) -> None:
    # Spec bug SPEC-BUG-TEXT-FORMAT-SCHEMA: real servers echo text.format.schema, which the
    # spec's output type admits only as null. The call must not fail on it.
    fmt = {"type": "json_schema", "name": "r", "schema": {"type": "object"}, "strict": True}
    result = responses("m", "hi", provider="openresponses", api_base=server.url, text={"format": fmt})
    assert result.text.format.type.value == "json_schema"  # type: ignore[union-attr]
    assert server.last().json()["text"]["format"]["schema"] == {"type": "object"}
    events = list(
        responses("m", "hi", provider="openresponses", api_base=server.url, text={"format": fmt}, stream=True)
    )
    assert _types(events)[-1] == "response.completed"
