"""Async HTTP clients bound to the event loop that uses them, closed when that loop ends.

An async client's pooled connections are transports of one event loop. ``asyncio.run``
closes its loop without closing them, so a backend that outlives the loop (backends are
cached for the life of the process) used to leave ``ResourceWarning: unclosed transport``
behind under ``python -X dev``, and its pool could not be used from the next loop anyway.

:class:`LoopClients` keeps one client per loop. The first time it makes one on a loop, it
starts a tiny async generator there: the loop tracks it (``sys.set_asyncgen_hooks``), and
``loop.shutdown_asyncgens()``, which ``asyncio.run``, ``asyncio.Runner.close()`` and
pytest-asyncio call before closing the loop, finalizes it, which closes that loop's
clients while the loop can still run their shutdown. That is the only hook asyncio gives
before a loop closes. A loop closed without ``shutdown_asyncgens()`` (``loop.close()`` by
hand) needs ``await anyllm.aclose()`` first. ``close()`` closes each client on its own loop
(now, when that loop is idle; scheduled on it when it is running), ``aclose()`` awaits the
running loop's client.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["LoopClients"]

C = TypeVar("C")

# Closing tasks scheduled on a running loop: asyncio keeps only weak references to tasks.
_PENDING: set[Any] = set()


class _LoopEntry:
    """What one loop must close at its shutdown: a callback per LoopClients that used it."""

    __slots__ = ("closers", "sentinel")

    def __init__(self) -> None:
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.sentinel: AsyncGenerator[None, None] | None = None

    async def run(self) -> None:
        closers, self.closers = self.closers, []
        for close in closers:
            with contextlib.suppress(Exception):  # one failing close must not keep the others open
                await close()


_ENTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopEntry] = weakref.WeakKeyDictionary()
_ENTRIES_LOCK = threading.Lock()


async def _at_shutdown(entry: _LoopEntry) -> AsyncGenerator[None, None]:
    """Suspended for the loop's life; finalized by ``shutdown_asyncgens()``, it closes the clients."""
    try:
        yield
    finally:
        await entry.run()


def _entry(loop: asyncio.AbstractEventLoop) -> _LoopEntry:
    """The running ``loop``'s entry, its shutdown sentinel started on first use."""
    with _ENTRIES_LOCK:
        entry = _ENTRIES.get(loop)
        if entry is None:
            entry = _ENTRIES[loop] = _LoopEntry()
    if entry.sentinel is None:
        sentinel = _at_shutdown(entry)
        entry.sentinel = sentinel  # a strong reference: the loop keeps only a weak one
        step = sentinel.asend(None)  # the loop's firstiter hook registers the generator here
        with contextlib.suppress(StopIteration):  # it runs to its yield without suspending
            step.send(None)
    return entry


def _on_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``make()`` on ``loop`` without waiting when it is running, to the end when it is idle;
    a closed loop can run nothing (its clients were closed at its shutdown, or cannot be)."""
    if loop.is_closed():
        return
    if loop.is_running():
        with contextlib.suppress(RuntimeError):  # closed meanwhile
            future = asyncio.run_coroutine_threadsafe(make(), loop)
            _PENDING.add(future)
            future.add_done_callback(_PENDING.discard)
        return
    coroutine = make()
    try:
        loop.run_until_complete(coroutine)
    except RuntimeError:  # another loop runs in this thread: nothing can be awaited here
        coroutine.close()


class LoopClients(Generic[C]):
    """One async client per event loop: ``get()`` on a running loop, closed with the loop."""

    def __init__(self, make: Callable[[], C], aclose: Callable[[C], Awaitable[object]]) -> None:
        self._make = make
        self._aclose = aclose
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, C] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self) -> C:
        """The running loop's client, made on first use there."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            with self._lock:
                client = self._clients.get(loop)
                if client is None:
                    client = self._clients[loop] = self._make()
                    self._watch(loop)
        return client

    def clients(self) -> list[C]:
        """The clients open now, one per loop that used this object and has not shut down."""
        with self._lock:
            return list(self._clients.values())

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        ref = weakref.ref(self)

        async def close_at_shutdown() -> None:
            owner = ref()
            if owner is not None:
                await owner._close_loop(loop)

        _entry(loop).closers.append(close_at_shutdown)

    async def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            client = self._clients.pop(loop, None)
        if client is not None:
            await self._aclose(client)

    def close(self) -> None:
        """Close every loop's client on its own loop (see the module docstring)."""
        with self._lock:
            clients = list(self._clients.items())
            self._clients.clear()
        for loop, client in clients:
            _on_loop(loop, _closing(self._aclose, client))

    async def aclose(self) -> None:
        """Close the running loop's client (awaited) and the others' as :meth:`close` does."""
        await self._close_loop(asyncio.get_running_loop())
        self.close()


def _closing(aclose: Callable[[C], Awaitable[object]], client: C) -> Callable[[], Coroutine[Any, Any, None]]:
    async def run() -> None:
        with contextlib.suppress(Exception):  # closing is best effort: the pool is dropped anyway
            await aclose(client)

    return run
