"""Raw SSE captures -> framed events with line numbers, for the validator.

Why not just ``SSEDecoder``: the validator must say *where* a capture is broken (a line
number for a bad event, a byte offset for undecodable bytes) and whether it was cut in the
middle of an event, which a decoder that forgives a missing final blank line cannot tell.
Decoding itself is ``anyllm.streaming.SSEDecoder``, fed one line at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from anyllm.streaming import SSEDecoder

__all__ = ["FramedEvent", "RawProblem", "split_sse"]


@dataclass(frozen=True, slots=True)
class FramedEvent:
    """One SSE event as it was framed on the wire."""

    event: str | None
    data: str
    id: str | None
    line: int  # 1-based line where the event's first field was


@dataclass(frozen=True, slots=True)
class RawProblem:
    """Something wrong with the bytes themselves (not with an event)."""

    kind: str  # "binary" | "truncated"
    message: str
    line: int | None = None
    offset: int | None = None


def _binary_problem(raw: bytes) -> RawProblem | None:
    nul = raw.find(b"\x00")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if nul < 0 or exc.start < nul:
            line = raw.count(b"\n", 0, exc.start) + 1
            return RawProblem("binary", f"not UTF-8 text: {exc.reason} at byte {exc.start}", line, exc.start)
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        return RawProblem("binary", f"NUL byte at byte {nul}: binary data, not an SSE stream", line, nul)
    return None


def split_sse(raw: bytes | str) -> tuple[list[FramedEvent], list[RawProblem]]:
    """Split a whole capture into events; report binary content and a cut-off end."""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    problems: list[RawProblem] = []
    binary = _binary_problem(data)
    if binary is not None:
        return [], [binary]
    decoder = SSEDecoder()
    events: list[FramedEvent] = []
    start: int | None = None
    lines = data.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if start is None and line.strip(b"\r\n"):
            start = number
        for ev in decoder.feed(line):
            events.append(FramedEvent(ev.event, ev.data, ev.id, start or number))
            start = None
    last_line = len(lines)
    ended_cleanly = not data or _ends_with_blank_line(data)
    for ev in decoder.flush():
        events.append(FramedEvent(ev.event, ev.data, ev.id, start or last_line))
    if not ended_cleanly and data.strip():
        problems.append(
            RawProblem(
                "truncated",
                "the capture ends inside an event (no blank line after the last field): truncated stream",
                last_line,
                len(data),
            )
        )
    return events, problems


def _ends_with_blank_line(data: bytes) -> bool:
    """The last line is blank, whichever line ends (LF, CRLF, CR, mixed) frame it."""
    for terminator in (b"\r\n", b"\n", b"\r"):
        if data.endswith(terminator):
            return data[: -len(terminator)].endswith((b"\n", b"\r"))
    return False
