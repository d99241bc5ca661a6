"""The harness's WebSocket half: cassettes with frames, replay on loopback, wire judgement.

Real parts throughout: the library's WebSocket session (``anyllm.responses_websocket``),
the spec-faithful loopback server of ``tests/helpers/ws_server.py`` (uvicorn) to record
from, the cassette's own replay server (``websockets``) to replay to, real cassette files,
and the replay network guard.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from anyllm.providers.registry import provider_metadata
from anyllm.testing.cassettes import (
    CassetteCorruptError,
    CassetteSecretError,
    CassetteSettings,
    RecordBounds,
    RecordingLimitError,
    block_network,
    use_cassette,
)
from anyllm.testing.cassettes.websocket import WebSocketReplayMismatch
from anyllm.testing.harness import CaseValidator, ConformanceClient, Target
from anyllm.testing.plugin.verdicts import rule_for
from tests.helpers.ws_server import SpecWebSocketServer

KEY = "sk-w2-canary-7f3c9a1b5d2e8f4a6c0b"  # a made-up key: the spec server requires it


@pytest.fixture
def server() -> Iterator[SpecWebSocketServer]:
    with SpecWebSocketServer(api_key=KEY) as running:
        yield running


def client(api_base: str, *, live: bool, key: str | None = KEY) -> ConformanceClient:
    meta = provider_metadata("openresponses")
    target = Target("openresponses", meta, "spec-model", api_base, key, live, "openresponses")
    return ConformanceClient(target, CaseValidator("openresponses", "ws-harness"))


def record(path: Path, api_base: str, body: Any, *, bounds: RecordBounds | None = None) -> ConformanceClient:
    """Record ``body(client)`` into ``path`` (record mode ``all``)."""
    settings = CassetteSettings(record_mode="all", extra_secrets=(KEY,), bounds=bounds or RecordBounds())
    recording = client(api_base, live=True)
    with use_cassette(path, settings):
        body(recording)
    return recording


def replay(path: Path, body: Any) -> ConformanceClient:
    """Replay ``path`` with the network blocked, as the matrix does."""
    replaying = client("http://127.0.0.1:9/v1", live=False, key="anyllm-replay-placeholder-key")
    with block_network(), use_cassette(path, CassetteSettings(record_mode="none")):
        body(replaying)
    return replaying


def two_turns(c: ConformanceClient) -> None:
    with c.websocket() as ws:
        ws.turn("Remember: cobalt.", store=False)
        ws.turn("What was it?", store=False)


def rules(c: ConformanceClient) -> set[str]:
    return {v.rule for v in c.validator.violations if v.severity == "error"}


def test_recorded_connection_replays_the_same_turns_offline(
    server: SpecWebSocketServer, tmp_path: Path
) -> None:
    path = tmp_path / "ws.yaml"
    live = record(path, server.base_url, two_turns)
    doc = yaml.safe_load(path.read_text())
    (connection,) = doc["websocket"]
    assert connection["path"] == "/v1/responses" and connection["status"] == 101
    assert [f["direction"] for f in connection["frames"]][:2] == ["send", "recv"]
    assert connection["close"]["by"] == "client" and connection["close"]["code"] == 1000
    assert doc["metadata"]["recorded_at"] and doc["metadata"]["spec_version"] == "2026-04-24"  # provenance
    again = replay(path, two_turns)
    assert [t.final for t in again.validator.websocket.turns] == [
        t.final for t in live.validator.websocket.turns
    ]
    first, second = again.validator.websocket.turns
    assert second.request["previous_response_id"] == first.response_id  # "auto" continuation
    assert rules(live) == rules(again) == set()
    assert again.validator.exchanges == 1


def test_a_key_echoed_in_frames_never_reaches_the_cassette(tmp_path: Path) -> None:
    """The server echoes the key in its reply text, streamed in several deltas."""
    path = tmp_path / "echo.yaml"
    with SpecWebSocketServer(api_key=KEY, reply_text=f"your key is {KEY}!", pieces=7) as echo:
        live = record(path, echo.base_url, two_turns)
    text = path.read_text()
    assert KEY not in text and base64.b64encode(KEY.encode()).decode()[:16] not in text
    assert "<REDACTED>" in text
    replayed = replay(path, two_turns)
    final = replayed.validator.websocket.turns[0].final
    assert final is not None and "your key is <REDACTED>!" in json.dumps(final)
    assert rules(live) == set(), [str(v) for v in live.validator.violations]


def test_a_cassette_holding_a_key_in_its_frames_is_refused(
    server: SpecWebSocketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "leaky.yaml"
    record(path, server.base_url, two_turns)
    leaky = path.read_text().replace("Remember: cobalt.", f"Remember: {KEY}")
    path.write_text(leaky)
    monkeypatch.setenv("OPENRESPONSES_API_KEY", KEY)
    with pytest.raises(CassetteSecretError, match="OPENRESPONSES_API_KEY"):
        replay(path, two_turns)
    assert path.read_text() == leaky  # refused, left as it is


def test_a_replay_that_sends_another_frame_is_a_cassette_mismatch(
    server: SpecWebSocketServer, tmp_path: Path
) -> None:
    path = tmp_path / "ws.yaml"
    record(path, server.base_url, two_turns)

    def other(c: ConformanceClient) -> None:
        with c.websocket() as ws:
            ws.turn("Remember: copper.", store=False)

    with pytest.raises(WebSocketReplayMismatch, match=r"frame 0 differs.*\$\.input") as caught:
        replay(path, other)
    assert rule_for(caught.value) == "CASSETTE-MISMATCH"

    def extra(c: ConformanceClient) -> None:
        two_turns(c)
        with c.websocket():
            pass

    with pytest.raises(WebSocketReplayMismatch, match="connection 2 is not in the cassette"):
        replay(path, extra)


def test_a_refused_handshake_is_recorded_and_replayed(server: SpecWebSocketServer, tmp_path: Path) -> None:
    server.faults.handshake_status = 404
    path = tmp_path / "refused.yaml"
    live = record(path, server.base_url, two_turns)
    (connection,) = yaml.safe_load(path.read_text())["websocket"]
    assert connection["status"] == 404 and connection["frames"] == [] and "refused" in connection["body"]
    again = replay(path, two_turns)
    for case in (live, again):
        assert "CASE-WS-HANDSHAKE" in rules(case)
        (turn,) = [t for t in case.validator.violations if t.rule == "CASE-WS-HANDSHAKE"]
        assert "HTTP 404 (NotFoundError" in turn.message


def test_a_server_closing_mid_turn_is_judged_and_replayed_with_its_close_code(
    server: SpecWebSocketServer, tmp_path: Path
) -> None:
    """What LiteLLM's proxy does: accept, then close 1011 without an error envelope."""
    server.faults.close_after_events = 0
    path = tmp_path / "closed.yaml"

    def one(c: ConformanceClient) -> None:
        with c.websocket() as ws:
            turn = ws.turn("hi", store=False)
            assert turn.error is not None and "1011" in str(turn.error)

    live = record(path, server.base_url, one)
    close = yaml.safe_load(path.read_text())["websocket"][0]["close"]
    assert (close["code"], close["by"]) == (1011, "server")
    again = replay(path, one)
    assert "WS-CLOSED-WITHOUT-ERROR" in rules(live) and rules(live) == rules(again)


