"""The compliance report: one data model, four renderings (terminal, JSON, Markdown, HTML).

JSON is for machines (CI artefacts, diffs between runs), Markdown for pull requests, and
the HTML page is a single self-contained file (no scripts, no external assets) with the
provider x case grid; each cell links to its violations and its cassette.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from anyllm.spec import SPEC_VERSION

__all__ = [
    "STATES",
    "build_report",
    "cell_state",
    "render_html",
    "render_markdown",
    "terminal_matrix",
    "write_reports",
]

REPORT_SCHEMA = "anyllm-conformance-report/1"
# Display states: the four verdicts, with failures covered by a baseline shown apart.
STATES = ("passed", "baselined", "failed", "unsupported", "not_recorded")
SYMBOLS = {"passed": "✓", "baselined": "~", "failed": "✗", "unsupported": "-", "not_recorded": "·"}
LABELS = {
    "passed": "passed",
    "baselined": "known deviation",
    "failed": "failed",
    "unsupported": "unsupported",
    "not_recorded": "not recorded",
}
TERMINAL_MARKUP: dict[str, dict[str, bool]] = {
    "passed": {"green": True},
    "baselined": {"yellow": True},
    "failed": {"red": True, "bold": True},
    "unsupported": {"blue": True},
    "not_recorded": {"light": True},
}


def cell_state(result: dict[str, Any]) -> str:
    verdict = str(result.get("verdict"))
    if verdict == "failed" and result.get("baselined"):
        return "baselined"
    return verdict if verdict in STATES else "failed"


def _versions() -> dict[str, str]:
    from anyllm.testing.cassettes.provenance import library_version

    return {"library_version": library_version(), "spec_version": SPEC_VERSION}


def build_report(
    results: Iterable[dict[str, Any]], *, providers: Sequence[str] = (), record_mode: str = "none"
) -> dict[str, Any]:
    """Aggregate verdicts into the report model (results sorted by provider, then case)."""
    from anyllm.testing.cases import CASES

    rows = sorted(results, key=lambda r: (str(r["provider"]), str(r["case"])))
    order = list(dict.fromkeys([*providers, *(r["provider"] for r in rows)]))
    seen_cases = list(dict.fromkeys(r["case"] for r in rows))
    cases = []
    for case_id in seen_cases:
        info = CASES.get(case_id)
        sample = next(r for r in rows if r["case"] == case_id)
        cases.append(
            info.to_dict()
            if info
            else {
                "id": case_id,
                "requires": sample.get("requires", []),
                "official": sample.get("official"),
                "feature": sample.get("feature", ""),
            }
        )
    summary: dict[str, dict[str, int]] = {p: dict.fromkeys(STATES, 0) for p in order}
    for row in rows:
        summary.setdefault(row["provider"], dict.fromkeys(STATES, 0))[cell_state(row)] += 1
    totals = dict.fromkeys(STATES, 0)
    for counts in summary.values():
        for state, count in counts.items():
            totals[state] += count
    return {
        "schema": REPORT_SCHEMA,
        "generated_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **_versions(),
        "record_mode": record_mode,
        "providers": order,
        "cases": cases,
        "summary": summary,
        "totals": totals,
        "results": rows,
    }


def _grid(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["provider"], r["case"]): r for r in report["results"]}


def _active(report: dict[str, Any]) -> list[str]:
    """Providers that exchanged traffic (a cassette) or failed: the grid's columns. The others
    only have not-recorded, unsupported or offline verdicts and show in the summary lines."""
    busy = {
        r["provider"]
        for r in report["results"]
        if r.get("cassette") or cell_state(r) in ("failed", "baselined")
    }
    return [p for p in report["providers"] if p in busy]


# -- terminal ---------------------------------------------------------------------------------


def terminal_matrix(report: dict[str, Any]) -> list[tuple[str, dict[str, bool]]]:
    """Segments (text, markup) for the terminal: a case x provider grid of the providers that
    ran something, then one summary line per provider and a legend."""
    out: list[tuple[str, dict[str, bool]]] = []
    grid = _grid(report)
    active = _active(report)
    width = max([len(c["id"]) for c in report["cases"]] + [10]) + 2
    if active:
        cols = [max(len(p), 3) + 2 for p in active]
        out.append(
            ("case".ljust(width) + "".join(p.center(w) for p, w in zip(active, cols, strict=True)) + "\n", {})
        )
        for case in report["cases"]:
            label = case["id"] + (" *" if case.get("official") else "")
            out.append((label.ljust(width), {}))
            for provider, w in zip(active, cols, strict=True):
                row = grid.get((provider, case["id"]))
                state = cell_state(row) if row else "not_recorded"
                out.append((SYMBOLS[state].center(w), TERMINAL_MARKUP[state]))
            failing = [
                f"{p}: {', '.join(grid[(p, case['id'])]['rules'])}"
                for p in active
                if (p, case["id"]) in grid and cell_state(grid[(p, case["id"])]) in ("failed", "baselined")
            ]
            out.append(("  " + "; ".join(failing) if failing else "", {"light": True}))
            out.append(("\n", {}))
        out.append(("\n", {}))
    pwidth = max([len(p) for p in report["providers"]] + [8]) + 2
    for provider in report["providers"]:
        counts = report["summary"].get(provider, {})
        out.append((provider.ljust(pwidth), {"bold": True}))
        for state in STATES:
            out.append(
                (
                    f"{LABELS[state]} {counts.get(state, 0)}  ",
                    TERMINAL_MARKUP[state] if counts.get(state) else {},
                )
            )
        out.append(("\n", {}))
    legend = "  ".join(f"{SYMBOLS[s]} {LABELS[s]}" for s in STATES)
    out.append((f"\n{legend}   (* = official compliance test id)\n", {}))
    return out


# -- markdown ---------------------------------------------------------------------------------


def render_markdown(report: dict[str, Any]) -> str:
    grid = _grid(report)
    providers = _active(report) or report["providers"]
    emoji = {"passed": "✅", "baselined": "🟡", "failed": "❌", "unsupported": "\u2796", "not_recorded": "⚪"}
    lines = [
        "# anyllm conformance report",
        "",
        f"Spec {report['spec_version']}, anyllm {report['library_version']}, "
        f"generated {report['generated_at']}, "
        f"record mode `{report['record_mode']}`.",
        "",
        "| provider | " + " | ".join(LABELS[s] for s in STATES) + " |",
        "| --- | " + " | ".join("---:" for _ in STATES) + " |",
    ]
    for provider in report["providers"]:
        counts = report["summary"].get(provider, {})
        lines.append(f"| {provider} | " + " | ".join(str(counts.get(s, 0)) for s in STATES) + " |")
    lines += [
        "",
        "| case | official | " + " | ".join(providers) + " |",
        "| --- | --- | " + " | ".join(":---:" for _ in providers) + " |",
    ]
    for case in report["cases"]:
        cells = []
        for provider in providers:
            row = grid.get((provider, case["id"]))
            state = cell_state(row) if row else "not_recorded"
            rules = f" {', '.join(row['rules'])}" if row and state in ("failed", "baselined") else ""
            cells.append(f"{emoji[state]}{rules}")
        lines.append(f"| `{case['id']}` | {case.get('official') or ''} | " + " | ".join(cells) + " |")
    lines += ["", "Legend: " + ", ".join(f"{emoji[s]} {LABELS[s]}" for s in STATES), ""]
    problems = [r for r in report["results"] if cell_state(r) in ("failed", "baselined")]
    if problems:
        lines += ["## Failures and known deviations", ""]
        for row in problems:
            kind = "known deviation" if row.get("baselined") else "FAILED"
            lines.append(f"- **{row['provider']} / {row['case']}** ({kind}): {', '.join(row['rules'])}")
            if row.get("baseline_reason"):
                lines.append(f"  - baseline: {row['baseline_reason']}")
            if row.get("reason"):
                lines.append(f"  - {row['reason']}")
            for v in row.get("violations", [])[:5]:
                if v.get("severity") == "error":
                    lines.append(f"  - `{v['rule']}` at `{v['path']}`: {v['message']}")
        lines.append("")
    return "\n".join(lines)


# -- html -------------------------------------------------------------------------------------


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:center;font-size:13px}
th.case,td.case{text-align:left;font-family:ui-monospace,monospace}
td.cell a{display:block;color:#fff;text-decoration:none;font-weight:600;min-width:64px}
.passed{background:#2e7d32}.baselined{background:#b58900}.failed{background:#c62828}
.unsupported{background:#1565c0}.not_recorded{background:#9e9e9e}
.legend span{display:inline-block;color:#fff;padding:2px 8px;margin-right:6px;border-radius:3px}
section.detail{border-top:1px solid #eee;padding:6px 0}
section.detail h3{font-size:1em;margin:6px 0}code{background:#f4f4f4;padding:1px 3px}
ul.v li{font-size:13px}.meta{color:#666;font-size:13px}
"""


