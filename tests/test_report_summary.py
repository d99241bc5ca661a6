"""The summary every rendering of the report starts with: the de-duplicated "fix these first"
list (issue 11 item 3), traffic per provider, and why a provider could not record."""

from __future__ import annotations

from anyllm.testing.report import build_report, render_markdown
from anyllm.testing.report_summary import FIX_FIRST_SHOWN, fix_first, terminal_summary


def row(provider: str, case: str, verdict: str, rules: list[str], **extra: object) -> dict:
    return {
        "provider": provider,
        "case": case,
        "verdict": verdict,
        "baselined": bool(extra.pop("baselined", False)),
        "rules": rules,
        "violations": [],
        "cassette": f"cassettes/{provider}/{case}.yaml",
        "mode": "replay",
        **extra,
    }


ROWS = [
    row("a", "c1", "failed", ["SCHEMA-EVENT", "CASE-X"]),
    row("a", "c2", "failed", ["SCHEMA-EVENT"]),
    row("b", "c1", "failed", ["SCHEMA-EVENT"], baselined=True),
    row("b", "c2", "failed", ["CASE-X"], violations=[{"rule": "CASE-X", "message": "x was wrong"}]),
    row("b", "c3", "failed", ["CASSETTE-MISMATCH"]),
    row("b", "c4", "passed", []),
    row(
        "c", "c1", "not_recorded", [], cassette=None, mode="none", record_problem="no key (C_KEY is not set)"
    ),
]


def test_fix_first_is_distinct_rules_ranked_by_cases_broken() -> None:
    entries = fix_first(ROWS)
    assert [(e["rule"], e["cases"], e["failed"], e["baselined"]) for e in entries] == [
        ("SCHEMA-EVENT", 3, 2, 1),
        ("CASE-X", 2, 2, 0),
        ("CASSETTE-MISMATCH", 1, 1, 0),
    ]
    first = entries[0]
    assert first["providers"] == ["a", "b"] and first["examples"] == ["a/c1", "a/c2", "b/c1"]
    assert first["summary"] and first["section"].startswith("openapi.json")  # from the catalogue
    assert entries[1]["summary"] == "x was wrong"  # a case's own check: its message


def test_the_report_model_carries_the_summary() -> None:
    report = build_report(ROWS, providers=["a", "b", "c"], record_mode="once")
    assert [e["rule"] for e in report["fix_first"]] == ["SCHEMA-EVENT", "CASE-X", "CASSETTE-MISMATCH"]
    assert report["traffic"]["b"] == {
        "recorded": 0,
        "replayed": 4,
        "not_recorded": 0,
        "offline": 0,
        "unsupported": 0,
    }
    assert report["record_problems"] == {"c": "no key (C_KEY is not set)"}


def test_terminal_shows_the_first_rules_and_verbose_shows_all() -> None:
    many = [row("p", f"case{i}", "failed", [f"CASE-R{i:02d}"] * 1) for i in range(FIX_FIRST_SHOWN + 3)]
    report = build_report(many, providers=["p"])
    short = "".join(text for text, _ in terminal_summary(report))
    assert short.count("CASE-R") == FIX_FIRST_SHOWN and "3 more rules (-v lists all)" in short
    full = "".join(text for text, _ in terminal_summary(report, verbose=1))
    assert full.count("e.g. p/case") == FIX_FIRST_SHOWN + 3


def test_markdown_starts_with_the_same_summary() -> None:
    md = render_markdown(build_report(ROWS, providers=["a", "b", "c"], record_mode="once"))
    head = md[: md.index("## Matrix")]
    assert "## Summary" in head
    assert "- b: recorded 0, replayed 4, not recorded 0" in head
    assert "- c cannot record (record mode once): no key (C_KEY is not set)" in head
    assert "1. `SCHEMA-EVENT` breaks 3 cases (2 failed, 1 known deviations) in a, b" in head
