"""What a conformance run tells its user, first and last, and how it ends.

* First: which suites run (the packaged ones when no path was given), the record mode, and
  per provider what will happen (replay, record, not recorded, and why a provider asked to
  record cannot).
* During: each verdict is its own test status, ``unsupported``, ``unrecorded`` and
  ``baselined`` (a known deviation), so pytest's counts line says them and ``-ra`` does not
  print one line per skipped cell (``-v`` names the verdict of every case).
* Last: the matrix, the de-duplicated "fix these first" list, and per provider: recorded N,
  replayed M, not recorded K. A run asked to record (``--record`` or a record mode other
  than ``none``) in which a provider has no live access ends non-zero, with one line naming
  the missing variable or ``--api-base``: never a green run in which nothing was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from anyllm.testing.plugin.front_door import (
    SUITES_KEY,
    check_cases_collected,
    count_cases,
    harness_options_given,
    is_conformance_item,
)
from anyllm.testing.plugin.options import SETTINGS_KEY, AnyllmSettings
from anyllm.testing.plugin.session import STATE_KEY, SessionState
from anyllm.testing.plugin.verdicts import CaseContext

__all__ = [
    "mark_state",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_report_collectionfinish",
    "pytest_report_header",
    "pytest_report_teststatus",
    "pytest_sessionfinish",
    "write_summary",
]

# Verdict -> (pytest status category, progress letter, verbose word).
_STATUS: dict[str, tuple[str, str, tuple[str, dict[str, bool]]]] = {
    "unsupported": ("unsupported", "u", ("UNSUPPORTED", {"blue": True})),
    "not_recorded": ("unrecorded", "n", ("NOT RECORDED", {"yellow": True})),
    "baselined": ("baselined", "x", ("KNOWN DEVIATION", {"yellow": True})),
}


def mark_state(report: pytest.TestReport, ctx: CaseContext) -> None:
    """Tag a skipped report with its verdict (the attribute travels to an xdist controller)."""
    if not report.skipped:
        return
    if ctx.verdict in ("unsupported", "not_recorded"):
        report.anyllm_state = ctx.verdict  # type: ignore[attr-defined]
    elif ctx.verdict == "failed" and ctx.baselined:
        report.anyllm_state = "baselined"  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport | pytest.CollectReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    state = getattr(report, "anyllm_state", None)
    if state in _STATUS and report.skipped:
        return _STATUS[state]
    return None


# -- first lines ------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
    given = harness_options_given(config)
    if not given:
        return []
    settings = config.stash[SETTINGS_KEY]
    lines = []
    suites = config.stash.get(SUITES_KEY, None)
    if suites is not None:
        lines.append(f"anyllm: no path given: running the packaged conformance suites in {suites}")
    mode = settings.record_mode
    how = "replay only (--record to record)" if mode == "none" else f"record mode {mode}"
    lines.append(f"anyllm: {how}; cassettes in {settings.cassette_dir}")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    count_cases(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    check_cases_collected(session)


def _plan(settings: AnyllmSettings, state: SessionState, items: Sequence[pytest.Item]) -> dict[str, Any]:
    """Per provider: what its collected cases will do (replay, record, not recorded, offline,
    unsupported), and why it cannot record when the run is asked to."""
    from anyllm.testing.cases import missing_capabilities
    from anyllm.testing.plugin.fixtures import _case_info
    from anyllm.testing.plugin.live import live_access

    mode = settings.record_mode
    plan: dict[str, dict[str, int]] = {}
    problems: dict[str, str] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        provider = callspec.params.get("anyllm_provider") if callspec is not None else None
        if not isinstance(provider, str) or "anyllm_case" not in getattr(item, "fixturenames", ()):
            continue  # no verdict (the fuzz suite, say)
        counts = plan.setdefault(provider, dict.fromkeys(("replay", "record", "not recorded", "offline"), 0))
        info = _case_info(item)
        if missing_capabilities(settings.metadata(provider), info.requires):
            counts["unsupported"] = counts.get("unsupported", 0) + 1
            continue
        if info.offline:
            counts["offline"] += 1
            continue
        exists = (settings.cassette_dir / provider / f"{info.id}.yaml").is_file()
        live = False
        if mode != "none":
            live, why, _base = live_access(settings, state, provider, start=False)
            if not live:
                problems[provider] = why
        if live and (mode in ("new_episodes", "all", "rewrite") or not exists):
            counts["record"] += 1
        elif exists and mode not in ("all", "rewrite"):
            counts["replay"] += 1
        else:
            counts["not recorded"] += 1
    return {"plan": plan, "problems": problems}


def pytest_report_collectionfinish(config: pytest.Config, items: Sequence[pytest.Item]) -> list[str]:
    cases = [item for item in items if is_conformance_item(item)]
    if not cases:
        return []
    settings = config.stash[SETTINGS_KEY]
    found = _plan(settings, config.stash[STATE_KEY], cases)
    lines, idle = [], []
    for provider, counts in found["plan"].items():
        if not (counts["replay"] or counts["record"]) and provider not in found["problems"]:
            idle.append(f"{provider} ({counts['not recorded']})")
            continue
        text = ", ".join(f"{k} {v}" for k, v in counts.items() if v or k in ("replay", "record"))
        why = found["problems"].get(provider)
        lines.append(f"anyllm {provider}: will {text}" + (f"; cannot record: {why}" if why else ""))
    if idle:
        lines.append(f"anyllm not recorded (no cassette, no live access): {', '.join(idle)}")
    return lines


# -- last lines and the exit status -----------------------------------------------------------


def _record_problems(config: pytest.Config) -> dict[str, str]:
    from anyllm.testing.report_summary import record_problems

    settings = config.stash.get(SETTINGS_KEY, None)
    state = config.stash.get(STATE_KEY, None)
    if settings is None or state is None or settings.record_mode == "none":
        return {}
    return record_problems(state.verdicts)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run asked to record fails when a provider could not record (see the module doc)."""
    if hasattr(session.config, "workerinput"):
        return
    if _record_problems(session.config) and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _details(report: dict[str, Any]) -> list[str]:
    """-v: every result that did not pass, with its reason."""
    from anyllm.testing.report_cells import LABELS, cell_state

    lines = []
    for row in report["results"]:
        state = cell_state(row)
        if state == "passed":
            continue
        why = row.get("reason") or row.get("baseline_reason") or ""
        rules = f" [{', '.join(row['rules'])}]" if row.get("rules") else ""
        lines.append(
            f"  {row['provider']} / {row['case']}: {LABELS[state]}{rules}{': ' + why if why else ''}"
        )
    return lines


def write_summary(terminalreporter: Any, config: pytest.Config, report: dict[str, Any]) -> None:
    """After the matrix: the fix-first list, -v details, the report files, and last what the
    run did per provider (and why a provider asked to record could not)."""
    from anyllm.testing.report_summary import run_lines, terminal_summary

    settings = config.stash[SETTINGS_KEY]
    verbose = int(config.getoption("verbose", 0) or 0)
    for text, markup in terminal_summary(report, verbose=verbose):
        terminalreporter.write(text, **markup)
    if verbose > 0:
        details = _details(report)
        if details:
            terminalreporter.write_line("\nresults other than passed:", bold=True)
            for line in details:
                terminalreporter.write_line(line)
    if settings.report_path is not None and not hasattr(config, "workerinput"):
        from anyllm.testing.report import write_reports

        paths = write_reports(report, settings.report_path, root=settings.rootdir)
        terminalreporter.write_line("anyllm report: " + ", ".join(str(Path(p)) for p in paths))
    terminalreporter.write_line("")
    for line in run_lines(report):
        failed = " cannot record (record mode " in line
        terminalreporter.write_line(f"anyllm {line}", red=failed, bold=failed)
