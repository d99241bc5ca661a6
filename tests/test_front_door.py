"""Issue 11 items 1-3: the headline commands do what they say.

1. ``pytest --provider=X`` with no path runs the packaged conformance suites, in the project
   root (whose testpaths name the unit tests) and in any other directory; the front-door
   options with no conformance case collected are a usage error.
2. A run asked to record in which a provider has no live access ends non-zero, with a line
   naming the missing variable or ``--api-base``; ``rewrite`` never replays; the first and
   last lines say per provider what was recorded, replayed and not recorded.
3. The matrix run prints the matrix and a de-duplicated "fix these first" list, not one
   SKIPPED/XFAIL line per cell.

Runs are real: pytest in a subprocess (the project's own configuration, or none) or through
pytester, against the committed cassettes or a real loopback server (``tests.helpers.faults``,
doc-derived replies).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.helpers.faults import WIRES, FaultServer, refused_url, reply

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)
KEY_VARIABLES = ("MISTRAL_API_KEY", "OPENRESPONSES_API_KEY", "OPENRESPONSES_BASE_URL")

SUITE = """
from anyllm.testing.cases import case


@case("door-basic")
def test_basic(anyllm_client, conformance_validator):
    r = anyllm_client.create("Say hello", max_output_tokens=16)
    conformance_validator.expect(r["status"] == "completed", "CASE-STATUS", "completed")


@case("door-second")
def test_second(anyllm_client):
    anyllm_client.create("Say hello again", max_output_tokens=16)
"""


def pytest_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``cwd``, as a user types it (no key variables set)."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES and not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", *args)


def anyllm_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("anyllm ")]


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- 1. the front door --------------------------------------------------------------------------


def test_provider_with_no_path_collects_the_packaged_suites_in_the_project_root() -> None:
    done = pytest_in(REPO, "--provider=llamacpp", "--collect-only", "-q")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert len(ids) >= 40
    assert all(i.startswith("conformance/") and i.endswith("[llamacpp]") for i in ids), ids[:5]


def test_provider_with_no_path_runs_the_packaged_suites_from_another_directory(tmp_path: Path) -> None:
    """A provider author's repository: no conformance/ directory, no configuration."""
    done = pytest_in(
        tmp_path,
        "--provider=llamacpp",
        f"--cassette-dir={REPO / 'cassettes'}",
        f"--baseline-dir={REPO / 'conformance' / 'baselines'}",
    )
    # The verdicts are the cassettes' business (exit 1 on a new failure); before, nothing ran (5).
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-2000:]
    assert "anyllm: no path given: running the packaged conformance suites in" in done.stdout
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (\w+)", done.stdout.splitlines()[-1]))
    assert counts["passed"] >= 25
    replayed = re.search(r"^anyllm llamacpp: recorded 0, replayed (\d+), not recorded 0", done.stdout, re.M)
    assert replayed and int(replayed.group(1)) >= 35


def test_provider_with_no_path_runs_the_packaged_suites_under_xdist_too() -> None:
    """xdist workers parse the command line again: they must pick the same suites."""
    pytest.importorskip("xdist", reason="pytest-xdist is part of the test extra")
    done = pytest_in(REPO, "--provider=llamacpp", "-n", "2", "-k", "basic or streaming_response")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "anyllm llamacpp: recorded 0, replayed 2, not recorded 0" in done.stdout
    assert re.search(r"=+ 2 passed in ", done.stdout.splitlines()[-1])


def test_front_door_options_with_no_conformance_case_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    for option in ("--provider=llamacpp", "--record", "--record-mode=rewrite"):
        result = run(pytester, "test_plain.py", option)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, option
        err = result.stderr.str()
        assert "no conformance case was collected from test_plain.py" in err
        assert "Run `pytest --provider=NAME` with no path for the packaged suites" in err
    # The same options, the cases collected, then all deselected: the error says so.
    pytester.makepyfile(test_suite=SUITE)
    result = run(pytester, "test_suite.py", "--provider=llamacpp", "-k", "nothing_matches")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "-k/-m deselected all 2 conformance cases" in result.stderr.str()
    # Without them, plain pytest is untouched (the invocation directory, no error).
    run(pytester, "test_plain.py").assert_outcomes(passed=1)


# -- 2. recording: never a green run in which nothing was recorded -------------------------------


def test_record_without_a_key_fails_naming_the_variable(pytester: pytest.Pytester, no_keys: None) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = run(pytester, ".", "--provider=mistral", "--record")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    first, *_, last = anyllm_lines(out)
    assert first == "anyllm mistral: will replay 0, record 0, not recorded 2; cannot record: " + (
        "no key (MISTRAL_API_KEY is not set)"
    )
    assert last == "anyllm mistral cannot record (record mode once): no key (MISTRAL_API_KEY is not set)"
    assert "anyllm mistral: recorded 0, replayed 0, not recorded 2" in out
    assert "2 unrecorded" in result.outlines[-1]


