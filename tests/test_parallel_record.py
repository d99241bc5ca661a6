"""Parallel recording (pytest-xdist ``-n 2``) into one cassette directory corrupts nothing.

Two workers record a suite of cases for two providers into the same directory, against
real loopback servers; every cassette must then parse, hold the one request its case
sent, leave no temporary file behind, and replay (in parallel again) to the same verdicts.
A second test has two processes rewrite the *same* cassette over and over while this
process keeps reading it: a reader must never see half a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from tests.helpers.faults import WIRES, FaultServer, reply

pytest.importorskip("xdist", reason="pytest-xdist is needed for parallel recording")

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)
CASES = 10
PROVIDERS = {"openresponses": "openresponses", "openai_compatible": "chat"}

SUITE = f"""
import pytest

from anyllm.testing.cases import case


def _make(number):
    @case(f"xdist-case-{{number:02d}}")
    def test(anyllm_client):
        anyllm_client.create(f"prompt number {{number}}", max_output_tokens=16)

    return test


for _number in range({CASES}):
    globals()[f"test_case_{{_number:02d}}"] = _make(_number)
"""


def run_xdist(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        # "." : the pytester directory's cases (--provider with no path runs the packaged suites)
        *PLUGIN_ARGS,
        "-p",
        "no:cacheprovider",
        "-p",
        "no:asyncio",
        "-n",
        "2",
        ".",
        *args,
        timeout=300,
    )


def test_two_workers_record_into_one_directory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_xdist=SUITE)
    with (
        FaultServer(reply(200, WIRES["openresponses"].reply)) as responses_server,
        FaultServer(reply(200, WIRES["chat"].reply)) as chat_server,
    ):
        recorded = run_xdist(
            pytester,
            "--provider=openresponses,openai_compatible",
            f"--api-base=openresponses={responses_server.url}/v1",
            f"--api-base=openai_compatible={chat_server.url}/v1",
            "--record",
        )
        sent = len(responses_server.requests) + len(chat_server.requests)
    assert recorded.ret == 0, recorded.stdout.str()[-3000:]
    assert "2 workers" in recorded.stdout.str() or "gw1" in recorded.stdout.str()
    assert sent == CASES * len(PROVIDERS)
    directory = pytester.path / "cassettes"
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")], "a temporary file was left"
    for provider in PROVIDERS:
        files = sorted((directory / provider).glob("*.yaml"))
        assert [p.stem for p in files] == [f"xdist-case-{n:02d}" for n in range(CASES)]
        for path in files:
            data = yaml.safe_load(path.read_text())
            (interaction,) = data["interactions"]
            body = json.loads(interaction["request"]["body"])
            number = int(path.stem.rsplit("-", 1)[1])
            sent_text = json.dumps(body)
            assert f"prompt number {number}" in sent_text, f"{path.name} holds another case's request"
            assert data["metadata"]["case"] == path.stem and data["metadata"]["provider"] == provider
    before = {p: p.read_bytes() for p in directory.rglob("*.yaml")}
    replayed = run_xdist(pytester, "--provider=openresponses,openai_compatible")
    assert replayed.ret == 0, replayed.stdout.str()[-3000:]
    replayed.assert_outcomes(passed=CASES * len(PROVIDERS))
    assert {p: p.read_bytes() for p in directory.rglob("*.yaml")} == before, "replay rewrote a cassette"


WRITER = """
import sys, httpx2
from anyllm.testing.cassettes import CassetteSettings, use_cassette

path, url, rounds, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for number in range(rounds):
    with use_cassette(path, CassetteSettings(record_mode="rewrite")):
        body = {"writer": tag, "round": number, "padding": "x" * 20000}
        assert httpx2.post(url, json=body).status_code == 200
"""


def test_two_processes_rewriting_one_cassette_never_expose_half_a_file(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "same.yaml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    payload = {"ok": True, "padding": "y" * 50000}
    with FaultServer(reply(200, payload)) as server:
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(path), server.url + "/v1/x", "25", tag],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for tag in ("a", "b")
        ]
        reads = 0
        while any(w.poll() is None for w in writers):
            if path.exists():
                data = yaml.safe_load(path.read_text())  # a torn file would not parse
                (interaction,) = data["interactions"]
                assert json.loads(interaction["response"]["body"]["string"])["ok"] is True
                reads += 1
            time.sleep(0.002)
        errors = [w.communicate()[1] or "" for w in writers]  # read, and close the pipes
    assert [w.returncode for w in writers] == [0, 0], errors
    assert reads > 0, "the reader never saw the file while it was being written"
    final = yaml.safe_load(path.read_text())
    (interaction,) = final["interactions"]
    assert json.loads(interaction["request"]["body"])["round"] == 24
    assert not [p for p in path.parent.iterdir() if p.name != path.name], "a temporary file was left"
