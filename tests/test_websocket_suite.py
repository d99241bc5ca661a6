"""The WebSocket and compaction cases as a provider author meets them: the matrix (record,
then replay with the server gone), ``certify`` against the spec-faithful loopback server
(they run and pass, and the certificate lists those areas as covered), and
``anyllm-conformance validate`` on recorded WebSocket exchanges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anyllm.testing.cli import main
from tests.helpers.ws_server import SpecWebSocketServer
from tests.test_websocket_harness import record, two_turns
from tests.ws_samples import NOT_FOUND_ENVELOPE, create, events_for, one_turn, opened, recv, send, turn

REPO = Path(__file__).resolve().parents[1]
OURS = {  # the official compliance tester's WebSocket and compaction tests
    "websocket-response",
    "websocket-sequential-responses",
    "websocket-continuation",
    "websocket-reconnect-store-false-recovery",
    "websocket-previous-response-not-found",
    "websocket-failed-continuation-evicts-cache",
    "websocket-compact-new-chain",
    "compact-response",
    "compact-missing-model",
}


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_validate_judges_frames_given_as_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(jsonl(tmp_path / "ok.jsonl", one_turn()))]) == 0
    assert "[websocket, profile openresponses]: 0 error(s)" in capsys.readouterr().out
    bad = [opened(), *turn(create(stream=True), events_for("resp_1"))]
    assert main(["validate", str(jsonl(tmp_path / "bad.jsonl", bad))]) == 1
    out = capsys.readouterr().out
    assert "WS-FORBIDDEN-FIELD" in out and "$[1].stream" in out
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(opened()) + "\n{not json\n" + json.dumps(send(create())) + "\n")
    assert main(["validate", "--format", "json", str(broken)]) == 1
    doc = json.loads(capsys.readouterr().out)
    (target,) = doc["targets"]
    assert target["kind"] == "websocket"
    malformed = [v for v in target["violations"] if v["rule"] == "INPUT-MALFORMED"]
    assert malformed and malformed[0]["line"] == 2
    single = jsonl(tmp_path / "one.jsonl", [send(create(previous_response_id="resp_x"))])
    assert main(["validate", str(single)]) == 1  # a turn with no answer: TERMINAL-EVENT-MISSING
    assert "TERMINAL-EVENT-MISSING" in capsys.readouterr().out


def test_validate_judges_a_cassette_with_frames_and_compaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ws.yaml"

    def chain(c):
        result = c.compact([{"type": "message", "role": "user", "content": "Remember: slate."}])
        two_turns(c)
        with c.websocket() as ws:
            ws.turn([*result.input_items], store=False, previous_response_id=None)

    with SpecWebSocketServer(api_key="sk-w2-canary-7f3c9a1b5d2e8f4a6c0b") as server:
        record(path, server.base_url, chain)
    assert main(["validate", "--format", "json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["kind"] for t in doc["targets"]] == ["compact", "websocket"]
    # The window known from the cassette's compaction reply judges the last turn.
    text = path.read_text()
    swapped = text.replace(
        '"input":[{"type":"message","id":"msg_', '"input":[{"type":"message","id":"zzz_', 1
    )
    assert swapped != text
    path.write_text(swapped)
    assert main(["validate", str(path)]) == 1
    assert "WS-COMPACT-BASE-INPUT" in capsys.readouterr().out


def test_refused_turn_envelope_is_clean_in_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [opened(), send(create(previous_response_id="resp_abc")), recv(NOT_FOUND_ENVELOPE)]
    assert main(["validate", str(jsonl(tmp_path / "refused.jsonl", records))]) == 0


def certify(server: SpecWebSocketServer, out: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [
            sys.executable, "-m", "anyllm.testing.cli", "certify",
            "--provider=openresponses", f"--api-base={server.base_url}", "--model=spec-model",
            f"--output={out}", "-k", "websocket or compact", *extra,
        ],
        env=env, cwd=out.parent, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (out / "certificate.json").is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    cert = json.loads((out / "certificate.json").read_text())
    cert["exit"] = proc.returncode
    return cert


def test_certify_judges_websocket_and_compaction_against_the_spec_server(tmp_path: Path) -> None:
    caps = "streaming,websocket,compaction"
    with SpecWebSocketServer() as server:
        declared = certify(server, tmp_path / "declared", f"--capabilities={caps}")
        undeclared = certify(server, tmp_path / "undeclared", "--capabilities=streaming,compaction")
    cases = {r["case"]: r for r in declared["results"]}
    assert set(cases) == OURS
    failed = {c: r.get("rules") for c, r in cases.items() if r["verdict"] != "passed"}
    assert not failed, failed
    assert declared["verdict"] == "conformant" and declared["exit"] == 0
    covered = {area["id"] for area in declared["areas"]["covered"]}
    assert {"websocket", "compact"} <= covered, declared["areas"]
    # Without websocket declared its cases are unsupported, and the area says why it is not covered.
    by_case = {r["case"]: r["verdict"] for r in undeclared["results"]}
    assert by_case["websocket-response"] == "unsupported" and by_case["compact-response"] == "passed"
    (websocket,) = [a for a in undeclared["areas"]["not_covered"] if a["id"] == "websocket"]
    assert "websocket" in websocket["why"]


def test_the_matrix_records_and_replays_the_cases_against_the_spec_server(tmp_path: Path) -> None:
    """The suites' own case files, as a named target at the server's URL: every WebSocket and
    compaction case passes live, and again on replay once the server is gone."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    suites = [
        str(REPO / "conformance" / "test_websocket.py"),
        str(REPO / "conformance" / "test_compaction.py"),
    ]

    def matrix(mode: str, report: str) -> dict[str, str]:
        proc = subprocess.run(
            [
                sys.executable, "-m", "pytest", *suites, "-p", "no:cacheprovider", "-q",
                f"--targets-file={targets}", "--target=spec", f"--record-mode={mode}",
                f"--cassette-dir={tmp_path / 'cassettes'}", f"--conformance-report={tmp_path / report}",
                f"--rootdir={REPO}",
            ],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        results = json.loads((tmp_path / f"{report}.json").read_text())["results"]
        return {r["case"]: r["verdict"] for r in results}

    targets = tmp_path / "targets.yaml"
    with SpecWebSocketServer() as server:
        spec = {
            "provider": "openresponses",
            "title": "the spec-faithful loopback test server (tests/helpers/ws_server.py)",
            "serves": "url",
            "api_base": server.base_url,
            "model": "spec-model",
            "capabilities": {"websocket": True, "compaction": True},
            "provenance": {"package": "anyllm-test-helper"},
        }
        targets.write_text(json.dumps({"version": 1, "targets": {"spec": spec}}))
        recorded = matrix("rewrite", "recorded")
    replayed = matrix("none", "replayed")
    assert recorded == replayed == dict.fromkeys(OURS, "passed")
