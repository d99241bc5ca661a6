"""The HTML compliance report: one self-contained page (inline style and script, no external
asset, nothing fetched), readable for a run of every provider x every case.

Layout, top to bottom: per provider, what the run did with its traffic (recorded, replayed,
offline) and its verdict counts; the case x provider grid; the "fix these first" list when
the report has one; then one collapsed ``<details>`` per result. A run of all providers has hundreds of
results, so the details start closed and a filter bar (provider, verdict, rule id) narrows
them; a grid cell or a fix-first rule opens or filters the matching details. Each detail
links its cassette and, for every rule, the specification section that rule applies.

Absent values (no model, no profile, no cassette) are left out, never printed as ``None``;
what the harness and the validator said (reasons, violation messages: class ``msg``) is quoted
as written, since it may quote the wire (a server's ``null``). tests/test_report_browser.py
drives the page in headless Chromium.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from anyllm.testing.report_cells import LABELS, STATES, SYMBOLS, active_providers, cell_state, results_grid
from anyllm.testing.report_summary import TRAFFIC, traffic
from anyllm.testing.rules import RULES
from anyllm.testing.spec_links import section_links

__all__ = ["anchor_id", "render_html"]

_e = html.escape
_MOVED = ("recorded", "replayed", "offline")  # traffic columns of the summary table

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:28px}table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:center;font-size:13px}
th.case,td.case{text-align:left;font-family:ui-monospace,monospace}
td.cell a{display:block;color:#fff;text-decoration:none;font-weight:600;min-width:64px}
.passed{background:#2e7d32}.baselined{background:#b58900}.failed{background:#c62828}
.unsupported{background:#1565c0}.not_recorded{background:#9e9e9e}
td.traffic{color:#555}p.problem{color:#c62828}
.legend span,.badge{display:inline-block;color:#fff;padding:2px 8px;margin-right:6px;border-radius:3px}
code{background:#f4f4f4;padding:1px 3px}.meta{color:#666;font-size:13px}
#filters{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
#filters label{margin-right:12px;font-size:13px}#filters output{margin-left:12px;font-size:13px;color:#444}
details.detail{border-top:1px solid #eee;padding:4px 0;scroll-margin-top:56px}
details.detail>div p{font-size:14px}
details.detail>summary{cursor:pointer;font-size:14px;padding:2px 0}
details.detail>summary .rules{font-family:ui-monospace,monospace;font-size:12px;color:#555;margin-left:8px}
details.detail>div{margin:4px 0 8px 22px}ul.v li,ul.r li{font-size:13px}
#fix-first li{margin:3px 0;font-size:14px}#fix-first button{font-family:ui-monospace,monospace}
"""

# Filters the details (hidden attribute), opens the one a link targets, and wires the
# fix-first buttons; every handler acts at once (no timers), so what a click changes is on
# the page when the click returns. Plain ES5 in one closure: it runs from file://, no build.
_SCRIPT = """
(function(){
var form=document.getElementById('filters');
var items=Array.prototype.slice.call(document.querySelectorAll('details.detail'));
function apply(){
  var p=form.elements.provider.value,v=form.elements.verdict.value,r=form.elements.rule.value,n=0;
  items.forEach(function(d){
    var ok=(!p||d.getAttribute('data-provider')===p)&&(!v||d.getAttribute('data-verdict')===v)
      &&(!r||(' '+d.getAttribute('data-rules')+' ').indexOf(' '+r+' ')>=0);
    d.hidden=!ok;if(ok){n++;}
  });
  document.getElementById('shown').textContent=n+' of '+items.length+' shown';
  document.getElementById('no-match').hidden=n>0;
}
function clear(){form.reset();apply();}
function reveal(hash){
  var id=decodeURIComponent(hash.slice(1));
  var t=id&&document.getElementById(id);
  if(!t||!t.classList.contains('detail')){return;}
  if(t.hidden){clear();}
  t.open=true;t.scrollIntoView();
}
form.addEventListener('change',apply);
document.getElementById('clear').addEventListener('click',clear);
Array.prototype.forEach.call(document.querySelectorAll('#grid a'),function(a){
  a.addEventListener('click',function(){reveal(a.getAttribute('href'));});
});
document.getElementById('expand').addEventListener('click',function(){
  items.forEach(function(d){if(!d.hidden){d.open=true;}});});
document.getElementById('collapse').addEventListener('click',function(){
  items.forEach(function(d){d.open=false;});});
Array.prototype.forEach.call(document.querySelectorAll('[data-filter-rule]'),function(b){
  b.addEventListener('click',function(){
    form.reset();form.elements.rule.value=b.getAttribute('data-filter-rule');apply();
    document.getElementById('details').scrollIntoView();});
});
window.addEventListener('hashchange',function(){reveal(location.hash);});
apply();reveal(location.hash);
})();
"""


