"""The HTML compliance report as a user sees it, in a real headless Chromium (issue 11, item 3).

The page under test is the one the plugin writes for ``pytest conformance --provider=all``
replaying the committed cassettes (every provider x every case: hundreds of results), plus a
small hand-made report that holds every state and a violation of each kind of rule. The
browser is driven over the DevTools protocol (tests/helpers/chromium.py): real mouse clicks on
summaries, grid cells and buttons, filter choices with the events a user's choice fires, and
visibility as rendered (``checkVisibility``), not as written in the HTML.

Chromium is required under ``.ci/run`` (ANYLLM_REQUIRE_CHROMIUM=1); elsewhere these tests
skip, saying how to install it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anyllm.testing.report import build_report, write_reports
from anyllm.testing.rules import RULES, S_PROFILE
from anyllm.testing.spec_links import REFERENCE_URL, SPEC_HEADINGS, SPEC_URL, heading_anchor, section_links
from tests.helpers.chromium import Chromium, Page, file_url, require_chromium

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANYLLM_SHARED_DIR", REPO.parent / "shared"))
SPEC_TEXT = SHARED / "openresponses" / "specification-2026-04-24.mdx"
NONE_WORDS = re.compile(r"\b(None|null|undefined|NaN)\b")


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    chromium = Chromium(require_chromium())
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def all_providers_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The page and the JSON the plugin writes for the README's main job: every provider,
    replayed from the committed cassettes (no key, no network)."""
    out = tmp_path_factory.mktemp("report") / "conformance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ANYLLM_RECORD"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "conformance",
            "-p",
            "no:cacheprovider",
            "-q",
            "--provider=all",
            f"--conformance-report={out}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = out.with_name(out.name + ".html")
    report = json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8"))
    return html, report


@pytest.fixture()
def page(browser: Chromium, all_providers_report: tuple[Path, dict[str, Any]]) -> Iterator[Page]:
    tab = browser.open(file_url(all_providers_report[0]))
    try:
        yield tab
    finally:
        tab.close()


def shown(page: Page) -> list[dict[str, str]]:
    """The details a user can see (not filtered out): their provider, verdict and rules."""
    rows: list[dict[str, str]] = page.js(
        "[].filter.call(document.querySelectorAll('details.detail'),function(d){return d.checkVisibility();})"
        ".map(function(d){return {id:d.id,provider:d.getAttribute('data-provider'),"
        "verdict:d.getAttribute('data-verdict'),rules:d.getAttribute('data-rules')};})"
    )
    return rows


def state_of(result: dict[str, Any]) -> str:
    return "baselined" if result["verdict"] == "failed" and result["baselined"] else str(result["verdict"])


# -- the whole matrix --------------------------------------------------------------------------


def test_every_result_starts_collapsed_and_a_click_opens_one(page: Page, all_providers_report):
    _, report = all_providers_report
    total = len(report["results"])
    assert total > 800  # 21 providers x every case
    assert page.js("document.querySelectorAll('details.detail').length") == total
    assert page.count("details.detail", "e.open") == 0
    assert all(page.visible("details.detail > summary"))  # one line per result
    assert not any(page.visible("details.detail > div"))  # and nothing of their bodies
    assert page.js("document.getElementById('shown').textContent") == f"{total} of {total} shown"

    target = next(r for r in report["results"] if r["violations"])
    anchor = f"r-{target['provider']}-{target['case']}"
    page.click(f"#{anchor} > summary")
    assert page.js(f"document.getElementById({json.dumps(anchor)}).open") is True
    assert all(page.visible(f"#{anchor} ul.v li"))
    assert page.count("details.detail", "e.open") == 1


