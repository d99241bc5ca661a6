"""What a conformance case uses for the spec's other half: WebSocket turns and compaction.

:class:`CaseWebSocket` is one WebSocket connection of a case (``with
anyllm_client.websocket() as ws: result = ws.turn("hi", store=False)``), made with
``anyllm.responses_websocket()`` against the target. Live, it records the connection into
the case's cassette (handshake, every frame, the close; scrubbed: see
:mod:`anyllm.testing.cassettes.websocket`); on replay it points the session at a
:class:`~anyllm.testing.cassettes.websocket.ReplayServer` playing the recorded connection
back on 127.0.0.1. Either way the exchange the cassette holds is then judged on the wire by
the WebSocket validator (:mod:`anyllm.testing.validate.websocket`), one validator per case
so connection numbers and compaction windows carry over, and its findings join the case's.

:func:`run_compact` is ``anyllm.compact()`` for a case: the reply is validated
(``SCHEMA-COMPACT``), its output kept as a compacted window (WS-COMPACT-BASE-INPUT), an
error returned typed with its body judged as an error body.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, ProviderConnectionError, ProviderTimeoutError
from anyllm.testing.cassettes.transport import PATCH, RecordingLimitError
from anyllm.testing.cassettes.websocket import (
    RecordedConnection,
    ReplayServer,
    WebSocketReplayMismatch,
)
from anyllm.testing.validate import TurnSummary, WebSocketValidator, validate_compact, validate_response
from anyllm.testing.validate.ws_records import WsRecord

if TYPE_CHECKING:
    from anyllm.testing.cassettes.cassette import AnyllmCassette
    from anyllm.testing.harness import CaseValidator, ConformanceClient

__all__ = ["CaseWebSocket", "Compaction", "WsTurn", "case_websocket_validator", "raw_compact", "run_compact"]

REPLAY_TIMEOUT = 30.0  # seconds per event on replay (a loopback server: never reached)
_VALIDATORS: dict[int, WebSocketValidator] = {}
_VALIDATORS_LOCK = threading.Lock()


def case_websocket_validator(validator: CaseValidator) -> WebSocketValidator:
    """The case's WebSocket validator (one per case: connections and windows carry over)."""
    existing = validator.websocket
    if isinstance(existing, WebSocketValidator):
        return existing
    created = WebSocketValidator(validator.profile)
    validator.websocket = created
    return created


@dataclass
class WsTurn:
    """One turn as the library returned it (typed events dumped to JSON), and as the wire
    validator summed it up (``summary``, set when the connection closes)."""

    request: dict[str, Any]  # the keyword arguments the case passed (not the wire message)
    events: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] | None = None
    terminal: str | None = None
    error: AnyLLMError | None = None

    @property
    def error_code(self) -> str | None:
        """The code of the error that ended it (envelope or failed response), else None."""
        code = getattr(self.error, "code", None)
        if code is None and isinstance(self.final, dict):
            inner = self.final.get("error")
            code = inner.get("code") if isinstance(inner, dict) else None
        return str(code) if code is not None else None

    @property
    def response_id(self) -> str | None:
        value = self.final.get("id") if isinstance(self.final, dict) else None
        return str(value) if value is not None else None


def _json(obj: Any) -> dict[str, Any]:
    from anyllm.testing.harness import as_dict

    return as_dict(obj)