def anchor_id(provider: str, case: str) -> str:
    """The id of a result's details element (the grid's cells link to it)."""
    return f"r-{provider}-{case}"


def _cell_text(row: dict[str, Any] | None, state: str) -> str:
    if row and state in ("failed", "baselined"):
        rules = row.get("rules") or []
        more = f" +{len(rules) - 1}" if len(rules) > 1 else ""
        return f"{SYMBOLS[state]} {rules[0]}{more}" if rules else SYMBOLS[state]
    return f"{SYMBOLS[state]} {LABELS[state]}"


def _section_html(section: str) -> str:
    parts = []
    for label, url in section_links(section):
        if url:
            parts.append(f"<a class='spec' href='{_e(url)}'>{_e(label)}</a>")
        else:
            parts.append(_e(label))
    return "; ".join(parts)


def _rule_about(rule_id: str, summary: str = "", section: str = "") -> str:
    """What a rule checks and its spec section: the catalogue's, else what the caller knows (a
    case's own CASE-* check: its first message), else which kind of check it is."""
    rule = RULES.get(rule_id)
    if rule is not None:
        summary, section = rule.summary, rule.section
        text = _e(summary)
    elif summary:
        text = f"<span class='msg'>{_e(summary)}</span>"
    else:
        kind = "a check of the case itself" if rule_id.startswith("CASE-") else "a check of the harness"
        return f"<span class='meta'>({kind}: see the reason)</span>"
    return text + (f" <span class='meta'>[{_section_html(section)}]</span>" if section else "")


def _rule_html(rule_id: str) -> str:
    return f"<code>{_e(rule_id)}</code> {_rule_about(rule_id)}"


def _cassette_href(cassette: str, base: str) -> str:
    if os.path.isabs(cassette):
        return Path(cassette).as_uri()
    return base + cassette


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _header(report: dict[str, Any]) -> list[str]:
    meta = [
        f"Spec {_e(str(report.get('spec_version', '')))}",
        f"anyllm {_e(str(report.get('library_version', '')))}",
        f"generated {_e(str(report.get('generated_at', '')))}",
        f"record mode {_e(str(report.get('record_mode', '')))}",
    ]
    return [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>anyllm conformance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>anyllm conformance report</h1>",
        "<p class='meta'>" + " &middot; ".join(meta) + "</p>",
        "<p class='legend'>"
        + "".join(f"<span class='{s}'>{SYMBOLS[s]} {LABELS[s]}</span>" for s in STATES)
        + "</p>",
    ]


