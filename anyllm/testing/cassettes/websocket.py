"""WebSocket traffic in cassettes: the ``websocket`` section, its scrubbing, and its replay.

vcrpy records HTTP only. A cassette here also holds, next to ``interactions``, the WebSocket
connections a case opened, in order, each as its handshake, its text frames (direction,
seconds since the connection opened, text) and how it closed::

    websocket:
    - path: /v1/responses
      status: 101                      # the handshake: 101, or the HTTP status that refused it
      frames:
      - {direction: send, at: 0.0004, text: '{"type": "response.create", ...}'}
      - {direction: recv, at: 0.0311, text: '{"type": "response.created", ...}'}
      close: {at: 0.52, code: 1000, reason: '', by: client}

The same rules as for HTTP apply: everything is scrubbed before it is stored (every form of
every key, in each frame and across the deltas of a turn's frames: :mod:`.body_secrets`), a
cassette that still holds a key is refused and never written, and the file is written
atomically with the rest of the cassette (:mod:`.persistence`). Provenance is the
cassette's metadata, shared with its HTTP interactions.

Replay needs no network: :class:`ReplayServer` is a real WebSocket server on 127.0.0.1
(allowed by the replay network guard) that plays the recorded connections back in order:
it refuses a handshake the server refused, checks each frame the client sends against the
recorded one (normalized JSON), sends the recorded server frames, and closes as the server
did. A client that sends something else, or opens a connection the cassette does not have,
gets :class:`WebSocketReplayMismatch` (a CASSETTE-MISMATCH), never a silent pass.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vcr.errors import CannotOverwriteExistingCassetteException

from anyllm.testing.cassettes.body_secrets import scrub_structured
from anyllm.testing.cassettes.secrets import _all_forms, _replace_all
from anyllm.testing.validate.ws_records import RecordError, WsRecord, record_from

__all__ = [
    "RecordedConnection",
    "ReplayServer",
    "WebSocketReplayMismatch",
    "WebSocketTape",
    "scrub_connection",
]

REPLAY_FRAME_TIMEOUT = 30.0  # seconds the replay server waits for the client's next frame


class WebSocketReplayMismatch(CannotOverwriteExistingCassetteException):  # type: ignore[misc]
    """A replayed case sent a WebSocket frame (or opened a connection) the cassette does not
    have. A CASSETTE-MISMATCH like vcrpy's, naming the connection, frame and difference."""

    def __init__(self, message: str) -> None:  # vcrpy's needs a request; this has a frame
        Exception.__init__(self, message)
        self.cassette = None
        self.failed_request = None
        self.similar_requests: list[Any] = []
        self.reason = "no_match"


@dataclass
class RecordedConnection:
    """One WebSocket connection as the cassette holds it."""

    path: str
    status: int = 101
    body: str = ""  # the refusal's body (status != 101)
    frames: list[WsRecord] = field(default_factory=list)  # send / recv, in order
    close: WsRecord | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 101

    def records(self) -> list[WsRecord]:
        """The connection as validator records: open, frames, close."""
        opened = WsRecord("open", 0.0, self.body, status=self.status, path=self.path)
        return [opened, *self.frames, *([self.close] if self.close is not None else [])]

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.body:
            out["body"] = self.body
        out["frames"] = [frame.to_dict() for frame in self.frames]
        if self.close is not None:
            close = self.close.to_dict()
            close.pop("direction")
            out["close"] = close
        return out

    @classmethod
    def from_yaml(cls, data: Any, number: int) -> RecordedConnection:
        """Parse one entry of the ``websocket`` section; RecordError names what is wrong."""
        where = f"websocket connection {number}"
        if not isinstance(data, dict):
            raise RecordError(f"{where} is not a mapping")
        status = data.get("status", 101)
        if isinstance(status, bool) or not isinstance(status, int):
            raise RecordError(f"{where}: status {status!r} is not an integer")
        frames_data = data.get("frames") or []
        if not isinstance(frames_data, list):
            raise RecordError(f"{where}: frames is not a list")
        frames = []
        for index, raw in enumerate(frames_data):
            try:
                frame = record_from(raw)
            except RecordError as exc:
                raise RecordError(f"{where} frame {index}: {exc}") from None
            if frame.direction not in ("send", "recv"):
                raise RecordError(f"{where} frame {index}: a frame is send or recv, not {frame.direction}")
            frames.append(frame)
        close = data.get("close")
        close_record = None
        if close is not None:
            if not isinstance(close, dict):
                raise RecordError(f"{where}: close is not a mapping")
            try:
                close_record = record_from({**close, "direction": "close"})
            except RecordError as exc:
                raise RecordError(f"{where} close: {exc}") from None
        return cls(str(data.get("path") or ""), status, str(data.get("body") or ""), frames, close_record)


