"""Server-sent events decoding: one decoder for every protocol.

Follows the WHATWG event-stream rules: LF, CR and CRLF line ends (a CRLF may be split
across chunks), comment lines, multi-line ``data``, ``event:`` and ``id:`` fields, a
leading BOM. Bytes are split into lines before decoding, so a chunk boundary inside a
multi-byte UTF-8 character is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DONE", "SSEDecoder", "SSEEvent"]

DONE = "[DONE]"


@dataclass(slots=True)
class SSEEvent:
    """One dispatched event: ``data`` lines joined with newlines."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: feed byte chunks, get complete events back."""

    __slots__ = ("_data", "_event", "_id", "_pending", "_retry", "_skip_lf", "_started")

    def __init__(self) -> None:
        # Bytes of the unfinished last line, as received: joined only once a line end
        # arrives, so a huge event split into many chunks costs linear time, not quadratic.
        self._pending: list[bytes] = []
        self._skip_lf = False
        self._started = False
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume one chunk; return the events it completed."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if cut < 0:
            self._pending.append(chunk)
            return []
        if self._pending:
            cut += sum(len(part) for part in self._pending)
            self._pending.append(chunk)
            buffer = b"".join(self._pending)
        else:
            buffer = chunk
        complete, rest = buffer[: cut + 1], buffer[cut + 1 :]
        self._pending = [rest] if rest else []
        if not rest and complete.endswith(b"\r"):
            # The chunk ended on CR: the LF of a CRLF may open the next chunk, and must not
            # count as a blank line. (A CR followed by more text already ended its line.)
            self._skip_lf = True
        events: list[SSEEvent] = []
        for line in complete.splitlines():
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: an unterminated last line is processed, a pending event dispatched.

        A final event without its blank line is still delivered: real servers end
        streams that way and dropping data silently would be worse than accepting it.
        """
        events: list[SSEEvent] = []
        if self._pending:
            line = b"".join(self._pending)
            self._pending = []
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> SSEEvent | None:
        line = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            if line.startswith("\ufeff"):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = None
            return None
        event = SSEEvent(self._event, "\n".join(self._data), self._id, self._retry)
        self._data = []
        self._event = None
        return event
