"""The summary that heads every rendering of the compliance report: what to fix first, and
what the run did with each provider's traffic.

* ``fix_first``: the distinct rule ids of failed cases (known deviations included), ranked by
  the number of provider x case results they break. Hundreds of failing cells usually come
  from a handful of rules; the list says which, and where to read about each.
* ``traffic``: per provider, how many cases were recorded live, replayed from a cassette,
  not recorded (no cassette, no live access), offline (need no traffic) or unsupported.
* ``record_problems``: per provider, why it could not record in a run asked to record.

:func:`summarize` computes all three from the verdict rows (the report model carries them);
:func:`terminal_summary` and :func:`markdown_summary` render them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from anyllm.testing.report_cells import cell_state

__all__ = [
    "FIX_FIRST_SHOWN",
    "TRAFFIC",
    "fix_first",
    "markdown_summary",
    "record_problems",
    "summarize",
    "terminal_summary",
    "traffic",
]

FIX_FIRST_SHOWN = 10  # rules listed in the terminal without -v (the report files list all)
# Traffic kinds, in display order, with their labels.
TRAFFIC = {
    "recorded": "recorded",
    "replayed": "replayed",
    "not_recorded": "not recorded",
    "offline": "offline",
    "unsupported": "unsupported",
}
_EXAMPLES = 5  # provider/case examples per fix-first rule


def _rule_text(rule: str, rows: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """(summary, spec section) of a rule: the catalogue's, else the first violation's message
    (a case's own CASE-* check), else nothing (a harness rule such as CASSETTE-MISMATCH)."""
    from anyllm.testing.rules import RULES

    known = RULES.get(rule)
    if known is not None:
        return known.summary, known.section
    for row in rows:
        for violation in row.get("violations") or []:
            if violation.get("rule") == rule:
                return str(violation.get("message", "")), str(violation.get("section", ""))
    return "", ""


def fix_first(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Distinct rule ids of failed and known-deviation results, most cases broken first
    (then most new failures, then the id). ``cases`` counts provider x case results."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if cell_state(row) in ("failed", "baselined"):
            for rule in dict.fromkeys(row.get("rules") or []):
                by_rule.setdefault(str(rule), []).append(row)
    entries: list[dict[str, Any]] = []
    for rule, broken in by_rule.items():
        failed = sum(1 for row in broken if cell_state(row) == "failed")
        summary, section = _rule_text(rule, broken)
        entries.append(
            {
                "rule": rule,
                "cases": len(broken),
                "failed": failed,
                "baselined": len(broken) - failed,
                "providers": sorted({str(row["provider"]) for row in broken}),
                "examples": [f"{row['provider']}/{row['case']}" for row in broken[:_EXAMPLES]],
                "summary": summary,
                "section": section,
            }
        )
    entries.sort(key=lambda e: (-e["cases"], -e["failed"], e["rule"]))
    return entries


def _traffic_kind(row: dict[str, Any]) -> str:
    state = cell_state(row)
    if state in ("not_recorded", "unsupported"):
        return state
    mode = row.get("mode")
    if mode == "record":
        return "recorded"
    if mode == "offline":
        return "offline"
    return "replayed"


def traffic(rows: Iterable[dict[str, Any]], providers: Sequence[str] = ()) -> dict[str, dict[str, int]]:
    """{provider: {recorded, replayed, not_recorded, offline, unsupported}} counts."""
    out: dict[str, dict[str, int]] = {p: dict.fromkeys(TRAFFIC, 0) for p in providers}
    for row in rows:
        out.setdefault(str(row["provider"]), dict.fromkeys(TRAFFIC, 0))[_traffic_kind(row)] += 1
    return out


def record_problems(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """{provider: why it cannot record}, from the results of a run asked to record."""
    out: dict[str, str] = {}
    for row in rows:
        problem = row.get("record_problem")
        if problem and row["provider"] not in out:
            out[str(row["provider"])] = str(problem)
    return out


def summarize(rows: Sequence[dict[str, Any]], providers: Sequence[str]) -> dict[str, Any]:
    """The report model's summary keys: ``fix_first``, ``traffic``, ``record_problems``."""
    return {
        "fix_first": fix_first(rows),
        "traffic": traffic(rows, providers),
        "record_problems": record_problems(rows),
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _fix_line(index: int, entry: dict[str, Any], width: int) -> str:
    split = f"{entry['failed']} failed" + (f", {entry['baselined']} known" if entry["baselined"] else "")
    return (
        f"{index:>3}. {entry['rule']:<{width}} {_plural(entry['cases'], 'case'):>9} ({split})"
        f"  {', '.join(entry['providers'])}"
    )


def traffic_line(provider: str, counts: dict[str, int]) -> str:
    """``recorded N, replayed M, not recorded K`` (+ offline and unsupported when present)."""
    main = [f"{TRAFFIC[k]} {counts.get(k, 0)}" for k in ("recorded", "replayed", "not_recorded")]
    extra = [f"{TRAFFIC[k]} {counts[k]}" for k in ("offline", "unsupported") if counts.get(k)]
    return f"{provider}: " + ", ".join(main) + (f" ({', '.join(extra)})" if extra else "")


def terminal_summary(report: dict[str, Any], *, verbose: int = 0) -> list[tuple[str, dict[str, bool]]]:
    """Segments (text, markup): the fix-first list (the first ten rules; all with -v, with
    example cases and the spec section)."""
    entries = report.get("fix_first") or []
    if not entries:
        return []
    shown = entries if verbose else entries[:FIX_FIRST_SHOWN]
    width = max(len(e["rule"]) for e in shown)
    out: list[tuple[str, dict[str, bool]]] = [
        ("\nfix these first: distinct rules, by the number of cases they break\n", {"bold": True})
    ]
    for index, entry in enumerate(shown, start=1):
        out.append((_fix_line(index, entry, width) + "\n", {"red": True} if entry["failed"] else {}))
        if verbose:
            if entry.get("summary"):
                out.append((f"       {entry['summary']}  [{entry.get('section', '')}]\n", {"light": True}))
            out.append((f"       e.g. {', '.join(entry['examples'])}\n", {"light": True}))
    if len(shown) < len(entries):
        out.append((f"     ... {len(entries) - len(shown)} more rules (-v lists all)\n", {"light": True}))
    return out


def run_lines(report: dict[str, Any]) -> list[str]:
    """The run's last lines: per provider, what happened to its traffic (providers that only
    have not-recorded cases share one line), then one line per provider that could not record
    in a run asked to record."""
    counts = report.get("traffic") or traffic(report["results"], report["providers"])
    lines, idle = [], []
    for provider in report["providers"]:
        row = counts.get(provider, {})
        busy = any(row.get(k) for k in ("recorded", "replayed"))  # offline cases need no traffic
        if busy or provider in (report.get("record_problems") or {}):
            lines.append(traffic_line(provider, row))
        else:
            idle.append(f"{provider} ({row.get('not_recorded', 0)})")
    if idle:
        lines.append(f"not recorded (no cassette, no live access): {', '.join(idle)}")
    mode = report.get("record_mode", "none")
    for provider, why in (report.get("record_problems") or {}).items():
        lines.append(f"{provider} cannot record (record mode {mode}): {why}")
    return lines


def markdown_summary(report: dict[str, Any]) -> list[str]:
    """The same summary as the terminal's, as Markdown: traffic per provider, record problems,
    the fix-first list (every rule). Goes under the report's summary table."""
    lines = [f"- {line}" for line in run_lines(report)]
    entries = report.get("fix_first") or []
    if entries:
        lines += ["", "### Fix these first", "", "Distinct rules, by the number of cases they break:", ""]
        for index, entry in enumerate(entries, start=1):
            split = f"{entry['failed']} failed" + (
                f", {entry['baselined']} known deviations" if entry["baselined"] else ""
            )
            about = f": {entry['summary']}" if entry.get("summary") else ""
            section = f" ({entry['section']})" if entry.get("section") else ""
            lines.append(
                f"{index}. `{entry['rule']}` breaks {_plural(entry['cases'], 'case')} ({split}) in "
                f"{', '.join(entry['providers'])}{about}{section}"
            )
    lines.append("")
    return lines
