"""The certificate ``certify`` writes: what a server author can trust, and check afterwards.

Built from the report of a certify run (:func:`build_certificate`):

* only cases that exercised the server count: a case the library refused before any request
  went out, or an offline validation case, is listed as client-only and counts for nothing;
* the deviations are the distinct wire and case findings of the run, each once with the
  cases it breaks (:func:`anyllm.testing.findings.deviations`); failures that only follow
  from one (anyllm's client refused a reply the wire judgement explains) are listed apart as
  consequences;
* the capabilities the endpoint declared, and which were not (their cases: unsupported);
* the spec areas covered and not covered (:mod:`anyllm.testing.certify_areas`);
* the sha256 of every cassette, and a sha256 digest over the whole body, so a reader can
  check that nothing was edited afterwards (:func:`verify_certificate`), and re-check the
  certificate against its cassettes (``certify verify``, :mod:`anyllm.testing.certify`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from anyllm.testing.certify_areas import coverage
from anyllm.testing.findings import deviations, normal_path

__all__ = [
    "KIND",
    "build_certificate",
    "certify_verdict",
    "check_cassettes",
    "digest",
    "markdown",
    "row_violations",
    "verify_certificate",
]

KIND = "anyllm-certificate/2"


def digest(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``body``."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def verify_certificate(certificate: Mapping[str, Any]) -> bool:
    """True when the certificate's digest matches its content."""
    body = {k: v for k, v in certificate.items() if k != "digest"}
    return certificate.get("digest") == digest(body)


def certify_verdict(row: Mapping[str, Any]) -> str:
    """A result as certify counts it: passed / failed (the server was exercised, or a request
    to it failed on the way), client-only (no request was sent: it says nothing about the
    server), unsupported (an undeclared capability) or not recorded (could not run)."""
    verdict = str(row.get("verdict"))
    if verdict in ("unsupported", "not_recorded"):
        return verdict
    if row.get("mode") == "offline" or not (row.get("requests") or row.get("live_failure")):
        return "client-only"
    return verdict


def row_violations(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A failed row's grouped violations, plus its rules that no violation carries (the
    exception that ended the case) and its consequences, so every finding is counted once."""
    out = [dict(v) for v in row.get("violations") or []]
    carried = {v.get("rule") for v in out if v.get("severity") == "error"}
    for rule in row.get("rules") or []:
        if rule not in carried:
            out.append(
                {
                    "rule": rule,
                    "severity": "error",
                    "path": "$",
                    "message": str(row.get("reason") or rule),
                    "count": 1,
                }
            )
    consequences = {(v.get("rule"), v.get("consequence_of")) for v in out if v.get("consequence_of")}
    for c in row.get("consequences") or []:
        if (c.get("rule"), c.get("consequence_of")) not in consequences:
            out.append(
                {
                    "rule": c.get("rule"),
                    "severity": "error",
                    "path": "$",
                    "message": str(c.get("message") or ""),
                    "consequence_of": c.get("consequence_of"),
                    "count": 1,
                }
            )
    return out


def _result(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "case": row.get("case"),
        "official": row.get("official"),
        "verdict": certify_verdict(row),
        "rules": list(row.get("rules") or []),
        "consequences": list(row.get("consequences") or []),
        "refusals": list(row.get("refusals") or []),
        "requests": int(row.get("requests") or 0),
        "reason": row.get("reason") or "",
        "violations": row_violations(row) if row.get("verdict") == "failed" else [],
        "cassette": row.get("cassette"),
        "cassette_sha256": row.get("cassette_sha256"),
    }


def _verdict(counts: Mapping[str, int], pytest_ok: bool) -> str:
    if counts.get("failed", 0):
        return "not conformant"
    if not counts.get("passed", 0) or counts.get("not_recorded", 0) or not pytest_ok:
        return "incomplete"
    return "conformant"


def build_certificate(run: Mapping[str, Any], report: Mapping[str, Any], exit_code: int) -> dict[str, Any]:
    """The certificate of a certify run. ``run``: what was certified (provider, target,
    api_base, model, signed_off_by, capabilities); ``report``: the suite's report.json."""
    rows = list(report.get("results") or [])
    results = [_result(row) for row in rows]
    counts: dict[str, int] = {}
    for result in results:
        counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
    exercised = [r for r in results if r["verdict"] in ("passed", "failed")]
    found, consequences = deviations([r for r in exercised if r["verdict"] == "failed"])
    unsupported = {
        str(r.get("case")): str(r.get("reason") or "") for r in rows if r.get("verdict") == "unsupported"
    }
    body: dict[str, Any] = {
        "kind": KIND,
        **dict(run),
        "model": run.get("model") or next((r.get("model") for r in rows if r.get("model")), None),
        "spec_version": report.get("spec_version"),
        "library_version": report.get("library_version"),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verdict": _verdict(counts, exit_code in (0, 1, 5)),
        "counts": counts,
        "deviations": [d.to_dict() for d in found],
        "consequences": [d.to_dict() for d in consequences],
        "areas": coverage(
            (r["case"] for r in exercised), (r["case"] for r in results), unsupported_reasons(unsupported)
        ),
        "results": results,
    }
    return {**body, "digest": digest(body)}


