"""Verdicts: what the harness concludes about one provider x case, and the row the report gets.

A case ends as passed, failed (with rule ids, possibly covered by the provider's reviewed
baseline), unsupported or not recorded. Rule ids the harness assigns itself come from the
exception that ended the case (:func:`rule_for`).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from anyllm.testing.cases import CaseInfo
from anyllm.testing.cassettes import (
    CassetteCorruptError,
    NetworkBlockedError,
    RecordingLimitError,
    SecretLeakError,
    cassette_sha256,
    load_provenance,
)
from anyllm.testing.harness import CaseValidator, Target, WireExchange
from anyllm.testing.plugin.baselines import load_baseline
from anyllm.testing.plugin.options import AnyllmSettings
from anyllm.testing.plugin.session import SessionState
from anyllm.testing.validate import Violation

__all__ = [
    "CONTEXT_KEY",
    "VERDICT_PROPERTY",
    "CaseContext",
    "VerdictCollector",
    "check_wire",
    "describe",
    "judge",
    "rule_for",
    "wire_exchanges",
]

VERDICT_PROPERTY = "anyllm_verdict"
REPORTED_VIOLATIONS = 50  # per case in the report (the count and the rule list are complete)
# Rule ids that say the run itself went wrong (not how the provider behaved): a baseline
# never covers them.
UNBASELINABLE = frozenset(
    {"CASSETTE-MISMATCH", "NETWORK-BLOCKED", "HARNESS-ERROR", "CASSETTE-SECRET", "CASSETTE-CORRUPT"}
)


@dataclass
class CaseContext:
    """Everything the plugin knows about one provider x case run."""

    info: CaseInfo
    provider: str
    cassette: Path
    mode: str  # effective record mode ("none" = replay only)
    target: Target | None = None
    validator: CaseValidator | None = None
    verdict: str | None = None
    reason: str = ""
    rules: list[str] = field(default_factory=list)
    baselined: bool = False
    baseline_reason: str = ""
    stale_baseline: bool = False
    teardown_error: BaseException | None = None
    recorded: int = 0
    live_cassette: Any = None  # the active AnyllmCassette while the case runs
    started: float = field(default_factory=time.perf_counter)
    duration: float = 0.0

    def to_dict(self, settings: AnyllmSettings, nodeid: str) -> dict[str, Any]:
        provenance = load_provenance(self.cassette)
        violations = self.validator.violations if self.validator else []
        try:
            cassette = str(self.cassette.relative_to(settings.rootdir))
        except ValueError:
            cassette = str(self.cassette)
        exists = self.cassette.is_file()
        return {
            "provider": self.provider,
            "case": self.info.id,
            "official": self.info.official,
            "feature": self.info.feature,
            "requires": list(self.info.requires),
            "verdict": self.verdict or "failed",
            "baselined": self.baselined,
            "baseline_reason": self.baseline_reason,
            "stale_baseline": self.stale_baseline,
            "rules": self.rules,
            "reason": self.reason,
            "violations": [v.to_dict() for v in _sample(violations, REPORTED_VIOLATIONS)],
            "violation_count": len(violations),
            "warnings": sorted({v.rule for v in violations if v.severity != "error"}),
            "cassette": cassette if exists else None,
            "cassette_sha256": cassette_sha256(self.cassette) if exists else None,
            "model": self.target.model if self.target else provenance.get("model"),
            "profile": self.target.profile if self.target else None,
            "recorded_at": provenance.get("recorded_at"),
            "mode": "record" if self.recorded else "replay",
            "responses": self.validator.responses if self.validator else 0,
            "events": self.validator.events if self.validator else 0,
            "wire_judged": bool(self.validator and self.validator.wire_judged),
            "wire_exchanges": self.validator.exchanges if self.validator else 0,
            "wire_events": self.validator.wire_events if self.validator else 0,
            "duration": round(self.duration, 4),
            "nodeid": nodeid,
        }


def _sample(violations: list[Violation], limit: int) -> list[Violation]:
    """At most ``limit`` violations, in order, with the first of every rule among them: a
    stream with 60 broken deltas must not push its one framing problem out of the report."""
    if len(violations) <= limit:
        return violations
    keep: set[int] = set()
    rules: set[str] = set()
    for index, v in enumerate(violations):
        if v.rule not in rules:
            rules.add(v.rule)
            keep.add(index)
    for index in range(len(violations)):
        if len(keep) >= limit:
            break
        keep.add(index)
    return [v for index, v in enumerate(violations) if index in keep]


CONTEXT_KEY = pytest.StashKey[CaseContext]()


def rule_for(exc: BaseException) -> str:
    """The rule id of the exception that ended a case (a harness failure or the case's own)."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    from anyllm.errors import AnyLLMError

    if isinstance(exc, CannotOverwriteExistingCassetteException):
        return "CASSETTE-MISMATCH"
    if isinstance(exc, NetworkBlockedError):
        return "NETWORK-BLOCKED"
    if isinstance(exc, RecordingLimitError):
        return "RECORDING-LIMIT"
    if isinstance(exc, SecretLeakError):
        return "CASSETTE-SECRET"
    if isinstance(exc, CassetteCorruptError):
        return "CASSETTE-CORRUPT"
    if isinstance(exc, AssertionError):
        return "CASE-CHECK"
    if isinstance(exc, AnyLLMError):
        return "CASE-ERROR"
    return "HARNESS-ERROR"


def wire_exchanges(cassette: Any) -> list[WireExchange]:
    """The interactions the case used, in order, as the harness's wire exchanges."""
    out: list[WireExchange] = []
    for number, (request, response) in enumerate(cassette.used_interactions(), start=1):
        headers = {
            str(name).lower(): ", ".join(str(v) for v in (values if isinstance(values, list) else [values]))
            for name, values in (response.get("headers") or {}).items()
        }
        out.append(
            WireExchange(
                number=number,
                method=str(request.method),
                path=urllib.parse.urlsplit(str(request.uri)).path,
                request_body=request.body or b"",
                status=int(response["status"]["code"]),
                headers=headers,
                body=(response.get("body") or {}).get("string") or b"",
            )
        )
    return out


def check_wire(ctx: CaseContext) -> None:
    """Native providers: judge what crossed the wire (see :mod:`anyllm.testing.plugin`)."""
    validator, cassette = ctx.validator, ctx.live_cassette
    if validator is None or cassette is None or not validator.wire_judged:
        return
    try:
        validator.check_wire(wire_exchanges(cassette))
    except Exception as exc:  # a harness bug must show as one, not as a pytest internal error
        validator.violations.append(
            Violation("HARNESS-ERROR", "error", "$", f"wire validation failed: {exc!r}", "harness")
        )


def judge(ctx: CaseContext, settings: AnyllmSettings, exc: BaseException | None) -> None:
    """Set the verdict of a case that ran: its violations and the exception that ended it
    (if any) as rules, then the provider's baseline decides whether a failure is known."""
    from anyllm.errors import UnsupportedParameterError

    if isinstance(exc, UnsupportedParameterError):
        ctx.verdict, ctx.reason = "unsupported", str(exc)
        return
    rules = sorted({v.rule for v in (ctx.validator.errors() if ctx.validator else [])})
    if exc is not None:
        rules = sorted({*rules, rule_for(exc)})
        ctx.reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
    ctx.rules = rules
    baseline = load_baseline(settings.baseline_dir, ctx.provider).get(ctx.info.id)
    if not rules:
        ctx.verdict = "passed"
        ctx.stale_baseline = baseline is not None
        return
    ctx.verdict = "failed"
    if baseline is not None and not (set(rules) & UNBASELINABLE) and set(rules) <= set(baseline["rules"]):
        ctx.baselined = True
        ctx.baseline_reason = baseline["reason"]


def describe(ctx: CaseContext) -> str:
    """A failed case as pytest shows it: rules, reason, the first violations, the cassette."""
    lines = [f"anyllm conformance: {ctx.provider} x {ctx.info.id} failed: {', '.join(ctx.rules)}"]
    if ctx.reason:
        lines.append(f"  {ctx.reason}")
    for v in (ctx.validator.errors() if ctx.validator else [])[:20]:
        lines.append(f"  {v}")
    lines.append(f"  cassette: {ctx.cassette}")
    return "\n".join(lines)


class VerdictCollector:
    """Gathers verdicts from teardown reports (they travel in user_properties, so this also
    works on the controller of a pytest-xdist run). Registered per session."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == VERDICT_PROPERTY:
                self.state.verdicts.append(json.loads(value) if isinstance(value, str) else dict(value))  # type: ignore[call-overload]
