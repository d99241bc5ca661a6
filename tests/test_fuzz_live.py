"""Live fuzzing (``pytest --fuzz-live``, issue 15): generated requests sent to a running target,
every reply judged, each distinct failure shrunk to a minimal request and saved as a cassette
that replays as a conformance case of its column.

The target is a real server process started by the harness from a target file
(tests/helpers/fuzz_target_server.py: the spec-shaped server of target_server.py with two
planted bugs, a 500 whenever a sampling parameter is sent and a misnamed ``event:`` line on
streamed text deltas, and a planted refusal that is no bug, a 400 for ``metadata``). It has
unplanted bugs too, which the fuzzer may find as well: it echoes no ``previous_response_id``
and never calls a tool ``tool_choice`` forces. Runs go through pytester with the packaged
suite module (conformance/test_fuzz_live.py), as a user runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from anyllm.testing.fuzz_live import LIVE_MAX_TOKENS, finding_id
from tests.helpers import fuzz_target_server
from tests.test_plugin import report_results, run

pytest_plugins = ["pytester"]

SERVER = Path(fuzz_target_server.__file__).resolve()
SUITE = "from conformance.test_fuzz_live import test_fuzz_finding, test_fuzz_live  # noqa: F401\n"
COLUMN = "buggy-responses"


def setup_dir(pytester: pytest.Pytester, log: Path | None = None) -> Path:
    """A target file naming the buggy server, and the packaged live-fuzz suite."""
    env = {"TARGET_KEY": "{secret}"}
    if log is not None:
        env["FUZZ_SERVER_LOG"] = str(log)
    doc = {
        "version": 1,
        "targets": {
            COLUMN: {
                "provider": "openresponses",
                "title": "a spec-shaped server with two planted bugs",
                "start": {
                    "command": ["{python}", str(SERVER), "{port}"],
                    "ready": "http://127.0.0.1:{port}/ready",
                    "timeout": 60,
                    "env": env,
                },
                "api_base": "http://127.0.0.1:{port}/v1",
                "api_key": "{secret}",
                "model": "fake-model",
                "capabilities": {"image_input": False, "file_input": False, "reasoning": False},
                "provenance": {"package": "pytest"},
            }
        },
    }
    pytester.makefile(".yaml", targets=yaml.safe_dump(doc))
    pytester.makepyfile(test_suite=SUITE)
    return pytester.path / "cassettes" / COLUMN


def fuzz(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return run(pytester, "--targets-file=targets.yaml", f"--target={COLUMN}", "-k", "fuzz_live", *args)


def saved(directory: Path) -> dict[str, dict]:
    """{case id: the fuzz block of its cassette} for the column's saved findings."""
    return {
        path.stem: yaml.safe_load(path.read_text())["metadata"]["fuzz"]
        for path in sorted(directory.glob("fuzz-*.yaml"))
    }


def minimal_for(blocks: dict[str, dict], rule: str) -> tuple[str, dict]:
    """The saved finding that is the example of ``rule``: (case id, body)."""
    (case_id, block), *others = [(i, b) for i, b in blocks.items() if rule in b["rules"]]
    assert not others, f"{rule} saved twice"
    return case_id, block["body"]


def test_failures_are_shrunk_to_minimal_requests_saved_and_replayed_as_cases(pytester):
    directory = setup_dir(pytester)
    found = fuzz(pytester, "--fuzz-live=60")
    out = found.stdout.str()
    assert found.ret == pytest.ExitCode.TESTS_FAILED, out[-3000:]  # rules no baseline lists
    assert "anyllm live fuzz" in out
    blocks = saved(directory)
    # Shrunk: nothing but what sets each planted bug off (and the always-sent token bound).
    crash_id, crash = minimal_for(blocks, "CASE-SERVER-ERROR")
    assert set(crash) - {"model", "input", "max_output_tokens"} <= fuzz_target_server.SAMPLING
    assert len(crash) == 4 and crash["input"] == "0" and crash["model"] == "fake-model"
    misnamed_id, misnamed = minimal_for(blocks, "SSE-EVENT-MATCHES-TYPE")
    assert set(misnamed) == {"model", "input", "stream", "max_output_tokens"}, misnamed
    assert misnamed["input"] == "0" and misnamed["stream"] is True
    for case_id, block in blocks.items():
        assert case_id == finding_id(block["body"])
        assert 16 <= block["body"]["max_output_tokens"] <= LIVE_MAX_TOKENS
        text = (directory / f"{case_id}.yaml").read_text()
        assert "sk-anyllm-" not in text  # the per-session key went out, and is scrubbed
        assert yaml.safe_load(text)["metadata"]["case"] == case_id
    # Each saved finding is a case of its column: replayed (the target is not started, the
    # network is blocked), failed with the rules it was saved for, in the report.
    replayed = run(pytester, "--targets-file=targets.yaml", f"--target={COLUMN}", "--conformance-report=rep")
    assert replayed.parseoutcomes()["failed"] == len(blocks), replayed.stdout.str()[-3000:]
    rows = report_results(pytester.path / "rep.json")
    assert rows[(COLUMN, crash_id)]["rules"] == blocks[crash_id]["rules"]
    assert rows[(COLUMN, misnamed_id)]["rules"] == ["SSE-EVENT-MATCHES-TYPE"]
    assert {rows[(COLUMN, i)]["mode"] for i in blocks} == {"replay"}
    # A 400 with a spec-shaped error body is a refusal: counted, never a finding.
    assert re.search(r"refused by the server: .*HTTP 400", out), out[-3000:]
    assert not any("metadata" in block["body"] for block in blocks.values())
    assert rows[(COLUMN, crash_id)]["feature"] == "live fuzz finding"