class CaseWebSocket:
    """One WebSocket connection of a case: a context manager (see the module doc)."""

    def __init__(self, client: ConformanceClient) -> None:
        self.client = client
        self.cassette: AnyllmCassette | None = None
        self.session: Any = None
        self.server: ReplayServer | None = None
        self.recorded: RecordedConnection | None = None  # what is replayed
        self.live = False
        self.number = 0
        self.turns: list[WsTurn] = []
        self.summaries: list[TurnSummary] = []
        self.refused: AnyLLMError | None = None
        self._path = ""

    # -- opening ---------------------------------------------------------------------------

    def __enter__(self) -> CaseWebSocket:
        import anyllm

        target = self.client.target
        cassette = PATCH.cassette()
        self.cassette = cassette  # type: ignore[assignment]
        tape = self.cassette.websocket  # type: ignore[union-attr]
        self.number, self.recorded = tape.take()
        mode = getattr(cassette, "record_mode", "none")
        mode = str(getattr(mode, "value", mode))  # vcrpy's RecordMode is a str enum
        self.live = target.live and mode != "none" and (mode == "all" or self.recorded is None)
        if self.live:
            api_base, timeout = target.api_base, float(cassette.bounds.max_seconds)
        else:
            if self.recorded is None:
                raise WebSocketReplayMismatch(
                    f"{_name(cassette)}: WebSocket connection {self.number} is not in the cassette "
                    f"({len(tape.loaded)} recorded); record it with --record"
                )
            self.server = ReplayServer([self.recorded], _name(cassette)).__enter__()
            api_base, timeout = self.server.base_url(self.recorded.path), REPLAY_TIMEOUT
        kwargs: dict[str, Any] = {"provider": target.provider, "api_base": api_base}
        if target.api_key is not None:
            kwargs["api_key"] = target.api_key
        self.session = anyllm.responses_websocket(target.model, client_args={"timeout": timeout}, **kwargs)
        self._path = _url_path(self.session.url)
        try:
            self.session.open()
        except AnyLLMError as exc:
            if exc.status_code is None:  # no answer at all: the run failed, not the server
                self._stop_server()
                if self.live and self.cassette is not None:
                    self.cassette.live_failed(exc)
                raise
            self._refused(exc)
        return self

    def _refused(self, exc: AnyLLMError) -> None:
        """The server refused the handshake with an HTTP status: its answer, recorded and
        judged like any (the case declared the capability, so this is a finding); every
        turn of the connection then ends with this error, nothing sent."""
        self.refused = exc
        self.client.validator.expect(
            False,
            "CASE-WS-HANDSHAKE",
            f"the server refused the WebSocket upgrade of {self._path} with HTTP {exc.status_code} "
            f"({type(exc).__name__}: {exc.message[:200]})",
        )
        body = exc.body if exc.body is not None else exc.message
        text = body if isinstance(body, str) else json.dumps(body)
        self._keep(RecordedConnection(self._path, int(exc.status_code or 0), text))

    # -- turns -----------------------------------------------------------------------------

    def turn(self, input_data: Any, **params: Any) -> WsTurn:
        """Send one ``response.create`` and read the turn to its end; a typed error ends it
        (kept in ``error``), never an exception. Arguments as ``session.create()``."""
        result = WsTurn({"input": input_data, **params})
        self.turns.append(result)
        if self.refused is not None:
            result.error = self.refused
            return result
        try:
            for event in self.session.create(input_data, **params):
                body = _json(event)
                result.events.append(body)
                if body.get("type") in ("response.completed", "response.incomplete", "response.failed"):
                    result.terminal = str(body["type"])
                    response = body.get("response")
                    result.final = response if isinstance(response, dict) else None
        except AnyLLMError as exc:
            result.error = exc
            if self.live and isinstance(exc, ProviderTimeoutError) and self.cassette is not None:
                self.cassette.live_failed(exc)  # as for HTTP: a recording never stores a hang
        self.client.validator.events += len(result.events)
        return result

    # -- closing ---------------------------------------------------------------------------

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        if session is None or self.refused is not None:
            self._stop_server()
            return
        ws = getattr(session, "_ws", None)  # the live connection: how it closed, if it did
        session.close()
        close = _close_record(ws, session.frames, getattr(getattr(session, "_log", None), "started", None))
        frames = [WsRecord(f.direction, f.at, f.text) for f in session.frames]
        self._keep(RecordedConnection(self._path, 101, "", frames, close))

    def _keep(self, connection: RecordedConnection) -> None:
        """Record (live) or check against the replay, then judge what the cassette holds."""
        cassette = self.cassette
        try:
            if self.live:
                assert cassette is not None
                size = sum(len(f.text.encode("utf-8")) for f in connection.frames)
                if size > cassette.bounds.max_bytes:
                    error = RecordingLimitError(
                        f"recording WebSocket connection {self.number}: {size} bytes of frames passed "
                        f"{cassette.bounds.max_bytes}; not recorded"
                    )
                    cassette.live_failed(error)
                    raise error
                if cassette.failure is not None:
                    return  # nothing of this case is written: nothing to judge either
                stored = cassette.record_websocket(connection)
            else:
                assert self.server is not None and self.recorded is not None
                self.server.check()
                stored = self.recorded
        finally:
            self._stop_server()
        self._judge(stored)

    def _judge(self, stored: RecordedConnection) -> None:
        case = self.client.validator
        validator = case_websocket_validator(case)
        before, turns = len(validator.violations), len(validator.turns)
        for record in stored.records():
            validator.feed(record)
        case.violations.extend(validator.violations[before:])
        case.exchanges += 1
        self.summaries = validator.turns[turns:]

    def _stop_server(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.__exit__(None, None, None)


def _name(cassette: Any) -> str:
    return f"cassette {getattr(cassette, '_path', '?')}"


def _url_path(url: str) -> str:
    import urllib.parse

    return urllib.parse.urlsplit(url).path


def _close_record(ws: Any, frames: list[Any], started: float | None) -> WsRecord:
    """How the connection closed: its code and reason, who closed first, and when (seconds
    since it opened, as the frames count them; else the last frame's time)."""
    import time

    at = frames[-1].at if frames else 0.0
    if isinstance(started, float):
        at = max(at, round(time.monotonic() - started, 6))
    protocol = getattr(ws, "protocol", None)
    code = getattr(ws, "close_code", None) if ws is not None else 1000
    reason = getattr(ws, "close_reason", None) if ws is not None else ""
    first = getattr(protocol, "close_rcvd_then_sent", None)
    by = "server" if first is True else "client" if first is False or ws is None else ""
    return WsRecord("close", at, str(reason or ""), code=code, by=by)


# -- compaction --------------------------------------------------------------------------------


@dataclass
class Compaction:
    """A successful compaction: the reply as JSON, and the window as input items for the
    next response (``anyllm.compacted_input``: what a client passes back)."""

    body: dict[str, Any]
    input_items: list[dict[str, Any]]


def run_compact(
    client: ConformanceClient, input_data: Any, params: dict[str, Any]
) -> Compaction | AnyLLMError:
    """``anyllm.compact()`` against the target, validated; the typed error if it failed."""
    import anyllm

    target = client.target
    model = params.pop("model", target.model)
    kwargs: dict[str, Any] = {"provider": target.provider, "api_base": target.api_base, **params}
    if target.api_key is not None and "api_key" not in params:
        kwargs["api_key"] = target.api_key
    try:
        result = anyllm.compact(model, input_data, **kwargs)
    except AnyLLMError as exc:
        if isinstance(exc.body, dict) and "error" in exc.body:
            client.validator.violations.extend(
                validate_response(exc.body, client.validator.profile, status=exc.status_code)
            )
        if isinstance(exc, ProviderConnectionError) and exc.status_code is None:
            raise
        return exc
    body = _json(result)
    client.validator.violations.extend(validate_compact(body, client.validator.profile))
    client.validator.responses += 1
    output = body.get("output")
    if isinstance(output, list):
        case_websocket_validator(client.validator).windows.append(output)
    return Compaction(body, anyllm.compacted_input(result))


def raw_compact(client: ConformanceClient, body: dict[str, Any]) -> tuple[int, Any]:
    """``POST {api_base}/responses/compact`` with ``body`` exactly as given (a body the library
    would refuse to send, such as one without ``model``): the status and the decoded reply.
    Through httpx2, so the cassette records and replays it; an error body is validated."""
    import httpx2

    target = client.target
    headers = {"content-type": "application/json"}
    key, style = target.api_key, target.metadata.auth
    if key and style == "bearer":
        headers["authorization"] = f"Bearer {key}"
    elif key and style != "none":
        headers[style] = key
    url = f"{target.api_base.rstrip('/')}/responses/compact"
    with httpx2.Client(timeout=60.0) as http:
        reply = http.post(url, content=json.dumps(body).encode("utf-8"), headers=headers)
    try:
        decoded: Any = reply.json()
    except ValueError:
        decoded = reply.text
    if reply.status_code >= 400 and isinstance(decoded, dict) and "error" in decoded:
        client.validator.violations.extend(
            validate_response(decoded, client.validator.profile, status=reply.status_code)
        )
    return reply.status_code, decoded