def parse_section(section: Any) -> list[RecordedConnection]:
    """The connections of a cassette's ``websocket`` section (RecordError if malformed)."""
    if section is None:
        return []
    if not isinstance(section, list):
        raise RecordError("the websocket section is not a list of connections")
    return [RecordedConnection.from_yaml(entry, number) for number, entry in enumerate(section, start=1)]


def scrub_connection(connection: RecordedConnection, secrets: Sequence[str]) -> RecordedConnection:
    """A copy with every form of every secret cut out: from each frame (JSON decoded, so an
    escaped key is found), across the frames of the connection (a key streamed in deltas),
    and from the path, the refusal body and the close reason."""
    forms = _all_forms(secrets)
    if not forms:
        return connection
    documents: list[Any] = []
    owners: list[int] = []
    texts = [str(_replace_all(frame.text, forms)) for frame in connection.frames]
    for index, text in enumerate(texts):
        try:
            documents.append(json.loads(text))
        except ValueError:
            continue
        owners.append(index)
    for position in scrub_structured(documents, forms):
        texts[owners[position]] = json.dumps(documents[position], ensure_ascii=False)
    frames = [
        WsRecord(frame.direction, frame.at, text)
        for frame, text in zip(connection.frames, texts, strict=True)
    ]
    close = connection.close
    if close is not None:
        close = WsRecord(
            "close", close.at, str(_replace_all(close.text, forms)), code=close.code, by=close.by
        )
    return RecordedConnection(
        str(_replace_all(connection.path, forms)),
        connection.status,
        str(_replace_all(connection.body, forms)),
        frames,
        close,
    )


class WebSocketTape:
    """A cassette's WebSocket connections: those loaded from the file, those recorded in this
    session, and how many the session has used (connections replay in order)."""

    def __init__(self) -> None:
        self.loaded: list[RecordedConnection] = []
        self.recorded: list[RecordedConnection] = []
        self.used = 0
        self.lock = threading.Lock()

    def take(self) -> tuple[int, RecordedConnection | None]:
        """The next connection's number (1-based) and its recording, if the cassette has one."""
        with self.lock:
            self.used += 1
            number = self.used
            return number, self.loaded[number - 1] if number <= len(self.loaded) else None

    def add(self, connection: RecordedConnection) -> None:
        with self.lock:
            self.recorded.append(connection)

    def section(self, *, replace: bool) -> list[dict[str, Any]]:
        """What the file gets: this session's connections (``replace``: record mode ``all``)
        or the loaded ones followed by them."""
        with self.lock:
            kept = [] if replace and self.recorded else self.loaded
            return [connection.to_yaml() for connection in [*kept, *self.recorded]]