def test_recording_past_the_size_bound_writes_nothing(server: SpecWebSocketServer, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\ninteractions: []\n")
    before = path.read_text()
    with pytest.raises(RecordingLimitError, match="bytes of frames"):
        record(path, server.base_url, two_turns, bounds=RecordBounds(max_bytes=2000))
    assert path.read_text() == before


def test_a_malformed_websocket_section_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "version: 1\ninteractions: []\nwebsocket:\n- path: /v1/responses\n  frames: [{direction: up}]\n"
    )
    with pytest.raises(CassetteCorruptError, match=r"broken\.yaml.*websocket connection 1 frame 0"):
        replay(path, two_turns)


def test_compaction_is_recorded_over_http_and_its_window_judges_the_next_turn(
    server: SpecWebSocketServer, tmp_path: Path
) -> None:
    path = tmp_path / "compact.yaml"

    def chain(c: ConformanceClient) -> None:
        result = c.compact([{"type": "message", "role": "user", "content": "Remember: slate."}])
        assert not isinstance(result, Exception), result
        with c.websocket() as ws:
            ws.turn(
                [*result.input_items, {"type": "message", "role": "user", "content": "Go on."}],
                store=False,
                previous_response_id=None,
            )

    live = record(path, server.base_url, chain)
    doc = yaml.safe_load(path.read_text())
    assert doc["interactions"][0]["request"]["uri"].endswith("/v1/responses/compact") and doc["websocket"]
    again = replay(path, chain)
    assert rules(live) == rules(again) == set()
    assert again.validator.websocket.windows  # the window was known to the WebSocket rules
