"""Closing what anyllm keeps open: ``anyllm.close()``, ``await anyllm.aclose()``, ``anyllm.closing()``.

``responses()`` keeps one backend per configuration (provider, base URL, key, client
arguments) for the life of the process, so calls reuse pooled connections instead of
paying for new clients each time (:mod:`anyllm.providers.factory`). What a backend holds
open: a sync HTTP client, one async client per event loop, and the local response store's
SQLite connection when it opened one. These functions close all of it; the next call opens
what it needs again, so closing is always safe, and it is meant for when no call is in
flight (a call still running on a closed client fails with a typed error).

An async client is also closed by itself when its event loop shuts down through
``asyncio.run`` or ``asyncio.Runner`` (:mod:`anyllm.providers.loop_clients`): a plain
``asyncio.run(main())`` leaves no ``ResourceWarning`` under ``python -X dev``. Call
``await anyllm.aclose()`` before closing a loop by hand.
"""

from __future__ import annotations

from types import TracebackType

from anyllm.providers.factory import aclear_backends, clear_backends

__all__ = ["Closing", "aclose", "close", "closing"]


def close() -> None:
    """Close every client and store anyllm opened (async clients on their own event loops)."""
    clear_backends()


async def aclose() -> None:
    """:func:`close`, awaiting the running event loop's async clients: use it in async code."""
    await aclear_backends()


class Closing:
    """``with anyllm.closing():`` / ``async with anyllm.closing():`` closes on exit."""

    def __enter__(self) -> Closing:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        close()

    async def __aenter__(self) -> Closing:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await aclose()


def closing() -> Closing:
    """A context manager, sync or async, that closes what anyllm opened when the block ends."""
    return Closing()