def test_summary_says_per_provider_what_the_run_did_with_its_traffic(page: Page, all_providers_report):
    _, report = all_providers_report
    header = page.texts("#summary tr:first-child th")
    assert header[:4] == ["provider", "recorded", "replayed", "offline"]
    rows = page.js(
        "[].slice.call(document.querySelectorAll('#summary tr'),1).map(function(tr){"
        "return [].map.call(tr.cells,function(td){return td.textContent;});})"
    )
    llamacpp = next(r for r in rows if r[0] == "llamacpp")
    replayed = sum(1 for r in report["results"] if r["provider"] == "llamacpp" and r["cassette"])
    assert llamacpp[1:3] == ["0", str(replayed)]  # a replay run records nothing
    assert len(rows) == len(report["providers"])


def test_filters_hide_what_does_not_match(page: Page, all_providers_report):
    _, report = all_providers_report
    results = report["results"]
    total = len(results)

    page.choose("provider", "llamacpp")
    rows = shown(page)
    assert {r["provider"] for r in rows} == {"llamacpp"}
    assert len(rows) == sum(1 for r in results if r["provider"] == "llamacpp")
    assert page.js("document.getElementById('shown').textContent") == f"{len(rows)} of {total} shown"

    page.choose("verdict", "baselined")
    rows = shown(page)
    expected = [r for r in results if r["provider"] == "llamacpp" and state_of(r) == "baselined"]
    assert rows and len(rows) == len(expected)
    assert {r["verdict"] for r in rows} == {"baselined"}

    rule = expected[0]["rules"][0]
    page.choose("provider", "")
    page.choose("verdict", "")
    page.choose("rule", rule)
    rows = shown(page)
    assert len(rows) == sum(1 for r in results if rule in r["rules"])
    assert all(rule in r["rules"].split() for r in rows)

    page.choose("rule", "")
    page.choose("provider", "mistral")  # nothing recorded for mistral: no rule of its fails
    page.choose("rule", rule)
    assert shown(page) == []
    assert page.visible("#no-match") == [True]

    page.click("#clear")
    assert len(shown(page)) == total
    assert page.visible("#no-match") == [False]


def test_a_grid_cell_opens_its_result_even_when_filtered_out(page: Page, all_providers_report):
    _, report = all_providers_report
    failing = next(r for r in report["results"] if state_of(r) == "baselined")
    anchor = f"r-{failing['provider']}-{failing['case']}"
    other = next(p for p in report["providers"] if p != failing["provider"])
    page.choose("provider", other)
    assert page.js(f"document.getElementById({json.dumps(anchor)}).checkVisibility()") is False

    page.click(f"#grid a[href='#{anchor}']")
    assert page.js("location.hash") == f"#{anchor}"
    assert page.js(f"document.getElementById({json.dumps(anchor)}).open") is True
    assert all(page.visible(f"#{anchor} ul.r li"))  # its rules, with their spec sections
    assert len(shown(page)) == len(report["results"])  # the filter made way


# The page's text without what it quotes (reasons and violation messages, class "msg"): those
# may quote the wire ("the body `null`") and are shown as the validator wrote them.
OWN_TEXT = (
    "(function(){var c=document.body.cloneNode(true);"
    "[].forEach.call(c.querySelectorAll('.msg,script,style'),function(e){e.remove();});"
    "var d=document.createElement('div');d.style.position='absolute';d.appendChild(c);"
    "document.documentElement.appendChild(d);var t=d.innerText;d.remove();return t;})()"
)


def test_no_none_anywhere_a_user_can_read(page: Page, all_providers_report):
    _, report = all_providers_report
    page.click("#expand")  # open every result
    assert page.count("details.detail", "!e.open") == 0
    text = page.js(OWN_TEXT)
    assert len(text) > 50_000  # the bodies are rendered, not just the summaries
    assert NONE_WORDS.findall(text) == []
    absent = sum(1 for r in report["results"] if r["model"] is None or r["profile"] is None)
    assert absent > 700  # the not-recorded rows, which printed "model None, profile None"
    titles = page.js("[].map.call(document.querySelectorAll('[title]'),function(e){return e.title;})")
    assert NONE_WORDS.findall(" ".join(titles)) == []
    page.click("#collapse")
    assert not any(page.visible("details.detail > div"))