def _record(pytester: pytest.Pytester, *extra: str) -> None:
    """Record the suite for openresponses against a real loopback server."""
    pytester.makepyfile(test_suite=SUITE)
    with FaultServer(reply(200, WIRES["openresponses"].reply)) as server:
        result = run(
            pytester, ".", "--provider=openresponses", f"--api-base={server.url}/v1", "--record", *extra
        )
    assert result.ret == 0, result.stdout.str()[-3000:]


def test_a_recording_run_says_what_it_recorded_and_a_replay_what_it_replayed(
    pytester: pytest.Pytester, no_keys: None
) -> None:
    _record(pytester, "--conformance-report=rec")
    rows = json.loads((pytester.path / "rec.json").read_text())
    assert {r["mode"] for r in rows["results"]} == {"record"}
    assert rows["traffic"]["openresponses"]["recorded"] == 2
    result = run(pytester, ".", "--provider=openresponses", "--conformance-report=rep")
    assert result.ret == 0
    assert anyllm_lines(result.stdout.str())[-1] == (
        "anyllm openresponses: recorded 0, replayed 2, not recorded 0"
    )
    assert {r["mode"] for r in json.loads((pytester.path / "rep.json").read_text())["results"]} == {"replay"}


def test_record_with_every_cassette_present_and_no_endpoint_still_fails(
    pytester: pytest.Pytester, no_keys: None
) -> None:
    _record(pytester)
    result = run(pytester, ".", "--provider=openresponses", "--record")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the cases replayed and passed, nothing recorded
    assert anyllm_lines(result.stdout.str())[-1] == (
        "anyllm openresponses cannot record (record mode once): "
        "no endpoint (pass --api-base or set OPENRESPONSES_BASE_URL)"
    )


def test_rewrite_without_live_access_never_replays_the_old_cassettes(
    pytester: pytest.Pytester, no_keys: None
) -> None:
    _record(pytester)
    cassettes = sorted((pytester.path / "cassettes" / "openresponses").glob("*.yaml"))
    before = [p.read_bytes() for p in cassettes]
    dead = refused_url()
    result = run(
        pytester,
        ".",
        "--provider=openresponses",
        f"--api-base={dead}/v1",
        "--record-mode=rewrite",
        "--conformance-report=rw",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = json.loads((pytester.path / "rw.json").read_text())
    assert report["record_mode"] == "rewrite"
    assert {(r["verdict"], r["mode"]) for r in report["results"]} == {("not_recorded", "none")}
    assert "door-basic.yaml is kept, not replayed" in report["results"][0]["reason"]
    assert [p.read_bytes() for p in cassettes] == before
    assert anyllm_lines(result.stdout.str())[-1] == (
        f"anyllm openresponses cannot record (record mode rewrite): nothing listens at {dead}/v1"
    )


# -- 3. the matrix run's output ------------------------------------------------------------------


def test_the_matrix_prints_a_fix_first_list_not_a_line_per_skipped_cell() -> None:
    """`pytest conformance --provider=all` in the project root (its ini adds -ra)."""
    done = pytest_in(REPO, "conformance", "--provider=all")
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-2000:]  # 1: a new failure
    lines = done.stdout.splitlines()
    noisy = [line for line in lines if line.startswith(("SKIPPED", "XFAIL"))]
    # Only the two fuzz suites' grouped "fuzzing is off" lines (--fuzz, --fuzz-live).
    assert len(noisy) <= 2, noisy[:5]
    assert len(lines) < 250
    start = lines.index("fix these first: distinct rules, by the number of cases they break")
    ranked = [line for line in lines[start + 1 :] if re.match(r"\s+\d+\. ", line)]
    rules = [line.split()[1] for line in ranked]
    assert rules and len(rules) == len(set(rules)) and len(rules) <= 10
    cases = [int(re.search(r"(\d+) cases?", line).group(1)) for line in ranked]
    assert cases == sorted(cases, reverse=True)
    final = lines[-1]
    assert "unrecorded" in final and "baselined" in final and "unsupported" in final
    assert "skipped" in final  # the fuzz suite, off without --fuzz: pytest's own skips remain
    assert re.search(r"^anyllm llamacpp: recorded 0, replayed \d+, not recorded 0", done.stdout, re.M)


def test_the_markdown_report_starts_with_the_terminal_summary(
    pytester: pytest.Pytester, no_keys: None
) -> None:
    _record(pytester)
    result = run(pytester, ".", "--provider=openresponses,mistral", "--conformance-report=md")
    assert result.ret == 0
    md = (pytester.path / "md.md").read_text()
    summary = md.index("## Summary")
    assert summary < md.index("## Matrix")
    assert md.index("- openresponses: recorded 0, replayed 2, not recorded 0") < md.index("## Matrix")
    assert "- not recorded (no cassette, no live access): mistral (2)" in md
