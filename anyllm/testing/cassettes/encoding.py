"""Stored bodies are plain text: every content coding undone, under the recording bound.

Why: a compressed body hides a key from the scrubber and from the check that refuses a
cassette holding one, and a small compressed body can inflate to gigabytes (a gzip bomb).
So every coding a server stacked (``Content-Encoding: gzip, gzip``) is undone, the decoded
size is bounded like the body itself, and a coding the recorder cannot undo is refused:
never stored as opaque bytes. Recording asks only for the codings it can undo
(:data:`ACCEPT_ENCODING`), so a well-behaved server never sends another.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

__all__ = [
    "ACCEPT_ENCODING",
    "DECODABLE",
    "BodyTooLargeError",
    "UndecodableBodyError",
    "accepted_encodings",
    "content_codings",
    "decode_body",
]

DECODABLE = frozenset({"gzip", "x-gzip", "deflate"})
ACCEPT_ENCODING = "gzip, deflate"


class UndecodableBodyError(ValueError):
    """A body in a coding the recorder cannot undo, or that does not decode as labelled."""


class BodyTooLargeError(ValueError):
    """A body that inflates past the bound."""


def content_codings(values: Iterable[str]) -> list[str]:
    """The codings of ``Content-Encoding`` header values, in the order they were applied,
    without ``identity`` (which changes nothing)."""
    codings = [part.strip().lower() for value in values for part in str(value).split(",")]
    return [coding for coding in codings if coding and coding != "identity"]


def accepted_encodings(value: str | None) -> str:
    """The ``Accept-Encoding`` a recording sends: the caller's, less what the recorder
    cannot undo (``br`` and ``zstd`` when their packages are installed)."""
    if value is None:
        return ACCEPT_ENCODING
    kept = [part.strip() for part in value.split(",") if part.split(";")[0].strip().lower() in DECODABLE]
    return ", ".join(kept) or "identity"


def decode_body(content: bytes, codings: list[str], limit: int) -> bytes:
    """``content`` with ``codings`` undone (last applied first), at most ``limit`` bytes at
    every layer. Raises UndecodableBodyError or BodyTooLargeError; never inflates past the bound."""
    for coding in reversed(codings):
        if coding not in DECODABLE:
            raise UndecodableBodyError(
                f"content-encoding {coding!r} is not one the recorder can undo "
                f"({', '.join(sorted(DECODABLE))}); bodies are stored decoded so they can be checked for keys"
            )
        content = _inflate(content, coding, limit)
    return content


def _inflate(data: bytes, coding: str, limit: int) -> bytes:
    if coding == "deflate":  # zlib-wrapped as RFC 9110 says, or raw as some servers send (httpx2 takes both)
        try:
            return _bounded(zlib.decompressobj(zlib.MAX_WBITS), data, limit, coding)
        except UndecodableBodyError:
            return _bounded(zlib.decompressobj(-zlib.MAX_WBITS), data, limit, coding)
    return _bounded(zlib.decompressobj(zlib.MAX_WBITS | 16), data, limit, coding)


def _bounded(decompressor: zlib._Decompress, data: bytes, limit: int, coding: str) -> bytes:
    try:
        out = decompressor.decompress(data, limit + 1)
        if len(out) > limit or decompressor.unconsumed_tail:
            raise BodyTooLargeError(f"the {coding} body inflates past {limit} bytes")
        out += decompressor.flush()
    except zlib.error as exc:
        raise UndecodableBodyError(f"the body does not decode as {coding} ({exc})") from None
    if len(out) > limit:
        raise BodyTooLargeError(f"the {coding} body inflates past {limit} bytes")
    return out
