"""Keys found in every artifact of a recording run: the goal is zero (issue 13).

A real recording run (pytest with the plugin, ``--record --tb=long -l -rA`` and DEBUG log
lines) of one case per echo path and encoding, for every auth style, against loopback
servers that echo the key back (``tests.helpers.canaries``); then ``certify`` against an
endpoint whose URL carries a password. Every file the runs leave (cassettes, reports,
certificate) and everything they print is scanned. The scan itself is shown to find a key
planted in each form it looks for, in the artifacts an unscrubbed run would leave:
``benchmarks/bench_secrets.py`` reports the same count as a figure.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
import yaml

from tests.helpers.canaries import canary, echo_behaviour, run_certify, run_recording, scan_tree
from tests.helpers.faults import FaultServer


def test_a_recording_run_leaves_no_key_in_any_artifact(tmp_path: Path) -> None:
    result = run_recording(tmp_path / "run")
    assert result.artifacts > 80, f"the run left almost nothing to scan:\n{result.output[-3000:]}"
    assert [str(f) for f in result.findings] == []
    assert "CASSETTE-SECRET" not in result.output, "a cassette was refused: scrubbing missed a key"


def test_certify_leaves_no_key_or_password_in_any_artifact(tmp_path: Path) -> None:
    result = run_certify(tmp_path / "certify")
    assert result.returncode in (0, 1) and (tmp_path / "certify" / "out" / "certificate.json").is_file(), (
        result.output[-3000:]
    )
    assert [str(f) for f in result.findings] == []


def _unscrubbed_stream(secret: str, encoding: str) -> str:
    """What the echo server streams for ``echo-stream-ENCODING``: the body an unscrubbed
    cassette would hold."""
    with FaultServer(echo_behaviour("chat")) as server:
        body = {"messages": [{"role": "user", "content": f"echo-stream-{encoding}"}], "stream": True}
        reply = httpx2.post(
            server.url + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {secret}"}
        )
    return reply.text


PLANTS: dict[str, tuple[str, Callable[[str], str], str]] = {
    "raw in a report": ("rep.md", lambda k: f"- reason: Incorrect API key: {k}\n", "raw"),
    "URL-quoted in a log line": (
        "out.txt",
        lambda k: f"GET /x?key={urllib.parse.quote(k, safe='')}",
        "url-quoted",
    ),
    "base64, misaligned": ("rep.html", lambda k: base64.b64encode(b"user:" + k.encode()).decode(), "base64"),
    "JSON-escaped": ("rep.json", lambda k: json.dumps({"m": k}).replace("/", "\\/"), "JSON-escaped"),
    "repr of escaped JSON": (
        "err.txt",
        lambda k: repr("".join(f"\\u{ord(c):04x}" for c in k)),
        "JSON-escaped",
    ),
    "truncated repr": (
        "out2.txt",
        lambda k: f"{{'authorization': 'Bearer {k[:18]}...'}}",
        "characters of it",
    ),
    "split across deltas": (
        "cassettes/p/c.yaml",
        lambda k: yaml.safe_dump(
            {"interactions": [{"response": {"body": {"string": _unscrubbed_stream(k, "split")}}}]}
        ),
        "reassembled from SSE deltas",
    ),
    "split and escaped": (
        "cassettes/p/d.yaml",
        lambda k: yaml.safe_dump(
            {"interactions": [{"response": {"body": {"string": _unscrubbed_stream(k, "split-json")}}}]}
        ),
        "reassembled from SSE deltas",
    ),
}


@pytest.mark.parametrize("plant", list(PLANTS))
def test_the_scan_finds_a_planted_key(tmp_path: Path, plant: str) -> None:
    """The check can fail: a key in any of these forms, in any artifact, is found; and the
    same artifact with the key redacted is clean."""
    name, make, how = PLANTS[plant]
    secret = canary()
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(make(secret))
    found = scan_tree(tmp_path, {"THE_KEY": secret})
    assert [(f.artifact, f.secret) for f in found] == [(name, "THE_KEY")], found
    assert how in found[0].how, found[0].how
    path.write_text(make("<REDACTED>"))
    assert scan_tree(tmp_path, {"THE_KEY": secret}) == []
