"""Issue 13 item 15: the openai SDK's environment variables reach OpenAI only, and are never recorded.

The SDK reads ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID`` and ``OPENAI_CUSTOM_HEADERS`` whenever
a client is built, whatever its ``base_url``: before the fix every openai-protocol vendor
(Groq, xAI, DeepSeek, OpenRouter, Fireworks, Azure) received the caller's OpenAI
organization and project, and ``OPENAI_CUSTOM_HEADERS="Authorization: Bearer sk-..."``
replaced the vendor's own key with the OpenAI one. Each provider is called on a real
loopback server; then a recording run through the plugin shows the organization and project
headers (request and response) are scrubbed from the cassette.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpcore2  # noqa: F401 - imported before pytester runs (see tests/test_plugin.py)
import httpx2  # noqa: F401
import pytest

import anyllm
from anyllm.providers.registry import list_providers, provider_metadata
from tests.helpers.faults import WIRES, Conn, FaultServer, Request, reply
from tests.helpers.loopback import LoopbackServer, Reply

pytest_plugins = ["pytester"]

OPENAI_PROTOCOL = [name for name in list_providers() if provider_metadata(name).protocol == "openai"]
ORG = f"org-canary-{uuid.uuid4().hex}"
PROJECT = f"proj-canary-{uuid.uuid4().hex}"
ENV_KEY = f"sk-openai-env-canary-{uuid.uuid4().hex}"
ENV_HEADER = f"env-header-canary-{uuid.uuid4().hex}"
KEY = "vendor-key-0123456789"


@pytest.fixture
def openai_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_ORG_ID", ORG)
    monkeypatch.setenv("OPENAI_PROJECT_ID", PROJECT)
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", f"Authorization: Bearer {ENV_KEY}\nX-Env-Only: {ENV_HEADER}")
    yield


def _sent(provider: str, *, mode: str = "sync", **client_args: object) -> dict[str, str]:
    """The headers one call of ``provider`` put on the wire."""
    import asyncio

    kwargs: dict[str, Any] = {
        "provider": provider,
        "api_key": KEY,
        "client_args": {"timeout": 5, "headers": {"x-caller": "kept"}, **client_args},
    }
    with LoopbackServer(Reply.json(WIRES["openai"].reply)) as server:
        if mode == "sync":
            anyllm.responses("m", "hi", api_base=f"{server.url}/v1", **kwargs)
        else:
            asyncio.run(anyllm.aresponses("m", "hi", api_base=f"{server.url}/v1", **kwargs))
        return server.last().headers


def _canaries(headers: dict[str, str]) -> list[str]:
    text = "\n".join(f"{k}: {v}" for k, v in headers.items())
    return [
        name
        for name, value in (
            ("org", ORG),
            ("project", PROJECT),
            ("env key", ENV_KEY),
            ("env header", ENV_HEADER),
        )
        if value in text
    ]


@pytest.mark.usefixtures("openai_environment")
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("provider", [p for p in OPENAI_PROTOCOL if p != "openai"])
def test_openai_variables_never_reach_another_vendor(provider: str, mode: str) -> None:
    headers = _sent(provider, mode=mode)
    assert _canaries(headers) == []
    assert headers["x-caller"] == "kept"  # the caller's own headers still travel
    if provider_metadata(provider).auth == "api-key":
        assert headers["api-key"] == KEY and "authorization" not in headers
    else:
        assert headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("openai_environment")
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_openai_itself_keeps_organization_and_project_but_the_key_given(mode: str) -> None:
    """For OpenAI the variables are the caller's account settings (the SDK's documented
    behaviour); the key anyllm resolved is still the one sent, not one from the environment."""
    headers = _sent("openai", mode=mode)
    assert headers["openai-organization"] == ORG
    assert headers["openai-project"] == PROJECT
    assert headers["x-env-only"] == ENV_HEADER
    assert headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("openai_environment")
def test_an_explicit_organization_still_reaches_another_vendor() -> None:
    """Asked for by name in client_args, it is the caller's choice, not the environment's."""
    headers = _sent("groq", organization="org-explicit", project="proj-explicit")
    assert headers["openai-organization"] == "org-explicit"
    assert headers["openai-project"] == "proj-explicit"
    assert _canaries(headers) == []


# -- and a recording never holds them ------------------------------------------------------------

PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)

SUITE = """
from anyllm.testing.cases import case


@case("org-basic")
def test_basic(anyllm_client):
    anyllm_client.create("hello", max_output_tokens=16)
"""


def _openai_server() -> FaultServer:
    """Answers like OpenAI does, echoing the organization and project in response headers."""
    echo = {"openai-organization": ORG, "openai-project": PROJECT}

    def behaviour(conn: Conn, request: Request) -> None:
        reply(200, WIRES["openai"].reply, echo)(conn, request)

    return FaultServer(behaviour)


def test_organization_and_project_are_scrubbed_from_the_cassette(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-record-{uuid.uuid4().hex}")
    monkeypatch.setenv("OPENAI_ORG_ID", ORG)
    monkeypatch.setenv("OPENAI_PROJECT_ID", PROJECT)
    pytester.makepyfile(test_org=SUITE)
    with _openai_server() as server:
        result = pytester.runpytest(
            *PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", ".",
            "--provider=openai", f"--api-base=openai={server.url}/v1", "--record",
        )  # fmt: skip
    assert server.requests and server.requests[0].headers.get("openai-organization") == ORG
    assert result.parseoutcomes().get("passed") == 1, result.stdout.str()
    cassette = pytester.path / "cassettes" / "openai" / "org-basic.yaml"
    assert cassette.is_file()
    for path in pytester.path.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = Path(path).read_bytes().decode("utf-8", "replace")
            assert ORG not in text and PROJECT not in text, f"{path.name} holds the organization or project"