def test_cassette_links_lead_to_the_committed_cassettes(page: Page, all_providers_report):
    _, report = all_providers_report
    hrefs = page.texts("a.cassette", "href")
    with_cassette = [r for r in report["results"] if r["cassette"]]
    assert len(hrefs) == len(with_cassette) > 30
    for href in hrefs:
        url = urllib.parse.urlparse(href)
        assert url.scheme == "file"
        path = Path(urllib.parse.unquote(url.path))
        assert path.is_file() and path.resolve().is_relative_to(REPO / "cassettes"), href


# -- a hand-made report: every kind of rule, absent values, the fix-first list -----------------


def _row(provider: str, case: str, state: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": provider,
        "case": case,
        "official": None,
        "verdict": "failed" if state == "baselined" else state,
        "baselined": state == "baselined",
        "baseline_reason": "reviewed: the server omits it" if state == "baselined" else "",
        "rules": [],
        "reason": "",
        "violations": [],
        "cassette": None,
        "cassette_sha256": None,
        "model": None,
        "profile": None,
        "recorded_at": None,
        "responses": 0,
        "events": 0,
    }
    row.update(extra)
    return row


def _violation(rule: str) -> dict[str, str]:
    r = RULES[rule]
    return {"rule": rule, "severity": r.severity, "path": "$", "message": "bad <x>", "section": r.section}