def unsupported_reasons(unsupported: Mapping[str, str]) -> dict[str, str]:
    """case -> the undeclared capability it needs first (from the harness's reason), so an
    area's cases needing ``websocket`` and ``websocket, compaction`` say one thing."""
    out = {}
    for case, reason in unsupported.items():
        _, _, needs = reason.partition("does not declare ")
        first = needs.split(",")[0].strip()
        out[case] = f"{first} not declared" if first else reason or "unsupported"
    return out


# -- checking a certificate against its cassettes ---------------------------------------------


def check_cassettes(certificate: Mapping[str, Any], base: Path) -> list[str]:
    """Problems with the cassettes a certificate names (relative to ``base``, its directory):
    a missing file, or one whose sha256 is not the certificate's."""
    problems = []
    for result in certificate.get("results") or []:
        name, want = result.get("cassette"), result.get("cassette_sha256")
        if not name:
            continue
        path = base / str(name)
        if not path.is_file():
            problems.append(f"{result.get('case')}: cassette {name} is missing")
            continue
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != want:
            problems.append(
                f"{result.get('case')}: cassette {name} was changed "
                f"(sha256 {got[:16]}, certified {str(want)[:16]})"
            )
    return problems


# -- rendering -------------------------------------------------------------------------------


def _cases(names: Sequence[str], limit: int | None) -> str:
    if limit is None or len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" (+{len(names) - limit} more)"


def deviation_lines(cert: Mapping[str, Any], *, limit: int | None = 6, bullet: str = "") -> list[str]:
    """The deviations, each once with the cases it breaks; then the consequences."""
    lines = []
    devs = cert.get("deviations") or []
    for number, dev in enumerate(devs, start=1):
        where = normal_path(str((dev.get("example") or {}).get("path") or "$"))
        lines.append(f"{bullet}{number:>2}. {dev['rule']}: {dev['summary']}  (at {where})")
        lines.append(
            f"{bullet}      {len(dev['cases'])} case(s), {dev['occurrences']} occurrence(s): "
            f"{_cases(dev['cases'], limit)}"
        )
    return lines


def consequence_lines(cert: Mapping[str, Any], *, limit: int | None = 6) -> list[str]:
    return [
        f"  - {c['rule']} in {len(c['cases'])} case(s), {c['summary']}: {_cases(c['cases'], limit)}"
        for c in cert.get("consequences") or []
    ]


def markdown(cert: Mapping[str, Any]) -> str:
    """certificate.md: the same facts as certificate.json, for people."""
    counts = cert.get("counts") or {}
    caps = cert.get("capabilities") or {}
    lines = [
        f"# anyllm certificate: {cert['provider']} at {cert['api_base']}",
        "",
        f"- verdict: **{cert['verdict']}**",
        f"- target: {cert.get('target') or '(none)'}; model: `{cert['model']}`",
        f"- spec {cert['spec_version']}, anyllm {cert['library_version']}, {cert['date']}",
        f"- signed off by: {cert.get('signed_off_by') or '(nobody)'}",
        f"- counts: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))} "
        "(client-only cases made no request to the server and count for nothing)",
        f"- capabilities declared ({caps.get('source', '')}): "
        f"{', '.join(caps.get('declared') or []) or 'none'}; "
        f"undeclared (their cases are unsupported): {', '.join(caps.get('undeclared') or []) or 'none'}",
        f"- digest (sha256 of the canonical JSON without this field): `{cert['digest']}`",
        "",
        "## Deviations",
        "",
    ]
    lines += deviation_lines(cert, limit=None) or ["none"]
    if cert.get("consequences"):
        lines += ["", "## Consequences (not counted as findings)", "", *consequence_lines(cert, limit=None)]
    areas = cert.get("areas") or {}
    lines += ["", "## Spec areas", ""]
    for area in areas.get("covered") or []:
        lines.append(f"- covered: {area['title']} [{area['section']}]")
    for area in areas.get("not_covered") or []:
        lines.append(f"- **not covered**: {area['title']} [{area['section']}]: {area['why']}")
    lines += [
        "",
        "## Cases",
        "",
        "| case | official | verdict | rules | cassette sha256 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in cert["results"]:
        lines.append(
            f"| `{row['case']}` | {row['official'] or ''} | {row['verdict']} | {', '.join(row['rules'])} | "
            f"{(row['cassette_sha256'] or '')[:16]} |"
        )
    return "\n".join(lines) + "\n"
