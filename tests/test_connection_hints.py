"""A connection error names the URL tried and what sets it.

Before, llama.cpp with no ``api_base`` failed with "connection to llamacpp failed:
[Errno 111] Connection refused": no address, no hint that ``LLAMACPP_BASE_URL`` or
``api_base`` (``--api-base`` in the harness) moves it. Every failure here is a real refused
connection on 127.0.0.1 (a port bound, then released).
"""

from __future__ import annotations

import re

import pytest

import anyllm
from anyllm.api import client_config
from anyllm.errors import ProviderConnectionError
from anyllm.providers.base import ClientConfig
from anyllm.providers.factory import get_backend
from anyllm.providers.registry import provider_metadata
from anyllm.request import ResponsesRequest
from tests.helpers.faults import refused_url

REQUEST = ResponsesRequest({"model": "m", "input": "hi"})


@pytest.fixture(autouse=True)
def _no_base_url_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLAMACPP_BASE_URL", "OPENAI_BASE_URL", "OPENRESPONSES_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _refused(call: object) -> str:
    with pytest.raises(ProviderConnectionError) as info:
        call()  # type: ignore[operator]
    return str(info.value)


def test_the_default_address_is_named_with_both_ways_to_change_it() -> None:
    """No api_base and no variable: the default, named, and how to move it.

    The default itself (127.0.0.1:8080) may be a live server on this machine, so the
    backend is built for a refused port with the origin ``default``; that ``responses()``
    reports a default as such is checked on the configuration it builds.
    """
    meta = provider_metadata("llamacpp")
    assert client_config(meta, None, None, None).base_url_origin == "default"
    base = f"{refused_url()}/v1"
    backend = get_backend(ClientConfig(meta, base, None, base_url_origin="default"))
    message = _refused(lambda: backend.create(REQUEST))
    assert f"tried {base}/chat/completions" in message
    assert "llamacpp's default address" in message
    assert "set LLAMACPP_BASE_URL" in message
    assert "api_base=" in message and "--api-base" in message


def test_the_variable_that_set_the_address_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"{refused_url()}/v1"
    monkeypatch.setenv("LLAMACPP_BASE_URL", base)
    message = _refused(lambda: anyllm.responses("m", "hi", provider="llamacpp"))
    assert f"tried {base}/chat/completions, from the environment variable LLAMACPP_BASE_URL" in message


@pytest.mark.parametrize("provider", ["llamacpp", "openresponses", "openai"])
def test_an_api_base_is_named_as_such(provider: str) -> None:
    base = f"{refused_url()}/v1"
    message = _refused(lambda: anyllm.responses("m", "hi", provider=provider, api_base=base, api_key="k"))
    path = "chat/completions" if provider == "llamacpp" else "responses"
    assert f"tried {base}/{path}, given as api_base" in message
    assert "Connection refused" in message or "ConnectError" in message


def test_the_openai_protocol_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"{refused_url()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    message = _refused(lambda: anyllm.responses("m", "hi", provider="openai", api_key="k"))
    assert f"tried {base}/responses, from the environment variable OPENAI_BASE_URL" in message


async def test_async_and_streaming_calls_say_the_same() -> None:
    base = f"{refused_url()}/v1"
    tried = f"tried {base}/chat/completions, given as api_base"
    with pytest.raises(ProviderConnectionError, match=re.escape(tried)):
        await anyllm.aresponses("m", "hi", provider="llamacpp", api_base=base)
    with pytest.raises(ProviderConnectionError, match=re.escape(tried)):
        await anyllm.aresponses("m", "hi", provider="llamacpp", api_base=base, stream=True)
    with pytest.raises(ProviderConnectionError, match=re.escape(tried)):
        anyllm.responses("m", "hi", provider="llamacpp", api_base=base, stream=True)


def test_a_password_or_query_in_the_url_is_not_repeated() -> None:
    port = refused_url().rsplit(":", 1)[1]
    base = f"http://user:s3cret-pw@127.0.0.1:{port}/v1"
    message = _refused(lambda: anyllm.responses("m", "hi", provider="llamacpp", api_base=base))
    assert "s3cret-pw" not in message
    assert f"tried http://user:***@127.0.0.1:{port}/v1/chat/completions" in message
    message = _refused(
        lambda: anyllm.responses("m", "hi", provider="openai", api_base=base, api_key="k", client_args={})
    )
    assert "s3cret-pw" not in message


def test_query_values_are_masked() -> None:
    from anyllm.providers.endpoint import shown_url

    assert (
        shown_url("https://h.example/v1/x?key=abc123&alt=sse&flag")
        == "https://h.example/v1/x?key=***&alt=***&flag"
    )
    assert shown_url("http://only-user@h.example/v1") == "http://only-user@h.example/v1"