def test_reviewed_findings_are_baselined_and_not_saved_again(pytester):
    directory = setup_dir(pytester)
    fuzz(pytester, "--fuzz-live=60")
    blocks = saved(directory)
    baselines = pytester.path / "conformance" / "baselines"
    baselines.mkdir(parents=True)
    entries = {
        case_id: {"rules": block["rules"], "reason": "planted bug, see the cassette"}
        for case_id, block in blocks.items()
    }
    (baselines / f"{COLUMN}.yaml").write_text(yaml.safe_dump({"cases": entries}))
    again = fuzz(pytester, "--fuzz-live=60")
    out = again.stdout.str()
    assert again.ret == pytest.ExitCode.OK, out[-3000:]
    assert "(known: baseline entry fuzz-" in out and "(NEW" not in out
    assert saved(directory) == blocks  # nothing new written
    replayed = run(pytester, "--targets-file=targets.yaml", f"--target={COLUMN}")
    assert replayed.parseoutcomes() == {"baselined": len(blocks), "skipped": 1}  # test_fuzz_live: off


def counts(out: str) -> dict[str, int]:
    """The figures of the column's summary line."""
    line = next(line for line in out.splitlines() if line.startswith(f"{COLUMN}: "))
    found = re.search(
        r": (?P<sent>\d+) requests sent in .*, (?P<judged>\d+) distinct bodies judged of "
        r"(?P<drawn>\d+) drawn \((?P<late>\d+) past the deadline\).* (?P<client>\d+) by the client",
        line,
    )
    assert found, line
    return {name: int(value) for name, value in found.groupdict().items()}


def test_a_body_met_again_while_shrinking_is_not_sent_again(pytester):
    log = pytester.path / "requests.jsonl"
    setup_dir(pytester, log)
    figures = counts(fuzz(pytester, "--fuzz-live=30").stdout.str())
    assert figures["late"] == 0 and len(log.read_text().splitlines()) == figures["sent"]
    assert figures["sent"] == figures["judged"] - figures["client"]
    assert figures["drawn"] > figures["judged"]  # shrinking retraced and revisited: the cache answered


def test_past_the_deadline_nothing_is_sent(pytester):
    log = pytester.path / "requests.jsonl"
    setup_dir(pytester, log)
    result = fuzz(pytester, "--fuzz-live=30", "--fuzz-live-deadline=0.000001")
    figures = counts(result.stdout.str())
    assert figures["sent"] == figures["judged"] == 0 and not log.exists()
    assert figures["late"] == figures["drawn"] == 30  # every body drawn, none tried
    assert result.ret == pytest.ExitCode.OK  # nothing sent, nothing found


def test_no_live_access_is_a_skip_naming_why(pytester):
    pytester.makepyfile(test_suite=SUITE)
    result = run(pytester, "--provider=mistral", "--fuzz-live=3", "-k", "fuzz_live", "-rs")
    result.assert_outcomes(skipped=1)
    assert "no live access to mistral: no key (MISTRAL_API_KEY is not set)" in result.stdout.str()


def test_live_fuzzing_is_off_unless_asked(pytester):
    pytester.makepyfile(test_suite=SUITE)
    result = run(pytester, "--provider=openresponses", "-rs")
    result.assert_outcomes(skipped=1, deselected=1)  # no saved finding to replay
    assert "live fuzzing is off: pass --fuzz-live[=N]" in result.stdout.str()


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("--fuzz-live=many", "'many' is not a number of examples"),
        ("--fuzz-live=0", "0 examples: give at least 1"),
        ("--fuzz-live-deadline=-1", "give a positive number of seconds"),
    ],
)
def test_bad_bounds_are_usage_errors(pytester, arg, message):
    pytester.makepyfile(test_suite=SUITE)
    result = run(pytester, "--provider=openresponses", arg)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in "\n".join(result.errlines)


def test_a_finding_recorded_again_keeps_its_request(pytester):
    directory = setup_dir(pytester)
    fuzz(pytester, "--fuzz-live=60")
    before = saved(directory)
    crash_id, _body = minimal_for(before, "CASE-SERVER-ERROR")
    first = yaml.safe_load((directory / f"{crash_id}.yaml").read_text())["metadata"]
    again = run(
        pytester,
        "--targets-file=targets.yaml",
        f"--target={COLUMN}",
        "--record-mode=rewrite",
        "-k",
        crash_id,
        "--conformance-report=rep",
    )
    assert again.parseoutcomes()["failed"] == 1, again.stdout.str()[-3000:]
    row = report_results(pytester.path / "rep.json")[(COLUMN, crash_id)]
    assert row["mode"] == "record" and row["rules"] == ["CASE-SERVER-ERROR"]
    meta = yaml.safe_load((directory / f"{crash_id}.yaml").read_text())["metadata"]
    assert meta["record_mode"] == "rewrite" and meta["fuzz"] == first["fuzz"]  # the body is kept
    replayed = run(pytester, "--targets-file=targets.yaml", f"--target={COLUMN}", "-k", crash_id)
    assert replayed.parseoutcomes()["failed"] == 1  # and replays as before
