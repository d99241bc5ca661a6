"""Keys out of pytest's own output: tracebacks (``--tb=long``, ``-l``), captured output,
skip and xfail reasons, the verdicts that travel to the report.

Why here and not only in cassettes: pytest prints the arguments and locals of every frame
of a failing test with ``-l`` (and the arguments with ``--tb=long``), so the ``api_key``
a case passed, or a header dict holding it, is printed whatever the cassette holds; and a
test may print what it received. Each report is rewritten by a
:class:`~anyllm.testing.redact.Redactor` once pytest has made it and before anything
prints, serializes (xdist, junitxml) or stores it. Not covered: output pytest does not
capture (``-s``), which goes to the terminal as it is written.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from anyllm.testing.redact import Redactor, url_secrets

__all__ = ["REDACT_KEY", "OutputRedactor"]


def _walk(obj: Any, redactor: Redactor, seen: set[int]) -> Any:
    """``obj`` (a pytest repr tree: reprs, lists, tuples, strings) with every string redacted,
    changed in place where it can be and rebuilt where it cannot (str, tuple)."""
    if isinstance(obj, str):
        return redactor.text(obj)
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, list):
        obj[:] = [_walk(value, redactor, seen) for value in obj]
    elif isinstance(obj, tuple):
        return (
            type(obj)(*(_walk(v, redactor, seen) for v in obj))
            if hasattr(obj, "_fields")
            else tuple(_walk(v, redactor, seen) for v in obj)
        )
    elif isinstance(obj, dict):
        for key in list(obj):
            obj[key] = _walk(obj[key], redactor, seen)
    elif type(obj).__module__.startswith("_pytest") and hasattr(obj, "__dict__"):
        for name, value in list(vars(obj).items()):
            object.__setattr__(obj, name, _walk(value, redactor, seen))
    return obj


class OutputRedactor:
    """A plugin object (one per session): rewrites each test and collection report."""

    def __init__(self, api_bases: dict[str, str]) -> None:
        from anyllm.providers.registry import list_providers, provider_metadata

        self._url_secrets = [s for base in api_bases.values() for s in url_secrets(base)]
        metas = [provider_metadata(p) for p in list_providers()]
        self._keys = tuple(sorted({m.api_key_env for m in metas if m.api_key_env}))
        self._bases = tuple(sorted({m.base_url_env for m in metas if m.base_url_env}))
        self._seen: tuple[str | None, ...] | None = None
        self._redactor = Redactor(())

    def redactor(self) -> Redactor:
        """For the keys set now (tests set key variables as they go): rebuilt when they
        change. Keys: the provider key variables, passwords and ``key=`` values in the base
        URL variables and in ``--api-base``."""
        current = tuple(os.environ.get(name) for name in (*self._keys, *self._bases))
        if current != self._seen:
            keys, bases = current[: len(self._keys)], current[len(self._keys) :]
            found = [*keys, *self._url_secrets, *(s for base in bases for s in url_secrets(base))]
            self._redactor, self._seen = Redactor(found), current
        return self._redactor

    def scrub(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        redactor = self.redactor()
        if report.longrepr is not None:
            report.longrepr = _walk(report.longrepr, redactor, set())
            if not isinstance(report.longrepr, str | tuple) and redactor.found(report.longreprtext):
                report.longrepr = redactor.text(report.longreprtext)  # a part the walk missed
        report.sections = [(title, redactor.text(content)) for title, content in report.sections]
        if isinstance(report, pytest.TestReport):
            report.user_properties = [
                (name, redactor.text(value) if isinstance(value, str) else redactor.data(value))
                for name, value in report.user_properties
            ]
            if isinstance(getattr(report, "wasxfail", None), str):
                report.wasxfail = redactor.text(report.wasxfail)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Outermost: every other wrapper (the verdict's among them) has had its say."""
        report: pytest.TestReport = yield
        self.scrub(report)
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report: pytest.CollectReport = yield
        self.scrub(report)
        return report


REDACT_KEY = pytest.StashKey[OutputRedactor]()
