"""Behaviours for :class:`tests.helpers.faults.FaultServer` that attack the client's patience
and memory rather than its parser: a reply trickled a byte at a time, an endless run of
blank lines or comments in an event stream, and compressed bodies that inflate far past
their size on the wire (gzip bombs, one or two layers deep).

Each is a finite attack unless said otherwise, so a client without the defence under test
ends in a *different* outcome (success, or an inactivity timeout) instead of hanging the
test run.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Sequence

from tests.helpers.faults import Behaviour, Conn, Request

__all__ = [
    "blank_lines",
    "bomb",
    "encoded_reply",
    "gzipped",
    "trickle_body",
    "trickle_head",
    "trickle_stream",
]


def _chunks_slowly(conn: Conn, data: bytes, pause: float) -> bool:
    """``data`` one byte per chunk, ``pause`` seconds apart; False when the client left."""
    for byte in data:
        if conn.release.wait(pause):
            return False
        if not conn.chunk(bytes([byte])):
            return False
    return True


def trickle_body(
    body: bytes, *, slow: int, pause: float, content_type: str = "application/json"
) -> Behaviour:
    """A complete reply whose last ``slow`` bytes come one at a time, ``pause`` s apart:
    every read gets a byte well within any read timeout, the whole takes ``slow * pause``."""

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, {"content-type": content_type})
        if conn.chunk(body[:-slow]) and _chunks_slowly(conn, body[-slow:], pause):
            conn.end_chunks()

    return behaviour


def trickle_head(body: bytes, *, pause: float, content_type: str = "application/json") -> Behaviour:
    """The status line and headers one byte at a time, then the whole body at once."""

    def behaviour(conn: Conn, _request: Request) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        for byte in head:
            if conn.release.wait(pause) or not conn.send(bytes([byte])):
                return
        conn.send(body)

    return behaviour


def trickle_stream(
    frames: Sequence[bytes], *, before: int, slow: int, pause: float, filler: bytes | None = None
) -> Behaviour:
    """An event stream: ``before`` frames at once, then ``slow`` chunks ``pause`` s apart in
    which no event completes (the next frame's first bytes one at a time, or ``filler``
    each time: a blank line, a comment), then the rest at once."""

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, {"content-type": "text/event-stream"})
        for frame in frames[:before]:
            if not conn.chunk(frame):
                return
        rest = b"".join(frames[before:])
        if filler is None:
            ok = _chunks_slowly(conn, rest[:slow], pause)
            rest = rest[slow:]
        else:
            ok = all(not conn.release.wait(pause) and conn.chunk(filler) for _ in range(slow))
        if ok and conn.chunk(rest):
            conn.end_chunks()

    return behaviour


def blank_lines(total: int | None, *, line: bytes = b"\n", then_stall: bool = True) -> Behaviour:
    """An event stream of nothing but ``line`` (a blank line, or a comment such as
    ``b": ping\\n\\n"``), ``total`` bytes of it (None: until the client leaves), then silence."""
    block = line * max(1, (1 << 16) // len(line))

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, {"content-type": "text/event-stream"})
        sent = 0
        while (total is None or sent < total) and not conn.release.is_set():
            if not conn.chunk(block):
                return
            sent += len(block)
        if then_stall:
            conn.stall()
        conn.close()

    return behaviour


def gzipped(data: bytes, layers: int = 1) -> bytes:
    for _ in range(layers):
        data = gzip.compress(data, compresslevel=9)
    return data


@functools.cache
def _bomb_body(prefix: bytes, inflated: int, layers: int) -> bytes:
    """``prefix`` then ``x`` up to ``inflated`` bytes, gzipped ``layers`` times, compressed in
    blocks so the inflated body never exists in memory here either."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(prefix)]
    block = b"x" * (1 << 20)
    left = inflated - len(prefix)
    while left > 0:
        parts.append(packer.compress(block[:left]))
        left -= len(block)
    parts.append(packer.flush())
    return gzipped(b"".join(parts), layers - 1)


def bomb(
    inflated: int, content_type: str = "application/json", *, layers: int = 1, encoding: str | None = None
) -> Behaviour:
    """A reply whose ``layers``-deep gzip body inflates to ``inflated`` bytes (an unterminated
    JSON string, or one endless SSE ``data:`` line); ``Content-Encoding: gzip`` once per layer."""
    prefix = b"data: " if "event-stream" in content_type else b'{"id": "'
    body = _bomb_body(prefix, inflated, layers)
    headers = {"content-type": content_type, "content-encoding": encoding or ", ".join(["gzip"] * layers)}

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, headers, length=len(body))
        conn.send(body)

    return behaviour


def encoded_reply(body: bytes, content_type: str, *, layers: int = 1) -> Behaviour:
    """A well-formed gzip-encoded reply (what real servers send): it must still work."""
    data = gzipped(body, layers)
    headers = {"content-type": content_type, "content-encoding": ", ".join(["gzip"] * layers)}

    def behaviour(conn: Conn, _request: Request) -> None:
        conn.head(200, headers, length=len(data))
        conn.send(data)

    return behaviour