def _normalized(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _difference(sent: Any, recorded: Any, path: str = "$") -> str:
    """Where two decoded frames first differ, as a JSON path."""
    if isinstance(sent, dict) and isinstance(recorded, dict):
        for key in sorted(set(sent) | set(recorded)):
            if key not in sent:
                return f"{path}.{key} is missing (recorded {json.dumps(recorded[key])[:80]})"
            if key not in recorded:
                return f"{path}.{key} was not recorded (sent {json.dumps(sent[key])[:80]})"
            if sent[key] != recorded[key]:
                return _difference(sent[key], recorded[key], f"{path}.{key}")
    if isinstance(sent, list) and isinstance(recorded, list) and len(sent) == len(recorded):
        for index, (a, b) in enumerate(zip(sent, recorded, strict=True)):
            if a != b:
                return _difference(a, b, f"{path}[{index}]")
    return f"{path} is {json.dumps(sent)[:80]}, recorded {json.dumps(recorded)[:80]}"


class ReplayServer:
    """A loopback WebSocket server playing back recorded connections, in order.

    ``with ReplayServer(connections) as server``: ``server.base_url(path)`` is the
    ``api_base`` under which a client finds the recorded resource. ``mismatches`` lists what
    the client did that the cassette does not have; :meth:`check` raises the first.
    """

    def __init__(self, connections: Iterable[RecordedConnection], cassette: str = "the cassette") -> None:
        self.connections = list(connections)
        self.cassette = cassette
        self.mismatches: list[str] = []
        self.served = 0
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def base_url(self, path: str) -> str:
        """The http:// base whose ``/responses`` is ``path`` on this server."""
        base = path.rstrip("/").removesuffix("/responses")
        return f"http://127.0.0.1:{self.port}{base}"

    def __enter__(self) -> ReplayServer:
        from websockets.sync.server import serve

        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
            max_size=None,
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _mismatch(self, message: str) -> None:
        with self._lock:
            self.mismatches.append(f"{self.cassette}: {message}")

    def check(self) -> None:
        """Raise WebSocketReplayMismatch for the first thing the cassette did not have."""
        if self.mismatches:
            raise WebSocketReplayMismatch(self.mismatches[0])

    def _connection_for(self, request_path: str) -> tuple[int, RecordedConnection | None]:
        with self._lock:
            self.served += 1
            number = self.served
        if number > len(self.connections):
            self._mismatch(
                f"WebSocket connection {number} is not in the cassette ({len(self.connections)} recorded); "
                "record it with --record"
            )
            return number, None
        return number, self.connections[number - 1]

    def _process_request(self, connection: Any, request: Any) -> Any:
        number, recorded = self._connection_for(request.path)
        connection.anyllm_replay = (number, recorded)
        if recorded is None:
            return connection.respond(409, "anyllm replay: this WebSocket connection was not recorded\n")
        if request.path != recorded.path:
            self._mismatch(
                f"WebSocket connection {number} opened {request.path!r}, recorded {recorded.path!r}"
            )
        if not recorded.accepted:
            return connection.respond(recorded.status, recorded.body)
        return None

    def _handle(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        number, recorded = connection.anyllm_replay
        assert recorded is not None
        try:
            for index, frame in enumerate(recorded.frames):
                if frame.direction == "recv":
                    connection.send(frame.text)
                    continue
                try:
                    sent = connection.recv(timeout=REPLAY_FRAME_TIMEOUT)
                except TimeoutError:
                    self._mismatch(
                        f"WebSocket connection {number}: the client never sent recorded frame {index}"
                    )
                    connection.close(1008, "anyllm replay: expected a frame")
                    return
                text = sent if isinstance(sent, str) else sent.decode("utf-8", "replace")
                got, want = _normalized(text), _normalized(frame.text)
                if got != want:
                    self._mismatch(
                        f"WebSocket connection {number} frame {index} differs from the recording: "
                        f"{_difference(got, want)}"
                    )
                    connection.close(1008, "anyllm replay: frame differs from the recording")
                    return
            self._finish(connection, recorded, number)
        except ConnectionClosed:
            return  # the client closed early: frames it never asked for are not sent (as vcrpy)

    def _finish(self, connection: Any, recorded: RecordedConnection, number: int) -> None:
        """The recorded frames are played: close as the recording did."""
        from websockets.exceptions import ConnectionClosed

        close = recorded.close
        if close is not None and close.by != "client":
            connection.close(close.code or 1000, close.text)
            return
        try:  # the client closed first (or the recording does not say): wait for it
            extra = connection.recv(timeout=REPLAY_FRAME_TIMEOUT)
        except (ConnectionClosed, TimeoutError):
            return
        shown = extra if isinstance(extra, str) else repr(extra)
        self._mismatch(
            f"WebSocket connection {number}: the client sent a frame the recording does not have: "
            f"{shown[:120]}"
        )
        connection.close(1008, "anyllm replay: frame not in the recording")
