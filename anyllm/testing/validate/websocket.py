"""The WebSocket validator: a recorded exchange (records of :mod:`.ws_records`) judged turn by turn.

A connection is a sequence of turns. The client starts each with a ``response.create``
message (checked: type, forbidden fields, the request schema, the compaction rules); the
server answers turns in the order they were sent, one at a time ("A single WebSocket
connection MUST process at most one in-flight response"), so every server frame belongs to
the oldest turn that has not ended. A turn ends at its terminal event, or at an ``error``
envelope (a turn refused before it streamed), or when the connection closes.

The events of a turn go through a :class:`~.stream.StreamValidator` of their own, unframed
(the SSE framing rules do not apply): ordering, ``sequence_number``, item and content-part
lifecycles and terminal events "have the same meaning on both transports". Their
violations are re-pathed to the record they came from (``$[7]`` is the eighth record) and
tagged with the connection and turn.

Connection-local state (spec "WebSocket Continuation") is modelled per connection: the
response ids the connection produced, and the ids evicted by a failed continuation. A
``store: false`` turn continuing from an id outside that state must fail with
``previous_response_not_found`` (WS-PREVIOUS-NOT-FOUND, WS-FAILED-CONTINUATION-EVICTS).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from anyllm.spec import TERMINAL_EVENT_TYPES
from anyllm.testing.rules import Profile
from anyllm.testing.validate.request_rules import validate_request
from anyllm.testing.validate.schema_check import is_slug_prefixed
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.stream import StreamValidator
from anyllm.testing.validate.violations import JsonPath, Sink, Violation
from anyllm.testing.validate.ws_records import WsRecord, as_records

__all__ = ["FORBIDDEN_FIELDS", "TurnSummary", "WebSocketValidator", "validate_websocket"]

FORBIDDEN_FIELDS = ("stream", "stream_options", "background")
NOT_FOUND = "previous_response_not_found"
_PATH_INDEX = re.compile(r"^\$\[(\d+)\]")


@dataclass
class TurnSummary:
    """What one turn came to, for the cases that judge semantics (continuation, recovery)."""

    connection: int  # 1-based
    number: int  # 1-based within its connection
    request: dict[str, Any]
    create_index: int  # record index of its response.create
    events: list[dict[str, Any]] = field(default_factory=list)
    response_id: str | None = None
    final: dict[str, Any] | None = None  # the terminal event's response
    terminal: str | None = None  # the terminal event's type
    error: dict[str, Any] | None = None  # the error envelope that ended or broke it
    closed: bool = False  # the connection closed before the turn ended

    @property
    def error_code(self) -> str | None:
        """The code it failed with: the envelope's ``error.code``, else the failed response's."""
        for source in (self.error, self.final):
            inner = source.get("error") if isinstance(source, dict) else None
            code = inner.get("code") if isinstance(inner, dict) else None
            if isinstance(code, str):
                return code
        return None

    @property
    def failed(self) -> bool:
        """Ended by an error (envelope or response.failed), not by a completed/incomplete response."""
        return self.error is not None or self.terminal == "response.failed"

    @property
    def status(self) -> int | None:
        status = self.error.get("status") if self.error else None
        return status if type(status) is int else None


class _Turn:
    """A turn being judged: its summary, its stream validator, where its events are."""

    __slots__ = ("awaiting_failed", "expect", "positions", "stream", "summary")

    def __init__(self, summary: TurnSummary) -> None:
        self.summary = summary
        self.stream: StreamValidator | None = None
        self.positions: list[int] = []  # record index of each event fed to ``stream``
        self.awaiting_failed = False  # an error event came mid-stream: response.failed must follow
        self.expect: tuple[str, str] | None = None  # (rule, why) when it must fail as not found


class WebSocketValidator:
    """Judge a recorded WebSocket exchange record by record: ``feed`` each, then ``finish``.

    ``compacted``: the ``output`` of /responses/compact replies the client had before these
    records (WS-COMPACT-BASE-INPUT checks turns built on them).
    """

    def __init__(
        self,
        profile: Profile = "openresponses",
        *,
        compacted: Iterable[Sequence[Any]] = (),
        store: SchemaStore | None = None,
    ) -> None:
        self.profile = profile
        self._store = store or default_store()
        self._sink = Sink(profile)
        self.windows = [list(window) for window in compacted]
        self.turns: list[TurnSummary] = []
        self._index = -1
        self._connection = 0
        self._pending: deque[_Turn] = deque()
        self._known: set[str] = set()
        self._evicted: set[str] = set()
        self._cut: set[str] = set()  # responses whose turn ended at an error event, unfinished
        self._open = False
        self._finished = False

    @property
    def violations(self) -> list[Violation]:
        return list(self._sink.items)

    # -- records --------------------------------------------------------------------------

    def feed(self, record: Any) -> None:
        """One record (a :class:`WsRecord`, a mapping or a ``Frame``-like object)."""
        if not isinstance(record, WsRecord):
            (record,) = as_records([record])
        self._index += 1
        if record.direction == "open":
            self._end_connection(None, record)
            self._start_connection()
            return
        if not self._open:
            self._start_connection()
        if record.direction == "send":
            self._on_send(record)
        elif record.direction == "recv":
            self._on_recv(record)
        else:
            self._end_connection(record, record)

    def finish(self) -> list[Violation]:
        """The records ended: turns still waiting for an answer are judged as cut off."""
        if self._finished:
            return []
        self._finished = True
        start = len(self._sink.items)
        self._end_connection(None, None)
        return self._sink.items[start:]

    def _start_connection(self) -> None:
        self._connection += 1
        self._open = True
        self._pending.clear()
        self._known = set()
        self._evicted = set()
        self._cut = set()

    def _end_connection(self, close: WsRecord | None, at: WsRecord | None) -> None:
        if not self._open:
            return
        self._open = False
        unanswered = [t for t in self._pending if t.summary.error is None]
        if close is not None and close.by != "client" and unanswered:
            how = f"close code {close.code}" if close.code is not None else "a close without a code"
            why = f", reason {close.text!r}" if close.text else ""
            self._add(
                "WS-CLOSED-WITHOUT-ERROR",
                (self._index,),
                f"the server closed the connection ({how}{why}) with {len(unanswered)} turn(s) unanswered "
                f"and no error envelope (turn {unanswered[0].summary.number} sent at record "
                f"[{unanswered[0].summary.create_index}])",
                close,
            )
        while self._pending:
            turn = self._pending.popleft()
            turn.summary.closed = close is not None
            if turn.stream is None and close is None:
                self._add(
                    "TERMINAL-EVENT-MISSING",
                    (self._index + 1,),
                    f"turn {turn.summary.number} (record [{turn.summary.create_index}]) got no answer "
                    "before the recording ended",
                    None,
                )
            self._end_turn(turn, end=self._index if close is not None else self._index + 1)

    # -- client frames --------------------------------------------------------------------

    def _on_send(self, record: WsRecord) -> None:
        index = self._index
        try:
            body = json.loads(record.text)
        except ValueError:
            self._add(
                "WS-CREATE-MESSAGE", (index,), f"client message is not JSON: {record.text[:80]!r}", record
            )
            return
        kind = body.get("type") if isinstance(body, dict) else None
        if kind != "response.create":
            if isinstance(kind, str) and is_slug_prefixed(kind):
                self._sink.once(
                    "EXTENSION-TYPE", f"ws:{kind}", (index,), f"extension client message {kind!r}"
                )
                return
            what = f"type {kind!r}" if isinstance(body, dict) else f"a JSON {type(body).__name__}"
            self._add(
                "WS-CREATE-MESSAGE", (index, "type"), f"client message is {what}, not response.create", record
            )
            return
        sent = [name for name in FORBIDDEN_FIELDS if name in body]
        for name in sent:
            self._add(
                "WS-FORBIDDEN-FIELD",
                (index, name),
                f"response.create carries {name}={body[name]!r}: "
                "HTTP/SSE transport fields MUST NOT be sent on WebSocket",
                record,
            )
        request = {k: v for k, v in body.items() if k != "type" and k not in FORBIDDEN_FIELDS}
        for violation in validate_request(request, self.profile, store=self._store):
            self._sink.items.append(
                self._repath(violation, [index], index, f"record [{index}] response.create")
            )
        self._compaction(request, index, record)
        connection_turns = sum(1 for t in self.turns if t.connection == self._connection)
        summary = TurnSummary(self._connection, connection_turns + 1, request, index)
        self.turns.append(summary)
        self._pending.append(_Turn(summary))

    def _compaction(self, request: dict[str, Any], index: int, record: WsRecord) -> None:
        items = request.get("input")
        if not isinstance(items, list):
            return
        compactions = [
            i for i, item in enumerate(items) if isinstance(item, dict) and item.get("type") == "compaction"
        ]
        if not compactions:
            return
        previous = request.get("previous_response_id")
        if previous is not None:
            self._add(
                "WS-COMPACT-NEW-CHAIN",
                (index, "previous_response_id"),
                f"input[{compactions[0]}] is a compaction item, yet the turn continues from {previous!r}: "
                "after standalone compaction a new response omits previous_response_id",
                record,
            )
        for window in self.windows:
            marks = {
                _identity(item)
                for item in window
                if isinstance(item, dict) and item.get("type") == "compaction"
            }
            if not marks & {_identity(items[i]) for i in compactions}:
                continue
            if [_identity(item) for item in items[: len(window)]] != [_identity(item) for item in window]:
                self._add(
                    "WS-COMPACT-BASE-INPUT",
                    (index, "input"),
                    f"the input holds a compaction item of a /responses/compact reply but does not start "
                    f"with that reply's whole output ({len(window)} item(s))",
                    record,
                )

    # -- server frames --------------------------------------------------------------------

    def _on_recv(self, record: WsRecord) -> None:
        index = self._index
        if record.text.strip() == "[DONE]":
            self._add("WS-DONE-FRAME", (index,), "a [DONE] frame: SSE framing on a WebSocket", record)
            return
        try:
            body = json.loads(record.text)
        except ValueError:
            self._add("WS-FRAME-JSON", (index,), f"server frame is not JSON: {record.text[:80]!r}", record)
            return
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            self._add(
                "WS-FRAME-JSON", (index,), "server frame is not an event object with a string type", record
            )
            return
        if len(self._pending) > 1 and self._pending[0].awaiting_failed and self._starts_another(body):
            # The turn ended at its mid-stream error event (no response.failed came): this
            # frame starts the next turn's response.
            cut = self._pending.popleft()
            if cut.summary.response_id is not None:
                self._cut.add(cut.summary.response_id)
            self._end_turn(cut, end=index)
        response = body.get("response")
        late = response.get("id") if isinstance(response, dict) else None
        if late in self._cut:  # the response cut short above was still in flight after all
            current = self._pending[0].summary.response_id if self._pending else None
            self._add(
                "WS-ONE-IN-FLIGHT",
                (index, "response", "id"),
                f"{body['type']!r} of response {late!r} arrives after response {current!r} started",
                record,
            )
            return
        if not self._pending:
            self._sink.once(
                "WS-EVENT-WITHOUT-CREATE",
                f"gap:{self._connection}:{len(self.turns)}",
                (index,),
                f"{body['type']!r} while no response.create is waiting for an answer",
            )
            return
        turn = self._pending[0]
        if turn.expect is None and turn.stream is None:
            turn.expect = self._expectation(turn.summary.request)
        if body["type"] == "error":
            self._on_error(turn, body, record)
            return
        summary = turn.summary
        rid = late
        if body["type"] == "response.created" and isinstance(rid, str):
            if summary.response_id is not None and rid != summary.response_id:
                self._add(
                    "WS-ONE-IN-FLIGHT",
                    (index, "response", "id"),
                    f"response {rid!r} starts while {summary.response_id!r} (turn {summary.number}) has not "
                    "reached its terminal event",
                    record,
                )
            elif summary.response_id is None:
                summary.response_id = rid
                self._known.add(rid)
        self._feed_stream(turn, body, record)
        summary.events.append(body)
        if body["type"] in TERMINAL_EVENT_TYPES:
            summary.terminal = body["type"]
            summary.final = response if isinstance(response, dict) else None
            self._pending.popleft()
            self._end_turn(turn, end=index + 1)

    def _starts_another(self, body: dict[str, Any]) -> bool:
        """A response.created of another response than the current turn's."""
        response = body.get("response")
        rid = response.get("id") if isinstance(response, dict) else None
        return body.get("type") == "response.created" and rid != self._pending[0].summary.response_id

    def _on_error(self, turn: _Turn, body: dict[str, Any], record: WsRecord) -> None:
        index = self._index
        summary = turn.summary
        summary.error = body
        if turn.stream is None:  # refused before it streamed: the envelope is the whole answer
            self._check_envelope(body, index, record)
            self._pending.popleft()
            self._end_turn(turn, end=index + 1)
            return
        # Mid-stream: the streaming `error` event, judged by the streaming rules (its schema,
        # followed by response.failed), as on SSE.
        self._feed_stream(turn, body, record)
        summary.events.append(body)
        turn.awaiting_failed = True

    def _check_envelope(self, body: dict[str, Any], index: int, record: WsRecord) -> None:
        problems = []
        status = body.get("status")
        if type(status) is not int:
            problems.append(
                ("status", "no integer status" if status is None else f"status {status!r} is not an integer")
            )
        inner = body.get("error")
        if not isinstance(inner, dict):
            problems.append(("error", "no error object"))
        else:
            for key in ("code", "message"):
                if not isinstance(inner.get(key), str):
                    problems.append((f"error.{key}", f"error.{key} is {inner.get(key)!r}, not a string"))
        if not problems and not self._store.validator("WebSocketErrorEvent").is_valid(body):
            problems.append(("", "does not match WebSocketErrorEvent"))
        for where, what in problems:
            path: JsonPath = (index, *where.split(".")) if where else (index,)
            self._add("WS-ERROR-ENVELOPE", path, f"error frame: {what}", record)

    def _feed_stream(self, turn: _Turn, body: dict[str, Any], record: WsRecord) -> None:
        if turn.stream is None:
            turn.stream = StreamValidator(self.profile, request=turn.summary.request, store=self._store)
        turn.positions.append(self._index)
        found = turn.stream.feed(body, line=record.line)
        self._take(turn, found, self._index + 1)

    # -- turn ends -------------------------------------------------------------------------

    def _end_turn(self, turn: _Turn, *, end: int) -> None:
        summary = turn.summary
        if turn.stream is not None:
            self._take(turn, turn.stream.finish(), end)
        previous = summary.request.get("previous_response_id")
        if turn.expect is not None and not summary.closed and (summary.events or summary.error):
            rule, why = turn.expect
            code = summary.error_code
            if code != NOT_FOUND:
                got = (
                    f"an error with code {code!r}"
                    if summary.failed
                    else f"response {summary.response_id!r} ({summary.terminal or 'no terminal event'})"
                )
                self._add(
                    rule,
                    (summary.create_index, "previous_response_id"),
                    f"turn {summary.number} continues (store=false) from {previous!r}, {why}; it must fail "
                    f"with {NOT_FOUND}, got {got}",
                    None,
                )
        if isinstance(previous, str) and summary.failed:
            status = summary.status
            if status is None or status >= 400:
                self._evicted.add(previous)

    def _expectation(self, request: dict[str, Any]) -> tuple[str, str] | None:
        """Must this turn fail with previous_response_not_found? (rule, why) if so."""
        previous = request.get("previous_response_id")
        if request.get("store") is not False or not isinstance(previous, str):
            return None
        if previous in self._evicted:
            return (
                "WS-FAILED-CONTINUATION-EVICTS",
                "which an earlier failed continuation on this connection evicted",
            )
        if previous not in self._known:
            return ("WS-PREVIOUS-NOT-FOUND", "an id this connection never produced")
        return None

    # -- violations ------------------------------------------------------------------------

    def _add(self, rule: str, path: JsonPath, message: str, record: WsRecord | None) -> None:
        self._sink.add(rule, path, message, record.line if record is not None else None)

    def _take(self, turn: _Turn, found: list[Violation], end: int) -> None:
        summary = turn.summary
        where = f"connection {summary.connection} turn {summary.number}"
        self._sink.items.extend(self._repath(v, turn.positions, end, where) for v in found)

    @staticmethod
    def _repath(violation: Violation, positions: list[int], end: int, where: str) -> Violation:
        """A stream (or request) violation's ``$[k]`` made the record index it concerns."""
        match = _PATH_INDEX.match(violation.path)
        path = violation.path
        if match:
            k = int(match.group(1))
            index = positions[k] if k < len(positions) else end
            path = f"$[{index}]" + violation.path[match.end() :]
        elif path.startswith("$") and positions:
            path = f"$[{positions[0]}]" + path[1:]
        return dataclasses.replace(violation, path=path, message=f"[{where}] {violation.message}")


def _identity(item: Any) -> tuple[Any, ...]:
    """What makes an input item the same item of a compacted window: its type, its id, and a
    compaction's content. A client may drop output-only fields (``status``, ``created_by``)
    when it passes the window back: the item is still the one the server returned."""
    if not isinstance(item, dict):
        return (repr(item),)
    if item.get("type") == "compaction":
        return ("compaction", item.get("encrypted_content"))
    if "id" in item:
        return (item.get("type", "message"), item.get("id"))
    return (item.get("type", "message"), item.get("role"), json.dumps(item.get("content"), sort_keys=True))


def validate_websocket(
    records: Iterable[Any],
    profile: Profile = "openresponses",
    *,
    compacted: Iterable[Sequence[Any]] = (),
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a whole recorded WebSocket exchange (records, mappings or ``Frame`` objects)."""
    validator = WebSocketValidator(profile, compacted=compacted, store=store)
    for record in records:
        validator.feed(record)
    validator.finish()
    return validator.violations
