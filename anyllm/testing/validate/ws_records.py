"""A recorded WebSocket exchange as the validator reads it: one record per line of the log.

Four kinds of record, in the order they happened (``at``: seconds since the connection
opened, informational)::

    {"direction": "open", "path": "/v1/responses", "status": 101}        a connection (handshake)
    {"direction": "send", "at": 0.01, "text": "{\\"type\\": \\"response.create\\", ...}"}   client -> server
    {"direction": "recv", "at": 0.20, "text": "{\\"type\\": \\"response.created\\", ...}"}  server -> client
    {"direction": "close", "at": 0.90, "code": 1011, "reason": "...", "by": "server"}  it closed

``open`` and ``close`` are optional: a log of ``send``/``recv`` frames alone is one
connection whose end was not recorded. A second ``open`` starts a new connection (the
connection-local state of the continuation rules starts empty again). This is the format
of ``anyllm-conformance validate`` for frames as JSONL, of the cassettes' ``websocket``
section (:mod:`anyllm.testing.cassettes.websocket`), and what
``anyllm.websocket.frames.Frame`` objects (``direction``, ``at``, ``text``) convert to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DIRECTIONS",
    "RecordError",
    "WsRecord",
    "as_records",
    "is_record_log",
    "parse_jsonl",
    "record_from",
]

Direction = Literal["open", "send", "recv", "close"]
DIRECTIONS: tuple[Direction, ...] = ("open", "send", "recv", "close")


class RecordError(ValueError):
    """A record that is not one of the four kinds, naming what is wrong with it."""


@dataclass(frozen=True, slots=True)
class WsRecord:
    """One record (see the module doc). ``line``: where it came from in a JSONL file."""

    direction: Direction
    at: float | None = None
    text: str = ""  # the frame (send/recv); the close reason (close)
    code: int | None = None  # close code (close)
    status: int | None = None  # handshake status (open): 101 accepted, else the HTTP refusal
    path: str = ""  # the WebSocket URL's path (open)
    by: str = ""  # who closed first (close): "server", "client", or "" unknown
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as one JSONL line or one cassette entry holds it."""
        out: dict[str, Any] = {"direction": self.direction}
        if self.at is not None:
            out["at"] = self.at
        if self.direction == "open":
            out["path"] = self.path
            if self.status is not None:
                out["status"] = self.status
            if self.text:
                out["body"] = self.text
        elif self.direction == "close":
            out["code"] = self.code
            out["reason"] = self.text
            if self.by:
                out["by"] = self.by
        else:
            out["text"] = self.text
        return out


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{what} is {value!r}, not an integer")
    return value


def record_from(obj: Any, line: int | None = None) -> WsRecord:
    """A record from a mapping (JSONL line, cassette entry) or an object with ``direction``,
    ``at`` and ``text`` (``anyllm.websocket.frames.Frame``). Raises RecordError."""
    if isinstance(obj, WsRecord):
        return obj
    if isinstance(obj, Mapping):
        get = obj.get
    else:

        def get(key: str, default: Any = None) -> Any:
            return getattr(obj, key, default)

    direction = get("direction")
    if direction not in DIRECTIONS:
        raise RecordError(f"direction is {direction!r}: expected one of {', '.join(DIRECTIONS)}")
    at = get("at")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
        raise RecordError(f"at is {at!r}, not a number of seconds")
    if direction in ("send", "recv"):
        text = get("text")
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordError(
                    f"a {direction} frame is binary, not UTF-8 text (byte {exc.start})"
                ) from None
        if not isinstance(text, str):
            raise RecordError(f"a {direction} record has no text (got {type(text).__name__})")
        return WsRecord(direction, at, text, line=line)
    if direction == "close":
        reason = get("reason") or ""
        by = get("by") or ""
        if by not in ("", "server", "client"):
            raise RecordError(f"by is {by!r}: expected server or client")
        return WsRecord("close", at, str(reason), code=_int(get("code"), "close code"), by=by, line=line)
    body = get("body") or ""
    return WsRecord(
        "open",
        at,
        str(body),
        status=_int(get("status"), "handshake status"),
        path=str(get("path") or ""),
        line=line,
    )


def as_records(frames: Iterable[Any]) -> list[WsRecord]:
    """Records from any of the accepted forms (raises RecordError on the first bad one)."""
    return [record_from(frame) for frame in frames]


def parse_jsonl(text: str) -> tuple[list[WsRecord], list[tuple[int, str]]]:
    """Records of a JSONL log, and (line, problem) for every line that is not a record."""
    records: list[WsRecord] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"line is not JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            records.append(record_from(obj, number))
        except RecordError as exc:
            problems.append((number, f"not a WebSocket record: {exc}"))
    return records, problems


def is_record_log(first: Any) -> bool:
    """Does a decoded JSONL line look like a WebSocket record (rather than an event)?"""
    return isinstance(first, dict) and first.get("direction") in DIRECTIONS and "type" not in first