def _tables(report: dict[str, Any]) -> list[str]:
    grid = results_grid(report)
    providers = report["providers"]
    active = active_providers(report)
    shown = active or providers
    moved = report.get("traffic") or traffic(report["results"], providers)
    out = [
        "<table id='summary'><tr><th class='case'>provider</th>"
        + "".join(f"<th>{TRAFFIC[k]}</th>" for k in _MOVED)
        + "".join(f"<th>{LABELS[s]}</th>" for s in STATES)
        + "</tr>"
    ]
    for provider in providers:
        counts = report["summary"].get(provider, {})
        out.append(
            f"<tr><td class='case'>{_e(provider)}</td>"
            + "".join(f"<td class='traffic'>{moved.get(provider, {}).get(k, 0)}</td>" for k in _MOVED)
            + "".join(f"<td>{counts.get(s, 0)}</td>" for s in STATES)
            + "</tr>"
        )
    out.append("</table>")
    mode = _e(str(report.get("record_mode", "")))
    for provider, why in (report.get("record_problems") or {}).items():
        out.append(
            f"<p class='problem'><b>{_e(provider)}</b> cannot record (record mode {mode}): {_e(why)}</p>"
        )
    out.append(
        "<table id='grid'><tr><th class='case'>case</th><th>official test</th>"
        + "".join(f"<th>{_e(p)}</th>" for p in shown)
        + "</tr>"
    )
    for case in report["cases"]:
        official = _e(str(case["official"])) if _present(case.get("official")) else ""
        out.append(f"<tr><td class='case'>{_e(case['id'])}</td><td>{official}</td>")
        for provider in shown:
            row = grid.get((provider, case["id"]))
            state = cell_state(row) if row else "not_recorded"
            href = f"#{anchor_id(provider, case['id'])}" if row else ""
            text = _e(_cell_text(row, state))
            link = f"<a href='{_e(href)}'>{text}</a>" if href else text
            out.append(f"<td class='cell {state}' title='{_e(LABELS[state])}'>{link}</td>")
        out.append("</tr>")
    out.append("</table>")
    if active and active != providers:
        others = [p for p in providers if p not in active]
        out.append(f"<p class='meta'>Not recorded (no cassette, no live access): {_e(', '.join(others))}</p>")
    return out


def _fix_first_html(report: dict[str, Any]) -> list[str]:
    """The report's fix-first list (anyllm.testing.report_summary.fix_first), when it has one."""
    entries = [e for e in report.get("fix_first") or [] if isinstance(e, dict) and e.get("rule")]
    if not entries:
        return []
    out = [
        "<section id='fix-first'><h2>Fix these first</h2>",
        "<p class='meta'>Distinct rules, ranked by the number of cases they break; "
        "a rule's button lists those cases below.</p><ol>",
    ]
    for entry in entries:
        rule_id = str(entry["rule"])
        count, failed, known = (int(entry.get(k) or 0) for k in ("cases", "failed", "baselined"))
        split = ", ".join(
            part
            for part in (
                f"{failed} failed" if failed else "",
                f"{known} known deviation{'' if known == 1 else 's'}" if known else "",
            )
            if part
        )
        providers = ", ".join(str(p) for p in entry.get("providers") or [])
        about = _rule_about(rule_id, str(entry.get("summary") or ""), str(entry.get("section") or ""))
        out.append(
            f"<li><button type='button' data-filter-rule='{_e(rule_id)}'>{_e(rule_id)}</button> "
            f"breaks {count} case{'' if count == 1 else 's'}"
            + (f" ({_e(split)})" if split else "")
            + (f" in {_e(providers)}" if providers else "")
            + f" &mdash; {about}</li>"
        )
    out.append("</ol></section>")
    return out


def _filters(report: dict[str, Any]) -> list[str]:
    results = report["results"]
    states = [s for s in STATES if any(cell_state(r) == s for r in results)]
    rules = sorted({str(rule) for r in results for rule in r.get("rules") or []})

    def select(name: str, label: str, options: list[tuple[str, str]]) -> str:
        opts = "".join(f"<option value='{_e(v)}'>{_e(text)}</option>" for v, text in options)
        everything = "<option value='' selected>all</option>"
        return f"<label>{label} <select name='{name}'>{everything}{opts}</select></label>"

    return [
        "<form id='filters' onsubmit='return false'>",
        select("provider", "provider", [(p, p) for p in report["providers"]]),
        select("verdict", "verdict", [(s, LABELS[s]) for s in states]),
        select("rule", "rule", [(r, r) for r in rules]),
        "<button type='button' id='clear'>clear</button> "
        "<button type='button' id='expand'>expand shown</button> "
        "<button type='button' id='collapse'>collapse all</button>",
        f"<output id='shown'>{len(results)} of {len(results)} shown</output>",
        "</form>",
        "<p id='no-match' hidden>No result matches these filters.</p>",
    ]


