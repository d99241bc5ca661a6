"""``timeout`` as a deadline: for a whole non-streaming reply, and for each streamed event.

httpx2 (like httpx) applies its read timeout to each socket read, so a server that trickles
a byte every few seconds never times out, and one that sends blank lines forever keeps a
stream open forever. Here the time a reply (or the next event of a stream) may take is
one :class:`Deadline`, made current in a context variable while the library's code, or
the openai SDK's, reads. A network backend wrapped around httpcore2's (installed on every
client the library builds) clamps each connect, read and write to the time left and
raises httpcore2's own timeout once it is gone, so a blocked read ends *at* the deadline,
not one read timeout later, and every client maps it to the timeout error it already
knows (``ProviderTimeoutError`` here).

Whoever reads decides what one deadline covers: the request and the whole body for a JSON
reply; the request and the first event, then each next event, for a stream (restarted
when an event completes). Bytes that complete no event (blank lines, comments, a trickle)
do not restart it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpcore2

__all__ = ["Deadline", "install_client", "install_transport"]

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("anyllm_deadline", default=None)


class Deadline:
    """``seconds`` from the last :meth:`restart` (None: no deadline)."""

    __slots__ = ("expires", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expires: float | None = None
        self.restart()

    def restart(self) -> None:
        """A new period begins (a stream's next event is awaited from now)."""
        self.expires = None if self.seconds is None else time.monotonic() + self.seconds

    def enter(self) -> contextvars.Token[Deadline | None]:
        """Make this the deadline every network operation of this thread or task obeys."""
        return _CURRENT.set(self)

    @staticmethod
    def leave(token: contextvars.Token[Deadline | None]) -> None:
        _CURRENT.reset(token)

    def iterate(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks``, each one read under this deadline."""
        iterator = iter(chunks)
        while True:
            token = _CURRENT.set(self)
            try:
                chunk = next(iterator, None)
            finally:
                _CURRENT.reset(token)
            if chunk is None:
                return
            yield chunk

    async def aiterate(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Async :meth:`iterate`."""
        while True:
            token = _CURRENT.set(self)
            try:
                chunk = await anext(chunks, None)
            finally:
                _CURRENT.reset(token)
            if chunk is None:
                return
            yield chunk


def _left(timeout: float | None, expired: type[httpcore2.TimeoutException]) -> float | None:
    """``timeout`` clamped to the current deadline; ``expired`` raised once it has passed."""
    deadline = _CURRENT.get()
    if deadline is None or deadline.expires is None:
        return timeout
    left = deadline.expires - time.monotonic()
    if left <= 0:
        raise expired(f"no reply within the {deadline.seconds:g} s deadline")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.NetworkStream:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.NetworkStream:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore2.AsyncNetworkStream):
    def __init__(self, inner: httpcore2.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _left(timeout, httpcore2.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _left(timeout, httpcore2.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, inner: httpcore2.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.AsyncNetworkStream:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.AsyncNetworkStream:
        timeout = _left(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install_transport(transport: object) -> bool:
    """Put the deadline-aware network backend under ``transport`` (an httpx2 HTTPTransport,
    AsyncHTTPTransport, or a wrapper exposing ``inner``); False when it has no connection
    pool of httpcore2's (a mock or replay transport: nothing to clamp there).

    httpx2 offers no public way to pass a network backend, so this sets the pool's
    ``_network_backend`` before its first connection; ``tests/test_deadlines.py`` fails if
    a new httpx2 stops honouring it.
    """
    seen = transport
    while not hasattr(seen, "_pool") and hasattr(seen, "inner"):
        seen = seen.inner
    pool = getattr(seen, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, _Backend | _AsyncBackend):
        return True
    if isinstance(backend, httpcore2.NetworkBackend):
        pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        return True
    if isinstance(backend, httpcore2.AsyncNetworkBackend):
        pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
        return True
    return False


def install_client(client: Any) -> Any:
    """Every transport of an httpx2 client, sync or async (the default one and any proxy
    mounts); returns the client."""
    install_transport(getattr(client, "_transport", None))
    for mounted in (getattr(client, "_mounts", None) or {}).values():
        if mounted is not None:
            install_transport(mounted)
    return client
