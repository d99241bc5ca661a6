"""What every rendering of the compliance report shares: the display states of a cell, their
symbols and labels, and which providers make the grid's columns.

Kept apart from :mod:`anyllm.testing.report` (the model, terminal and Markdown) so the HTML
page (:mod:`anyllm.testing.report_html`) can use them without an import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS", "STATES", "SYMBOLS", "active_providers", "cell_state", "results_grid"]

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


def cell_state(result: dict[str, Any]) -> str:
    verdict = str(result.get("verdict"))
    if verdict == "failed" and result.get("baselined"):
        return "baselined"
    return verdict if verdict in STATES else "failed"


def results_grid(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The report's results keyed by (provider, case)."""
    return {(r["provider"], r["case"]): r for r in report["results"]}


def active_providers(report: dict[str, Any]) -> list[str]:
    """Providers that exchanged traffic (a cassette) or failed: the grid's columns. The others
    only have not-recorded, unsupported or offline verdicts and show in the summary lines."""
    busy = {
        r["provider"]
        for r in report["results"]
        if r.get("cassette") or cell_state(r) in ("failed", "baselined")
    }
    return [p for p in report["providers"] if p in busy]
