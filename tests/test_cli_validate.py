"""anyllm-conformance validate: files in, violations out, exit code 1 on errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from anyllm.testing.cli import build_parser, main
from tests.validate_samples import doc_derived_response, doc_derived_stream, raw_sse

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_conforming_files_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "response.json"
    body.write_text(json.dumps(doc_derived_response()))
    sse = tmp_path / "stream.sse"
    sse.write_text(raw_sse(doc_derived_stream()))
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"event": e["type"], "data": json.dumps(e)}) for e in doc_derived_stream())
        + "\n"
        + json.dumps({"event": None, "data": "[DONE]"})
        + "\n"
    )
    code, out = run(capsys, "validate", str(body), str(sse), str(jsonl))
    assert code == 0, out
    assert "3 target(s): 0 error(s)" in out


def test_violations_exit_one_and_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = doc_derived_stream()
    del events[2]  # reasoning item never added
    sse = tmp_path / "bad.sse"
    sse.write_text(raw_sse(events))
    code, out = run(capsys, "validate", str(sse), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    rules = {v["rule"] for t in doc["targets"] for v in t["violations"]}
    assert "ITEM-ADDED-BEFORE-DELTA" in rules
    assert doc["summary"]["error"] >= 1


def _cassette(tmp_path: Path, body: str | bytes, content_type: str, encoding: str | None = None) -> Path:
    headers = {"Content-Type": [content_type]}
    if encoding:
        headers["Content-Encoding"] = [encoding]
    doc = {
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.example.test/v1/responses",
                    "body": json.dumps({"model": "m", "input": "hi", "tool_choice": "none"}),
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": headers,
                    "body": {"string": body},
                },
            },
            {
                "request": {"method": "GET", "uri": "https://api.example.test/v1/models", "body": None},
                "response": {"status": {"code": 200}, "headers": {}, "body": {"string": "{}"}},
            },
        ],
        "version": 1,
    }
    path = tmp_path / "cassette.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_vcrpy_cassette_stream_and_request_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _cassette(tmp_path, raw_sse(doc_derived_stream()), "text/event-stream")
    code, out = run(capsys, "validate", str(path))
    assert code == 1  # the stream calls a tool although the request said tool_choice "none"
    assert "TOOL-CHOICE-NONE" in out
    # The GET /v1/models call is not judged, and says so (never skipped silently).
    assert "GET https://api.example.test/v1/models: skipped: not a model call" in out
    assert "2 target(s)" in out and "1 skipped (not model calls)" in out


def test_gzip_cassette_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = gzip.compress(
        json.dumps(doc_derived_response(output=[doc_derived_response()["output"][1]])).encode()
    )
    path = _cassette(tmp_path, body, "application/json", "gzip")
    code, out = run(capsys, "validate", str(path), "--profile", "openai")
    assert code == 0, out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x00\x01binary", "binary data"),
        (b'{"id": "resp_1",', "not JSON"),
        (b"just some prose\n", "not JSON, JSONL"),
        (b'event: response.created\ndata: {"type": "response.cr', "SSE-TRUNCATED"),
        (b"interactions: [unclosed", "not a YAML cassette"),
        (b"null", "got null"),
    ],
)
def test_malformed_input_is_a_violation_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    path = tmp_path / "input.dat"
    path.write_bytes(content)
    code, out = run(capsys, "validate", str(path))
    assert code == 1
    assert needle in out
    assert "Traceback" not in out


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run(capsys, "validate", str(tmp_path / "nope.json"))
    assert code == 1 and "cannot read" in out


def test_subcommands_are_extensible() -> None:
    parser = build_parser()
    assert parser.parse_args(["validate", "x.json", "--profile", "openai"]).profile == "openai"
    assert parser.parse_args(["rules"]).command == "rules"


def test_python_dash_m_works(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc_derived_response()))
    done = subprocess.run(
        [sys.executable, "-m", "anyllm.testing.cli", "validate", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rules = subprocess.run(
        [sys.executable, "-m", "anyllm.testing.cli", "rules", "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(r["id"] == "TERMINAL-EVENT-LAST" for r in json.loads(rules.stdout))