def _detail(row: dict[str, Any], cassette_base: str) -> str:
    state = cell_state(row)
    rules = [str(r) for r in row.get("rules") or []]
    summary = (
        f"<span class='badge {state}'>{SYMBOLS[state]} {_e(LABELS[state])}</span>"
        f"<b>{_e(row['provider'])}</b> / {_e(row['case'])}"
        + (f"<span class='rules'>{_e(', '.join(rules))}</span>" if rules else "")
    )
    meta = []
    if _present(row.get("model")):
        meta.append(f"model <code>{_e(str(row['model']))}</code>")
    if _present(row.get("profile")):
        meta.append(f"profile {_e(str(row['profile']))}")
    if _present(row.get("cassette")):
        cassette = str(row["cassette"])
        href = _cassette_href(cassette, cassette_base)
        digest = row.get("cassette_sha256")
        meta.append(
            f"cassette <a class='cassette' href='{_e(href)}'>{_e(cassette)}</a>"
            + (f" (sha256 {_e(str(digest)[:12])})" if _present(digest) else "")
        )
    else:
        meta.append("no cassette")
    if _present(row.get("recorded_at")):
        meta.append(f"recorded {_e(str(row['recorded_at']))}")
    if state not in ("not_recorded", "unsupported"):
        meta.append(f"{row.get('responses') or 0} responses, {row.get('events') or 0} events validated")
    body = ["<p class='meta'>" + " &middot; ".join(meta) + "</p>"]
    if _present(row.get("reason")):
        body.append(f"<p class='msg'>{_e(str(row['reason']))}</p>")
    if _present(row.get("baseline_reason")):
        body.append(f"<p>Baseline: <span class='msg'>{_e(str(row['baseline_reason']))}</span></p>")
    if rules:
        body.append("<ul class='r'>" + "".join(f"<li>{_rule_html(r)}</li>" for r in rules) + "</ul>")
    violations = row.get("violations") or []
    if violations:
        items = []
        for v in violations:
            section = str(v.get("section") or "")
            message = _e(str(v.get("message", "")))
            times = f" &times;{int(v['count'])}" if int(v.get("count") or 1) > 1 else ""
            after = f" (consequence of {_e(str(v['consequence_of']))})" if v.get("consequence_of") else ""
            items.append(
                f"<li><code>{_e(str(v.get('rule', '')))}</code> ({_e(str(v.get('severity', '')))}{after}) "
                f"at <code>{_e(str(v.get('path', '')))}</code>{times}: <span class='msg'>{message}</span>"
                + (f" <span class='meta'>[{_section_html(section)}]</span>" if section else "")
                + "</li>"
            )
        total = row.get("violation_count")
        more = (  # grouped, never cut: every distinct finding is listed with its count
            f"<p class='meta'>{total} violations, {len(violations)} distinct.</p>"
            if isinstance(total, int) and total > len(violations)
            else ""
        )
        body.append("<ul class='v'>" + "".join(items) + "</ul>" + more)
    return (
        f"<details class='detail' id='{_e(anchor_id(row['provider'], row['case']))}' "
        f"data-provider='{_e(row['provider'])}' data-verdict='{state}' data-rules='{_e(' '.join(rules))}'>"
        f"<summary>{summary}</summary><div>{''.join(body)}</div></details>"
    )


def render_html(report: dict[str, Any], *, cassette_base: str = "") -> str:
    """The page. ``cassette_base`` prefixes relative cassette paths (relative to the page)."""
    out = _header(report)
    out += _tables(report)
    out += _fix_first_html(report)
    out.append("<h2 id='details'>Details</h2>")
    out += _filters(report)
    out.append("<div id='results'>")
    out += [_detail(row, cassette_base) for row in report["results"]]
    out.append("</div>")
    out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body></html>")
    return "\n".join(out)
