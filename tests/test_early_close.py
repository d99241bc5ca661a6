"""A stream the caller abandons gives its connection back, on every protocol (issue 13, item 1).

Translated streams (chat, anthropic, gemini) yield ``response.created`` and
``response.in_progress`` before their HTTP generator has started, so a caller that took
one or two events and closed the stream left the HTTP generator unstarted, its
``finally`` never ran and the pooled connection stayed busy; about 100 such calls later
every call on that backend waited out the pool timeout. The same held on every protocol
for a stream closed (or dropped) before its first event.

Each case talks to a real server on 127.0.0.1 through the real client path and checks the
client's own pool (``busy_connections``: connections still carrying a request, requests
still waiting for one).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import anyllm
from tests.helpers.faults import WIRES, FaultServer, busy_connections, sse

PROTOCOLS = list(WIRES)
POOL = 100  # httpx2's default max_connections: one more leaked stream than this starves the pool


def _kwargs(protocol: str, url: str, **client_args: Any) -> dict[str, Any]:
    wire = WIRES[protocol]
    return {
        "provider": wire.provider,
        "api_base": url + wire.base_path,
        "api_key": "early-close-key",
        "stream": True,
        "client_args": {"timeout": 5.0, **client_args},
    }


def _server(protocol: str) -> FaultServer:
    # A pause between frames keeps the body unfinished when the caller stops reading.
    return FaultServer(sse(WIRES[protocol].full_stream(), pause=0.005))


@pytest.mark.parametrize("taken", [0, 1, 2, 3])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_close_after_a_few_events_releases_the_connection(protocol: str, taken: int) -> None:
    with _server(protocol) as server:
        stream = anyllm.responses("m", "hi", **_kwargs(protocol, server.url))
        events = [next(stream) for _ in range(taken)]
        assert [e.type for e in events][:1] == ["response.created"][:taken]
        stream.close()
        assert busy_connections() == [], f"closed after {taken} event(s), the connection is still busy"


@pytest.mark.parametrize("taken", [0, 1, 2, 3])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_aclose_after_a_few_events_releases_the_connection(protocol: str, taken: int) -> None:
    async def main() -> list[str]:
        stream = await anyllm.aresponses("m", "hi", **_kwargs(protocol, server.url))
        for _ in range(taken):
            await anext(stream)
        await stream.aclose()
        return busy_connections()

    with _server(protocol) as server:
        assert asyncio.run(main()) == [], f"aclosed after {taken} event(s), the connection is still busy"


@pytest.mark.parametrize("taken", [0, 2])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_dropped_stream_releases_the_connection(protocol: str, taken: int) -> None:
    """No close() at all: the caller breaks out of its loop and lets the stream go."""
    with _server(protocol) as server:
        stream = anyllm.responses("m", "hi", **_kwargs(protocol, server.url))
        for _ in range(taken):
            next(stream)
        del stream
        gc.collect()
        assert busy_connections() == []


@pytest.mark.parametrize("taken", [0, 2])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_dropped_async_stream_releases_the_connection(protocol: str, taken: int) -> None:
    async def main() -> list[str]:
        stream = await anyllm.aresponses("m", "hi", **_kwargs(protocol, server.url))
        for _ in range(taken):
            await anext(stream)
        del stream
        gc.collect()
        for _ in range(20):  # the release is scheduled on the loop, as asyncio does for generators
            if not busy_connections():
                break
            await asyncio.sleep(0.01)
        return busy_connections()

    with _server(protocol) as server:
        assert asyncio.run(main()) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_pool_survives_more_early_closes_than_it_has_connections(protocol: str) -> None:
    """The symptom the leak caused: after ~100 abandoned streams the next call failed with a
    pool timeout. Here the call after POOL + 20 of them still gets its answer."""
    wire = WIRES[protocol]
    with _server(protocol) as server:
        for _ in range(POOL + 20):
            stream = anyllm.responses("m", "hi", **_kwargs(protocol, server.url, timeout=1.0))
            next(stream)
            stream.close()
        events = list(anyllm.responses("m", "hi", **_kwargs(protocol, server.url, timeout=1.0)))
    assert events[-1].type == "response.completed", wire.protocol
    assert busy_connections() == []


def test_an_exhausted_stream_still_closes_cleanly() -> None:
    """close() after the end, and twice, is harmless (the release runs once)."""
    with _server("chat") as server:
        stream = anyllm.responses("m", "hi", **_kwargs("chat", server.url))
        assert list(stream)[-1].type == "response.completed"
        stream.close()
        stream.close()
        assert busy_connections() == []
