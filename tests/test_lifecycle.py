"""Closing what anyllm keeps open: no ResourceWarning, a public close, clients per event loop.

Before, ``asyncio.run(anyllm.aresponses(...))`` left the async client's pooled connection
open on a closed loop (``ResourceWarning: unclosed transport`` under ``python -X dev``
once the backend was dropped), there was no public way to close clients, and the openai
protocol reused one async client across event loops. Every call here goes to a real
keep-alive HTTP/1.1 server on 127.0.0.1, so pools really hold connections.
ResourceWarnings are recorded in-process (``warnings.catch_warnings``) after a full
collection, which is when asyncio's transports and sockets report being unclosed.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import anyllm
from anyllm.providers import factory
from tests.helpers.loopback import LoopbackServer, Reply, Seen
from tests.helpers.synth import synth_events, synth_response

PROVIDERS = ["llamacpp", "openresponses", "openai"]


def _completion() -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chat_chunks() -> Reply:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    bodies = [
        {**base, "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    return Reply.sse(bodies, named=False)


def _handler(seen: Seen) -> Reply:
    streaming = bool(seen.json().get("stream"))
    if seen.path.endswith("/chat/completions"):
        return _chat_chunks() if streaming else Reply.json(_completion())
    return Reply.sse(synth_events()) if streaming else Reply.json(synth_response())


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(_handler) as running:
        yield running


def _kwargs(provider: str, server: LoopbackServer) -> dict[str, Any]:
    return {"provider": provider, "api_base": f"{server.url}/v1", "api_key": "test-key"}


async def _calls(provider: str, server: LoopbackServer) -> None:
    """A stream read to its end, then a plain call (whose connection stays pooled, idle)."""
    kwargs = _kwargs(provider, server)
    stream = await anyllm.aresponses("m", "hi", stream=True, **kwargs)
    async for _event in stream:
        pass
    await anyllm.aresponses("m", "hi", **kwargs)


def _resource_warnings(run: Callable[[], object]) -> list[str]:
    """The ResourceWarnings raised while ``run()`` runs and everything it left is collected."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_asyncio_run_then_close_leaves_no_unclosed_transport(provider: str, server: LoopbackServer) -> None:
    def run() -> None:
        asyncio.run(_calls(provider, server))
        anyllm.close()  # drops every backend: their clients must already be closed

    assert _resource_warnings(run) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_event_loop_gets_its_own_async_client(provider: str, server: LoopbackServer) -> None:
    """The backend outlives ``asyncio.run``: the next loop must not inherit a closed pool."""

    def run() -> None:
        for _ in range(3):
            asyncio.run(_calls(provider, server))
        anyllm.close()

    assert _resource_warnings(run) == []
    assert len(server.requests) == 6


@pytest.mark.parametrize("provider", PROVIDERS)
def test_aclose_in_async_code_then_a_later_call_works(provider: str, server: LoopbackServer) -> None:
    async def main() -> None:
        await _calls(provider, server)
        await anyllm.aclose()
        assert factory._CACHE == {}
        await _calls(provider, server)  # closing is never final: the next call reopens
        await anyllm.aclose()

    assert _resource_warnings(lambda: asyncio.run(main())) == []
    assert len(server.requests) == 4


def test_a_hand_managed_loop_is_closed_by_close(server: LoopbackServer) -> None:
    """A loop closed without ``shutdown_asyncgens``: ``anyllm.close()`` first closes its
    clients on it (the loop is idle, so close() runs it to completion)."""

    def run() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_calls("llamacpp", server))
            anyllm.close()
        finally:
            loop.close()

    assert _resource_warnings(run) == []


def test_closing_as_a_context_manager(server: LoopbackServer) -> None:
    kwargs = _kwargs("llamacpp", server)
    with anyllm.closing():
        anyllm.responses("m", "hi", **kwargs)
        (backend,) = factory._CACHE.values()
        assert backend.transport._client is not None  # type: ignore[attr-defined]
    assert factory._CACHE == {}
    assert backend.transport._client is None  # type: ignore[attr-defined]

    async def main() -> None:
        async with anyllm.closing():
            await _calls("llamacpp", server)
            assert factory._CACHE
        assert factory._CACHE == {}

    assert _resource_warnings(lambda: asyncio.run(main())) == []


def test_close_releases_the_store_it_opened_and_not_a_callers(server: LoopbackServer, tmp_path: Path) -> None:
    from anyllm.store import ResponseStore

    kwargs = _kwargs("llamacpp", server)
    anyllm.responses(
        "m", "hi", store=True, client_args={"response_store": str(tmp_path / "own.db")}, **kwargs
    )
    callers = ResponseStore(tmp_path / "callers.db")
    anyllm.responses("m", "hi", store=True, client_args={"response_store": callers}, **kwargs)
    stores = [backend.local._store for backend in factory._CACHE.values()]  # type: ignore[attr-defined]
    owned = [store for store in stores if store is not callers]
    assert owned and owned[0]._conn is not None
    assert callers._conn is not None
    anyllm.close()
    assert owned[0]._conn is None
    assert callers._conn is not None  # the caller's store stays open: it is theirs to close
    callers.close()