def _cell_text(row: dict[str, Any] | None, state: str) -> str:
    if row and state in ("failed", "baselined"):
        rules = row.get("rules") or []
        return (
            SYMBOLS[state]
            + " "
            + (rules[0] + (f" +{len(rules) - 1}" if len(rules) > 1 else "") if rules else "")
        )
    return SYMBOLS[state] + " " + LABELS[state]


def render_html(report: dict[str, Any], *, cassette_base: str = "") -> str:
    """One self-contained page. ``cassette_base`` prefixes cassette links (relative to the page)."""
    e = html.escape
    grid = _grid(report)
    providers = report["providers"]
    active = _active(report)
    shown = active or providers
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>anyllm conformance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>anyllm conformance report</h1>",
        f"<p class='meta'>Spec {e(report['spec_version'])} &middot; anyllm {e(report['library_version'])} "
        f"&middot; generated {e(report['generated_at'])} &middot; record mode {e(report['record_mode'])}</p>",
        "<p class='legend'>"
        + "".join(f"<span class='{s}'>{SYMBOLS[s]} {LABELS[s]}</span>" for s in STATES)
        + "</p>",
        "<table id='summary'><tr><th class='case'>provider</th>"
        + "".join(f"<th>{LABELS[s]}</th>" for s in STATES)
        + "</tr>",
    ]
    for provider in providers:
        counts = report["summary"].get(provider, {})
        out.append(
            f"<tr><td class='case'>{e(provider)}</td>"
            + "".join(f"<td>{counts.get(s, 0)}</td>" for s in STATES)
            + "</tr>"
        )
    out.append("</table>")
    out.append(
        "<table id='grid'><tr><th class='case'>case</th><th>official test</th>"
        + "".join(f"<th>{e(p)}</th>" for p in shown)
        + "</tr>"
    )
    for case in report["cases"]:
        out.append(f"<tr><td class='case'>{e(case['id'])}</td><td>{e(case.get('official') or '')}</td>")
        for provider in shown:
            row = grid.get((provider, case["id"]))
            state = cell_state(row) if row else "not_recorded"
            anchor = f"r-{provider}-{case['id']}"
            out.append(
                f"<td class='cell {state}' title='{e(LABELS[state])}'>"
                f"<a href='#{e(anchor)}'>{e(_cell_text(row, state))}</a></td>"
            )
        out.append("</tr>")
    out.append("</table>")
    if active != providers:
        others = [p for p in providers if p not in active]
        out.append(f"<p class='meta'>Not recorded (no cassette, no live access): {e(', '.join(others))}</p>")
    out.append("<h2>Details</h2>")
    for row in report["results"]:
        state = cell_state(row)
        anchor = f"r-{row['provider']}-{row['case']}"
        out.append(
            f"<section class='detail' id='{e(anchor)}'><h3><span class='legend'><span class='{state}'>"
            f"{SYMBOLS[state]} {e(LABELS[state])}</span></span>{e(row['provider'])} / {e(row['case'])}</h3>"
        )
        meta = [f"model <code>{e(str(row.get('model')))}</code>", f"profile {e(str(row.get('profile')))}"]
        if row.get("cassette"):
            href = cassette_base + row["cassette"]
            meta.append(
                f"cassette <a href='{e(href)}'>{e(row['cassette'])}</a> "
                f"(sha256 {e(str(row.get('cassette_sha256'))[:12])})"
            )
        if row.get("recorded_at"):
            meta.append(f"recorded {e(str(row['recorded_at']))}")
        meta.append(f"{row.get('responses', 0)} responses, {row.get('events', 0)} events validated")
        out.append("<p class='meta'>" + " &middot; ".join(meta) + "</p>")
        if row.get("rules"):
            out.append("<p>Rules: " + ", ".join(f"<code>{e(r)}</code>" for r in row["rules"]) + "</p>")
        if row.get("baseline_reason"):
            out.append(f"<p>Baseline: {e(row['baseline_reason'])}</p>")
        if row.get("reason"):
            out.append(f"<p>{e(row['reason'])}</p>")
        if row.get("violations"):
            out.append(
                "<ul class='v'>"
                + "".join(
                    f"<li><code>{e(v['rule'])}</code> ({e(v['severity'])}) at <code>{e(v['path'])}</code>: "
                    f"{e(v['message'])} <span class='meta'>[{e(v.get('section', ''))}]</span></li>"
                    for v in row["violations"]
                )
                + "</ul>"
            )
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def write_reports(report: dict[str, Any], path: str | Path, *, root: str | Path | None = None) -> list[Path]:
    """Write PATH.json, PATH.md and PATH.html (any extension of PATH is replaced)."""
    base = Path(path)
    if base.suffix in (".json", ".md", ".html"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    root_dir = Path(root) if root is not None else Path.cwd()
    cassette_base = os.path.relpath(root_dir, base.parent).replace(os.sep, "/") + "/"
    written = []
    for suffix, text in (
        (".json", json.dumps(report, indent=2, ensure_ascii=False) + "\n"),
        (".md", render_markdown(report)),
        (".html", render_html(report, cassette_base="" if cassette_base == "./" else cassette_base)),
    ):
        target = base.with_name(base.name + suffix)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        written.append(target)
    return written