@pytest.fixture()
def made_report(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    for name in ("acme/basic-response.yaml", "acme/tool-calling.yaml", "zeta/basic-response.yaml"):
        (tmp_path / "cassettes" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cassettes" / name).write_text("interactions: []\n", encoding="utf-8")
    item_rule, sse_rule = "ITEM-STATUS-TERMINAL", "SSE-EVENT-MATCHES-TYPE"
    assert item_rule in RULES and sse_rule in RULES
    results = [
        _row("acme", "basic-response", "passed", cassette="cassettes/acme/basic-response.yaml",
             cassette_sha256="ab" * 32, model="m-1", profile="openresponses", responses=1),
        _row("acme", "tool-calling", "failed", cassette="cassettes/acme/tool-calling.yaml",
             rules=[item_rule, "CASE-TOOL-CALLED"], reason="AssertionError: no function_call item",
             violations=[_violation(item_rule)], model="m-1", profile="openresponses", responses=1),
        _row("zeta", "basic-response", "baselined", cassette="cassettes/zeta/basic-response.yaml",
             rules=[item_rule, sse_rule], violations=[_violation(item_rule), _violation(sse_rule)],
             recorded_at="2026-05-01T00:00:00Z", events=12),
        _row("zeta", "tool-calling", "not_recorded", reason="no cassette and no live access",
             record_problem="no ZETA_API_KEY and no --api-base"),
        _row("omega", "tool-calling", "unsupported", reason="needs tools"),
    ]  # fmt: skip
    report = build_report(results, providers=["acme", "zeta", "omega"], record_mode="rewrite")
    # Ranked by cases broken, then by new failures: the known deviation's rule comes last.
    assert [e["rule"] for e in report["fix_first"]] == [item_rule, "CASE-TOOL-CALLED", sse_rule]
    out = tmp_path / "reports" / "conformance"
    write_reports(report, out, root=tmp_path)
    return out.with_name("conformance.html"), report


def test_rules_link_their_spec_sections_and_cassettes_their_files(browser: Chromium, made_report):
    html, _ = made_report
    tab = browser.open(file_url(html))
    try:
        assert not any(tab.visible("details a.spec"))  # inside collapsed details...
        tab.click("#r-zeta-basic-response > summary")
        links = tab.js(
            "[].map.call(document.querySelectorAll('#r-zeta-basic-response a'),function(a){"
            "return [a.className,a.href,a.checkVisibility()];})"
        )
        assert all(visible for _, _, visible in links)  # ...and there once it is open
        spec = {href for cls, href, _ in links if cls == "spec"}
        assert f"{SPEC_URL}#items-are-state-machines" in spec  # ITEM-STATUS-TERMINAL
        assert f"{SPEC_URL}#http-responses" in spec  # SSE-EVENT-MATCHES-TYPE
        (cassette,) = [href for cls, href, _ in links if cls == "cassette"]
        assert cassette == file_url(html.parents[1] / "cassettes" / "zeta" / "basic-response.yaml")
        text = tab.js("document.getElementById('r-zeta-basic-response').innerText")
        assert "reviewed: the server omits it" in text and "bad <x>" in text
        assert "model" not in text and "profile" not in text  # absent: left out, not "None"

        tab.click("#r-acme-tool-calling > summary")
        text = tab.js("document.getElementById('r-acme-tool-calling').innerText")
        assert "model m-1" in text and "profile openresponses" in text
        problems = tab.texts("p.problem", "innerText")
        assert problems == ["zeta cannot record (record mode rewrite): no ZETA_API_KEY and no --api-base"]
        assert "CASE-TOOL-CALLED (a check of the case itself" in text  # no spec section to link
        tab.click("#expand")
        assert NONE_WORDS.findall(tab.js("document.body.innerText")) == []
    finally:
        tab.close()


def test_fix_first_list_sits_above_the_details_and_filters_by_its_rule(browser: Chromium, made_report):
    html, report = made_report
    tab = browser.open(file_url(html))
    try:
        assert tab.visible("#fix-first") == [True]
        order = tab.texts("#fix-first button")
        assert order == [entry["rule"] for entry in report["fix_first"]]
        above = tab.js(
            "document.getElementById('fix-first').getBoundingClientRect().bottom"
            "<=document.getElementById('filters').getBoundingClientRect().top"
        )
        assert above is True
        text = tab.js("document.getElementById('fix-first').innerText")
        assert "ITEM-STATUS-TERMINAL breaks 2 cases (1 failed, 1 known deviation) in acme, zeta" in text

        tab.click("#fix-first button[data-filter-rule='SSE-EVENT-MATCHES-TYPE']")
        assert [r["id"] for r in shown(tab)] == ["r-zeta-basic-response"]
        assert tab.texts("#filters select[name=rule]", "value") == ["SSE-EVENT-MATCHES-TYPE"]
    finally:
        tab.close()


# -- spec section links, without a browser -------------------------------------------------------


def test_every_rule_section_links_to_a_heading_of_the_spec():
    anchors = {heading_anchor(h) for h in SPEC_HEADINGS}
    for rule in RULES.values():
        for label, url in section_links(rule.section):
            if label == S_PROFILE:
                assert url is None  # anyllm's own profile: nothing to link
            elif label.startswith("openapi.json"):
                assert url == REFERENCE_URL
            else:
                assert url and url.startswith(f"{SPEC_URL}#"), (rule.id, label)
                assert url.split("#", 1)[1] in anchors


@pytest.mark.corpus
def test_spec_headings_are_the_headings_of_the_specification_text():
    if not SPEC_TEXT.is_file():
        pytest.skip(f"{SPEC_TEXT} is absent (the spec's prose lives in ../shared; see README)")
    headings, fenced = [], False
    for line in SPEC_TEXT.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            headings.append(line.lstrip("#").strip().replace("`", ""))
    assert tuple(headings) == SPEC_HEADINGS
    slugs = [heading_anchor(h) for h in headings]
    assert len(set(slugs)) == len(slugs)  # no repeated heading: no "-1" suffixes to compute
    assert heading_anchor("Items → Items") == "items--items"  # github-slugger drops the arrow
    assert heading_anchor("previous_response_id") == "previous_response_id"
