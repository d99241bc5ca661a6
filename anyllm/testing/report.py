"""The compliance report: one data model, four renderings (terminal, JSON, Markdown, HTML).

JSON is for machines (CI artefacts, diffs between runs), Markdown for pull requests, and
the HTML page (:mod:`anyllm.testing.report_html`) is a single self-contained file with the
provider x case grid and filterable, collapsed details linking cassettes and spec sections.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from anyllm.spec import SPEC_VERSION
from anyllm.testing.report_cells import LABELS, STATES, SYMBOLS, cell_state
from anyllm.testing.report_cells import active_providers as _active
from anyllm.testing.report_cells import results_grid as _grid
from anyllm.testing.report_html import render_html
from anyllm.testing.report_summary import markdown_summary, summarize

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
TERMINAL_MARKUP: dict[str, dict[str, bool]] = {
    "passed": {"green": True},
    "baselined": {"yellow": True},
    "failed": {"red": True, "bold": True},
    "unsupported": {"blue": True},
    "not_recorded": {"light": True},
}


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
        **summarize(rows, order),  # fix_first, traffic, record_problems (report_summary)
        "results": rows,
    }


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
        "## Summary",
        "",
        "| provider | " + " | ".join(LABELS[s] for s in STATES) + " |",
        "| --- | " + " | ".join("---:" for _ in STATES) + " |",
    ]
    for provider in report["providers"]:
        counts = report["summary"].get(provider, {})
        lines.append(f"| {provider} | " + " | ".join(str(counts.get(s, 0)) for s in STATES) + " |")
    lines += ["", *markdown_summary(report)]
    lines += [
        "## Matrix",
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
            for v in row.get("violations", []):  # every distinct one, each once (findings.py)
                if v.get("severity") == "error" and not v.get("consequence_of"):
                    times = f" (x{v['count']})" if v.get("count", 1) > 1 else ""
                    lines.append(f"  - `{v['rule']}` at `{v['path']}`{times}: {v['message']}")
            for c in row.get("consequences") or []:
                lines.append(f"  - consequence: `{c['rule']}` follows from {c['consequence_of']}")
        lines.append("")
    return "\n".join(lines)


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
