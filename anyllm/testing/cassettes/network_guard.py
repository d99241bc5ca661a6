"""Replay blocks the network: every non-loopback connection, datagram and name lookup is refused.

Covers every client in the process (not only httpx2): a replayed case that reaches for a
real host fails with :class:`NetworkBlockedError` instead of quietly going live.

Why audit hooks (PEP 578) and not patched ``socket`` functions: patching ``socket.socket``
misses ``_socket.socket`` used directly, ``gethostbyname``, ``sendto`` on a UDP socket, and
any name bound before the patch (``from socket import getaddrinfo``). The interpreter
raises an audit event inside the C functions themselves (``socket.connect``,
``socket.sendto``, ``socket.sendmsg``, ``socket.getaddrinfo``, ``socket.gethostbyname``, ...),
and an exception raised by a hook aborts the call before anything is sent or looked up.
A hook cannot be removed: it is installed once, on first use, and does nothing (one
integer test) outside a ``block_network()`` block.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["NetworkBlockedError", "block_network"]


class NetworkBlockedError(RuntimeError):
    """Replay tried to open a non-loopback connection. Not an OSError on purpose: HTTP
    clients turn OSErrors into retryable connection errors, this must surface as it is."""


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("ascii", "replace")
    host = str(host).strip("[]").rstrip(".").lower()
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


_INET = (socket.AF_INET, socket.AF_INET6)
# event -> what it sends (the socket is argument 0, the address argument 1)
_SENDS = {"socket.connect": "connection", "socket.sendto": "datagram", "socket.sendmsg": "message"}
# event -> index of the host (or sockaddr) argument
_LOOKUPS = {
    "socket.getaddrinfo": 0,
    "socket.gethostbyname": 0,
    "socket.gethostbyname_ex": 0,
    "socket.gethostbyaddr": 0,
    "socket.getnameinfo": 0,
}


class _Guard:
    """The process-wide hook and how many ``block_network()`` blocks are open."""

    def __init__(self) -> None:
        self.depth = 0
        self.installed = False
        self.lock = threading.Lock()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.depth or not event.startswith("socket."):
            return
        if event in _SENDS:
            sock, address = args[0], args[1]
            inet = getattr(sock, "family", None) in _INET and isinstance(address, tuple) and address
            if inet and not _is_loopback(address[0]):
                port = f":{address[1]}" if len(address) > 1 else ""
                raise NetworkBlockedError(
                    f"anyllm replay blocks the network: {_SENDS[event]} to "
                    f"{address[0]}{port} refused (record with --record, or run against a loopback server)"
                )
        elif event in _LOOKUPS:
            target = args[_LOOKUPS[event]]
            host = target[0] if isinstance(target, tuple) and target else target
            if not _is_loopback(host):
                raise NetworkBlockedError(
                    f"anyllm replay blocks the network: name lookup of {host!r} refused "
                    f"({event.removeprefix('socket.')})"
                )

    def enter(self) -> None:
        with self.lock:
            if not self.installed:
                sys.addaudithook(self.hook)
                self.installed = True
            self.depth += 1

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1


_GUARD = _Guard()


@contextlib.contextmanager
def block_network() -> Iterator[None]:
    """Refuse every non-loopback connection, datagram and name lookup inside the block, in
    every thread of the process (blocks may nest and overlap)."""
    _GUARD.enter()
    try:
        yield
    finally:
        _GUARD.leave()
