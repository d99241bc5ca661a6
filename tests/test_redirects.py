"""Issue 13 item 3: a redirect never carries the key (or the caller's headers) to another origin.

Two real loopback servers: the provider's (A) answers ``307`` with a ``Location`` on another
origin (B: another port, or another host name for the same socket). Before the fix the
openai SDK's client followed it and sent Azure's ``api-key`` and every ``client_args``
header to B (httpx2 strips only ``Authorization`` across origins). Now every protocol
refuses the redirect with a typed ProviderError (``code="redirect_refused"``) before
anything reaches B, and still follows a redirect within the same origin.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import anyllm
from anyllm.errors import ProviderError
from anyllm.providers.redirects import REDIRECT_REFUSED
from anyllm.providers.registry import list_providers, provider_metadata
from tests.helpers.faults import WIRES, Wire
from tests.helpers.loopback import LoopbackServer, Reply, Seen

KEY = "sk-redirect-canary-0123456789"
HEADER = ("x-tenant-secret", "hdr-canary-9876543210")
OPENAI_PROVIDERS = [name for name in list_providers() if provider_metadata(name).protocol == "openai"]
# (provider, wire): every openai-protocol vendor, and one provider of each other protocol.
CASES = [(name, "openai") for name in OPENAI_PROVIDERS] + [
    ("openresponses", "openresponses"),
    ("openai_compatible", "chat"),
    ("anthropic", "anthropic"),
    ("gemini", "gemini"),
]
MODES = ["sync", "async"]


def _outcome(
    wire: Wire, provider: str, base: str, *, mode: str, stream: bool
) -> tuple[Any, BaseException | None]:
    """Call ``provider`` at ``base`` and read the whole result; (result or events, error)."""
    kwargs: dict[str, Any] = {
        "provider": provider,
        "api_base": base + wire.base_path,
        "api_key": KEY,
        "stream": stream,
        "client_args": {"timeout": 5, "headers": dict([HEADER])},
    }

    async def run_async() -> Any:
        result = await anyllm.aresponses("m", "hi", **kwargs)
        return [event async for event in result] if stream else result

    try:
        if mode == "async":
            return asyncio.run(run_async()), None
        result = anyllm.responses("m", "hi", **kwargs)
        return (list(result) if stream else result), None
    except Exception as exc:
        return None, exc


def _success(wire: Wire, stream: bool) -> Reply:
    if stream:
        return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=wire.full_stream())
    return Reply.json(wire.reply)


def _carries_secrets(seen: Seen) -> bool:
    text = " ".join(f"{k}: {v}" for k, v in seen.headers.items()) + seen.path
    return KEY in text or HEADER[1] in text


@pytest.mark.parametrize("target", ["other-port", "other-host-name"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "protocol"), CASES, ids=[c[0] for c in CASES])
def test_redirect_to_another_origin_is_refused_and_nothing_is_sent_there(
    provider: str, protocol: str, mode: str, stream: bool, target: str
) -> None:
    wire = WIRES[protocol]
    with LoopbackServer(lambda _seen: _success(wire, stream)) as elsewhere:
        port = elsewhere.url.rsplit(":", 1)[1]

        def redirect(seen: Seen) -> Reply:
            if target == "other-port":
                location = f"{elsewhere.url}{seen.path}"
            else:  # the same socket under another name: another origin all the same
                location = f"http://localhost:{port}{seen.path}"
            return Reply(307, b"", {"location": location})

        with LoopbackServer(redirect) as origin:
            result, error = _outcome(wire, provider, origin.url, mode=mode, stream=stream)
    assert elsewhere.requests == [], "the request was sent to the redirect target"
    assert isinstance(error, ProviderError), f"expected ProviderError, got {error!r} / {result!r}"
    assert error.code == REDIRECT_REFUSED
    assert error.status_code == 307
    assert KEY not in str(error) and HEADER[1] not in str(error)
    assert len(origin.requests) == 1  # refused, not retried


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "protocol"), CASES, ids=[c[0] for c in CASES])
def test_redirect_within_the_origin_is_followed(
    provider: str, protocol: str, mode: str, stream: bool
) -> None:
    wire = WIRES[protocol]

    def handler(seen: Seen) -> Reply:
        if not seen.path.startswith("/moved"):
            return Reply(307, b"", {"location": f"/moved{seen.path}"})
        return _success(wire, stream)

    with LoopbackServer(handler) as server:
        result, error = _outcome(wire, provider, server.url, mode=mode, stream=stream)
    assert error is None, repr(error)
    assert result
    assert [seen.path.startswith("/moved") for seen in server.requests] == [False, True]
    assert all(_carries_secrets(seen) for seen in server.requests)  # same origin: same trust


def test_an_upgrade_to_https_on_the_same_host_counts_as_the_same_origin() -> None:
    """httpx2's one cross-origin exception for ``Authorization`` (http -> https, same host,
    default ports) is kept; anything else is another origin."""
    import httpx2

    from anyllm.providers.redirects import _same_site

    assert _same_site(httpx2.URL("http://api.example/v1"), httpx2.URL("https://api.example/v1"))
    assert not _same_site(httpx2.URL("http://api.example/v1"), httpx2.URL("https://evil.example/v1"))
    assert not _same_site(httpx2.URL("https://api.example/v1"), httpx2.URL("http://api.example/v1"))
    assert not _same_site(httpx2.URL("http://api.example:8080/"), httpx2.URL("https://api.example/"))
