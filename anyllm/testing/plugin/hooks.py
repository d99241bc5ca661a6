"""The plugin's pytest hooks: options, session set-up and tear-down, parametrization by
provider, the verdict of each case, and the compliance matrix at the end."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator
from typing import Any

import pytest

from anyllm.testing.plugin.front_door import use_packaged_suites
from anyllm.testing.plugin.options import SETTINGS_KEY, AnyllmSettings, add_options
from anyllm.testing.plugin.outcome import mark_state, write_summary
from anyllm.testing.plugin.redact_output import REDACT_KEY, OutputRedactor
from anyllm.testing.plugin.session import LOG_SCRUB_KEY, STATE_KEY, SessionState
from anyllm.testing.plugin.verdicts import (
    CONTEXT_KEY,
    VERDICT_PROPERTY,
    VerdictCollector,
    check_wire,
    describe,
    judge,
    rule_for,
)

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    use_packaged_suites(config)  # `pytest --provider=X` with no path: the packaged suites
    config.addinivalue_line(
        "markers",
        "anyllm_case(case_id, requires=(), official=None, feature=''): an anyllm conformance case",
    )
    settings = AnyllmSettings.from_config(config)
    config.stash[SETTINGS_KEY] = settings
    state = SessionState()
    _serve_targets(state, settings)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(VerdictCollector(state), f"anyllm-verdicts-{id(config)}")
    redactor = OutputRedactor(config.stash[SETTINGS_KEY].api_bases)  # keys out of pytest's output
    config.stash[REDACT_KEY] = redactor
    config.pluginmanager.register(redactor, f"anyllm-redact-{id(config)}")


def _serve_targets(state: SessionState, settings: AnyllmSettings) -> None:
    """The columns whose servers the harness starts itself (the target file's targets),
    over backends shared by the session (:mod:`anyllm.testing.local_servers`)."""
    from anyllm.testing.local_servers import local_starters
    from anyllm.testing.target_servers import BackendPool

    state.pool = BackendPool(settings.backends)
    state.starters = local_starters(settings.targets, state.pool)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Keys out of log records from here on (see :mod:`anyllm.testing.log_scrub`): on the
    request loggers, the root logger's handlers and the handlers pytest's logging plugin
    captures, reports and prints with (they exist once configure is over). When recording,
    the temporary files of cassette writers killed in an earlier run are swept."""
    from anyllm.testing.log_scrub import install

    logging_plugin = session.config.pluginmanager.get_plugin("logging-plugin")
    handlers = [
        handler
        for name in ("caplog_handler", "report_handler", "log_cli_handler", "log_file_handler")
        if isinstance(handler := getattr(logging_plugin, name, None), logging.Handler)
    ]
    session.config.stash[LOG_SCRUB_KEY] = install(handlers)
    settings = session.config.stash[SETTINGS_KEY]
    if settings.record_mode != "none":  # temporary files of writers killed in an earlier run
        from anyllm.testing.cassettes import sweep_tree

        sweep_tree(settings.cassette_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    installed = config.stash.get(LOG_SCRUB_KEY, None)
    if installed is not None:
        installed.remove()
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Saved live-fuzz findings: the fuzz plugin parametrizes column and finding together.
    if "anyllm_provider" in metafunc.fixturenames and "anyllm_fuzz_finding" not in metafunc.fixturenames:
        providers = metafunc.config.stash[SETTINGS_KEY].providers
        metafunc.parametrize("anyllm_provider", providers, ids=providers, indirect=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    ctx = item.stash.get(CONTEXT_KEY, None)
    if ctx is None:
        return report
    settings = item.config.stash[SETTINGS_KEY]
    if call.when == "call":
        ctx.duration = time.perf_counter() - ctx.started
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, pytest.skip.Exception):
            ctx.verdict = ctx.verdict or "unsupported"
            ctx.reason = ctx.reason or str(exc)
            mark_state(report, ctx)
            return report
        check_wire(ctx)
        judge(ctx, settings, exc)
        if ctx.verdict == "unsupported":
            report.outcome = "skipped"
            reason = f"Skipped: anyllm unsupported: {ctx.reason}"
            report.longrepr = (str(item.path), item.location[1] or 0, reason)
        elif ctx.verdict == "failed" and ctx.baselined:
            report.outcome = "skipped"
            report.wasxfail = f"known deviation ({', '.join(ctx.rules)}): {ctx.baseline_reason}"
        elif ctx.verdict == "failed" and report.outcome == "passed":
            report.outcome = "failed"
            report.longrepr = describe(ctx)
        elif ctx.verdict == "failed" and call.excinfo is not None:
            report.sections.append(("anyllm verdict", describe(ctx)))
    elif call.when == "setup" and call.excinfo is not None and ctx.verdict is None:
        exc = call.excinfo.value
        if not isinstance(exc, pytest.skip.Exception):
            ctx.verdict, ctx.rules = "failed", [rule_for(exc)]
            ctx.reason = f"setup: {type(exc).__name__}: {exc}"[:500]
    elif call.when == "teardown":
        if ctx.teardown_error is not None:
            ctx.verdict, ctx.baselined = "failed", False
            ctx.rules = sorted({*ctx.rules, rule_for(ctx.teardown_error)})
            ctx.reason = f"{type(ctx.teardown_error).__name__}: {ctx.teardown_error}"[:500]
        report.user_properties.append((VERDICT_PROPERTY, json.dumps(ctx.to_dict(settings, item.nodeid))))
    mark_state(report, ctx)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> Generator[None, None, None]:
    """Outermost wrapper: the matrix comes after pytest's own summaries (-ra lists), right
    above the final counts, where a reader looks."""
    yield
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.verdicts:
        return
    from anyllm.testing.report import build_report, terminal_matrix

    settings = config.stash[SETTINGS_KEY]
    report = build_report(state.verdicts, providers=settings.providers, record_mode=settings.record_mode)
    report = config.stash[REDACT_KEY].redactor().data(report)  # no key in the matrix or report files
    terminalreporter.section("anyllm compliance matrix")
    for text, markup in terminal_matrix(report):
        terminalreporter.write(text, **markup)
    write_summary(terminalreporter, config, report)  # fix-first, report files, per-provider traffic
