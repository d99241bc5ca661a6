"""The cassette: vcrpy's model (record modes, YAML file, matchers, metadata) on the anyllm
transport, scrubbed, provenance-stamped, and keeping the order a case used it in."""

from __future__ import annotations

import contextlib
import datetime as _dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette, CassetteContextDecorator
from vcr.patch import PATCHER_NAMES
from vcr.request import Request as VcrRequest

from anyllm.testing.cassettes.matchers import MATCH_ON
from anyllm.testing.cassettes.persistence import AtomicPersister, YamlSerializer
from anyllm.testing.cassettes.provenance import provenance_defaults
from anyllm.testing.cassettes.secrets import provider_secrets, scrub_request, scrub_response
from anyllm.testing.cassettes.transport import PATCH, RecordBounds
from anyllm.testing.cassettes.websocket import RecordedConnection, WebSocketTape, parse_section

__all__ = ["RECORD_MODES", "AnyllmCassette", "CassetteSettings", "use_cassette"]

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")


@dataclass
class CassetteSettings:
    """What a cassette needs beyond its path: mode, provenance, secrets, bounds."""

    record_mode: str = "none"
    provenance: dict[str, Any] = field(default_factory=dict)
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)  # key values: never printed
    bounds: RecordBounds = field(default_factory=RecordBounds)
    # Request matchers; None: the harness's (method, path, query, normalized JSON body).
    # ``anyllm-conformance validate`` replays one interaction to a request of its own: method.
    match_on: tuple[Callable[[VcrRequest, VcrRequest], None], ...] | None = None


class AnyllmCassette(Cassette):  # type: ignore[misc]
    """vcrpy's Cassette, stamped with provenance whenever it records something, and keeping
    the order in which this session used its interactions (played or recorded), so the
    harness can judge exactly the bytes a case exchanged.

    A request that fails while recording (timeout, recording bound, connection error) marks
    the cassette failed, and a failed cassette writes nothing: half a case recorded (or an
    empty one) would replay as a mismatch or a lie, and keep ``--record`` from trying again.
    An existing file stays as it was."""

    bounds: RecordBounds = RecordBounds()
    secret_values: tuple[str, ...] = ()  # what scrubbing removes (use_cassette sets it per class)
    provenance: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance
    _metadata: dict[str, Any]
    _loaded_count: int
    data: list[tuple[VcrRequest, dict[str, Any]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._used: list[int] = []
        self._used_lock = threading.Lock()
        self.failure: BaseException | None = None
        self.websocket = WebSocketTape()  # its WebSocket connections (see .websocket)

    def live_failed(self, error: BaseException) -> None:
        """A live request failed while recording: nothing of this session will be written."""
        with self._used_lock:
            if self.failure is None:
                self.failure = error

    def _save(self, force: bool = False) -> None:
        if self.failure is None:
            super()._save(force)

    def _load(self) -> None:
        super()._load()
        self.websocket.loaded = parse_section(getattr(self._persister, "websocket", None))

    def _persist(self, cassette_dict: dict[str, Any]) -> None:
        persister = self._persister
        if isinstance(getattr(persister, "websocket", None), list):
            persister.websocket = self.websocket.section(replace=self.record_mode == "all")
        super()._persist(cassette_dict)

    def record_websocket(self, connection: RecordedConnection) -> RecordedConnection:
        """Keep a WebSocket connection recorded now, scrubbed; returned as stored (what its
        replay will give, so the case judges exactly that)."""
        from anyllm.testing.cassettes.websocket import scrub_connection

        stored = scrub_connection(connection, self.secret_values)
        self.websocket.add(stored)
        stamp = {**self.provenance, "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._metadata = {**self._metadata, **stamp}
        self.dirty = True
        return stored

    def play_response(self, request: VcrRequest) -> dict[str, Any]:
        with self._used_lock:
            before = dict(self.play_counts)
            response: dict[str, Any] = super().play_response(request)
            self._used.extend(i for i, n in self.play_counts.items() if n != before.get(i, 0))
        return response

    def record(self, request: VcrRequest, response: dict[str, Any]) -> dict[str, Any]:
        """Append an interaction recorded now (``append`` is also how vcrpy loads a file);
        the response as stored (scrubbed), which is what the client gets: recording shows a
        case exactly what its replay will, and never a key the server echoed back."""
        with self._used_lock:
            count = len(self.data)
            self.append(request, response)
            if len(self.data) > count:
                self._used.append(count)
                return self.data[count][1]
            return response

    def used_interactions(self) -> list[tuple[VcrRequest, dict[str, Any]]]:
        """The (request, response) pairs this session played or recorded, in the order it
        used them: what the case really sent and received (stored form: scrubbed, decoded)."""
        with self._used_lock:
            return [self.data[i] for i in self._used]

    def append(self, request: VcrRequest, response: dict[str, Any]) -> None:
        super().append(request, response)
        stamp = {**self.provenance, "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._metadata = {**self._metadata, **stamp}

    def append_nothing(self) -> None:
        self._metadata = {
            **self._metadata,
            **self.provenance,
            "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interactions": 0,
        }
        self.dirty = True

    @property
    def recorded_now(self) -> int:
        """Interactions and WebSocket connections recorded in this session (0 on pure replay)."""
        return int(len(self.data) - self._loaded_count) + len(self.websocket.recorded)


@contextlib.contextmanager
def use_cassette(path: str | Path, settings: CassetteSettings | None = None) -> Iterator[AnyllmCassette]:
    """Activate a cassette around a block: httpx2 (sync and async) goes through it.

    Record modes are vcrpy's (``none``, ``once``, ``new_episodes``, ``all``) plus
    pytest-recording's ``rewrite`` (start from an empty cassette, replace the file).
    Scrubbing always runs and cannot be switched off per test.
    """
    conf = settings or CassetteSettings()
    if conf.record_mode not in RECORD_MODES:
        raise ValueError(f"record mode must be one of {', '.join(RECORD_MODES)}, got {conf.record_mode!r}")
    secrets = provider_secrets(conf.extra_secrets)
    values = secrets.longest_first()
    fresh = conf.record_mode == "rewrite"
    mode = "all" if fresh else conf.record_mode

    class _Bound(AnyllmCassette):
        bounds = conf.bounds
        provenance = {**provenance_defaults(), **conf.provenance}  # noqa: RUF012
        secret_values = values

    context = CassetteContextDecorator.from_args(
        _Bound,
        path=str(path),
        serializer=YamlSerializer(),
        persister=AtomicPersister(secrets, fresh=fresh),
        record_mode=mode,
        match_on=conf.match_on or MATCH_ON,
        before_record_request=lambda request: scrub_request(request, values),
        before_record_response=lambda response: scrub_response(response, values),
        # vcrpy patches nothing itself (see TransportPatch); the network guard covers other clients.
        skip_patchers=PATCHER_NAMES,
        record_on_exception=True,
    )
    with context as cassette:
        token = PATCH.enter(cassette)
        try:
            yield cassette
        finally:
            PATCH.leave(cassette, token)
        recorded_nothing = not cassette.data and not cassette.websocket.recorded
        if mode != "none" and cassette.failure is None and recorded_nothing and not Path(path).exists():
            # Recorded, and nothing went out (the library refused locally): an empty cassette
            # says so, and replays as the same nothing. Not when a request went out and failed.
            cassette.append_nothing()
