"""Streams handed to the caller that release their connection however they end.

A generator's ``finally`` runs only once the generator has started: a stream closed (or
dropped) before its first event, or one whose first events come from a generator that
never reached the HTTP read (a translated stream yields ``response.created`` and
``response.in_progress`` before it touches the connection), would otherwise keep its
pooled connection busy for good, and a pool of busy connections makes every later call
wait out the pool timeout. These wrappers keep the generator's interface and call
``release`` (close the HTTP response or the SDK stream) on ``close()``/``aclose()``,
and when the wrapper is garbage collected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["ClosingAsyncStream", "ClosingStream"]

_T = TypeVar("_T")

# Release tasks scheduled by a collected async stream: asyncio keeps only weak references.
_PENDING: set[asyncio.Task[Any]] = set()


class ClosingStream(Generator[_T, None, None]):
    """``events`` as a generator whose ``close()`` (or collection) also calls ``release``."""

    __slots__ = ("_events", "_release")

    def __init__(self, events: Generator[_T, None, None], release: Callable[[], object]) -> None:
        self._events = events
        self._release: Callable[[], object] | None = release

    def __next__(self) -> _T:
        try:
            return next(self._events)
        except BaseException:  # the end, or a failure: the connection is done either way
            self._finish()
            raise

    def _finish(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            with contextlib.suppress(Exception):  # the stream's own outcome is what counts
                release()

    def send(self, value: None) -> _T:
        return self._events.send(value)

    def throw(self, *args: Any) -> _T:
        return self._events.throw(*args)

    def close(self) -> None:
        """Close the events (their ``finally`` runs if they started), then the connection."""
        try:
            self._events.close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()

    def __del__(self) -> None:
        if getattr(self, "_release", None) is not None:
            with contextlib.suppress(Exception):
                self.close()


class ClosingAsyncStream(AsyncGenerator[_T, None]):
    """``events`` as an async generator whose ``aclose()`` (or collection) also awaits ``release``."""

    __slots__ = ("_events", "_loop", "_release")

    def __init__(self, events: AsyncGenerator[_T, None], release: Callable[[], Awaitable[object]]) -> None:
        self._events = events
        self._release: Callable[[], Awaitable[object]] | None = release
        self._loop = asyncio.get_running_loop()

    async def __anext__(self) -> _T:
        try:
            return await self._events.__anext__()
        except BaseException:  # the end, or a failure: the connection is done either way
            release, self._release = self._release, None
            if release is not None:
                with contextlib.suppress(Exception):  # the stream's own outcome is what counts
                    await release()
            raise

    async def asend(self, value: None) -> _T:
        return await self._events.asend(value)

    async def athrow(self, *args: Any) -> _T:
        return await self._events.athrow(*args)

    async def aclose(self) -> None:
        """Close the events (their ``finally`` runs if they started), then the connection."""
        try:
            await self._events.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                await release()

    def __del__(self) -> None:
        # Collected unclosed: release on the stream's loop, as asyncio does for an async
        # generator collected mid-iteration (nothing can be awaited here).
        if getattr(self, "_release", None) is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_schedule, self._loop, self.aclose)


def _schedule(loop: asyncio.AbstractEventLoop, aclose: Callable[[], Awaitable[None]]) -> None:
    task = loop.create_task(_quietly(aclose))
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


async def _quietly(aclose: Callable[[], Awaitable[None]]) -> None:
    with contextlib.suppress(Exception):
        await aclose()
