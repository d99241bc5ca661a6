"""The compliance report: model, terminal matrix, JSON/Markdown/HTML files, and the HTML
page rendered by headless Chromium (required under .ci/run; tests/test_report_browser.py
drives the page itself)."""

from __future__ import annotations

import importlib.util
import json
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

from anyllm.testing.report import (
    SYMBOLS,
    build_report,
    cell_state,
    render_html,
    render_markdown,
    terminal_matrix,
    write_reports,
)
from tests.helpers.chromium import require_chromium

REPO = Path(__file__).resolve().parents[1]


def verdict(provider: str, case: str, state: str, **extra: object) -> dict:
    base = {
        "provider": provider,
        "case": case,
        "official": "basic-response" if case == "basic-response" else None,
        "verdict": "failed" if state == "baselined" else state,
        "baselined": state == "baselined",
        "rules": ["CASE-X", "SCHEMA-EVENT"] if state in ("failed", "baselined") else [],
        "violations": [
            {"rule": "SCHEMA-EVENT", "severity": "error", "path": "$.x", "message": "bad <x>", "section": "s"}
        ]
        if state == "failed"
        else [],
        "cassette": f"cassettes/{provider}/{case}.yaml"
        if state not in ("not_recorded", "unsupported")
        else None,
        "cassette_sha256": "ab" * 32,
        "model": "m",
        "profile": "openresponses",
        "reason": "",
        "baseline_reason": "reviewed" if state == "baselined" else "",
    }
    base.update(extra)
    return base


RESULTS = [
    verdict("llamacpp", "basic-response", "passed"),
    verdict("llamacpp", "tool-calling", "baselined"),
    verdict("llamacpp", "streaming-response", "failed"),
    verdict("llamacpp", "image-input", "unsupported"),
    verdict("openai", "basic-response", "not_recorded"),
    verdict("openai", "tool-calling", "not_recorded"),
    verdict("openai", "streaming-response", "not_recorded"),
    verdict("openai", "image-input", "not_recorded"),
]


def test_report_model_counts_every_state():
    report = build_report(RESULTS, providers=["llamacpp", "openai"])
    assert report["summary"]["llamacpp"] == {
        "passed": 1,
        "baselined": 1,
        "failed": 1,
        "unsupported": 1,
        "not_recorded": 0,
    }
    assert report["summary"]["openai"]["not_recorded"] == 4
    assert report["totals"]["not_recorded"] == 4 and report["totals"]["passed"] == 1
    assert [c["id"] for c in report["cases"]][:2] == ["basic-response", "image-input"]
    assert {cell_state(r) for r in report["results"]} == {
        "passed",
        "baselined",
        "failed",
        "unsupported",
        "not_recorded",
    }


def test_terminal_matrix_shows_a_grid_of_active_providers_and_a_line_per_provider():
    segments = terminal_matrix(build_report(RESULTS, providers=["llamacpp", "openai"]))
    text = "".join(s for s, _ in segments)
    header = text.splitlines()[0]
    assert "llamacpp" in header and "openai" not in header  # openai recorded nothing
    assert "openai" in text and "not recorded 4" in text
    coloured = {s.strip(): m for s, m in segments if s.strip() in SYMBOLS.values()}
    assert coloured[SYMBOLS["failed"]] == {"red": True, "bold": True}
    assert coloured[SYMBOLS["passed"]] == {"green": True}
    assert "llamacpp: CASE-X, SCHEMA-EVENT" in text


class _Grid(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.external: list[str] = []
        self._cls = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "td" and "cell" in (a.get("class") or ""):
            self._cls = str(a["class"]).split()[1]
        if tag == "a" and self._cls:
            self.cells.append((self._cls, str(a.get("href"))))
            self._cls = ""
        # Resources the page would load: only inline style and script are allowed. Links a
        # reader may follow (the spec sections) are not loads.
        if a.get("src") or tag in ("link", "img", "iframe", "object", "embed"):
            self.external.append(f"{tag} {a}")


def test_html_is_self_contained_and_every_cell_links_to_its_details():
    html = render_html(build_report(RESULTS, providers=["llamacpp", "openai"]), cassette_base="../")
    parser = _Grid()
    parser.feed(html)
    assert parser.external == []
    assert len(parser.cells) == 4  # 4 cases x 1 active provider
    assert {c for c, _ in parser.cells} == {"passed", "baselined", "failed", "unsupported"}
    for _, href in parser.cells:
        assert href.startswith("#") and href[1:] in parser.ids
    assert "bad &lt;x&gt;" in html and "bad <x>" not in html
    assert "href='../cassettes/llamacpp/basic-response.yaml'" in html


def test_markdown_has_summary_grid_and_failures():
    md = render_markdown(build_report(RESULTS, providers=["llamacpp", "openai"]))
    assert "| llamacpp | 1 | 1 | 1 | 1 | 0 |" in md
    assert "| `streaming-response` |  | ❌ CASE-X, SCHEMA-EVENT |" in md
    assert "**llamacpp / tool-calling** (known deviation)" in md


def test_write_reports_writes_three_files_atomically(tmp_path):
    paths = write_reports(build_report(RESULTS), tmp_path / "out" / "report.html", root=tmp_path)
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.md"]
    assert json.loads(paths[0].read_text())["schema"] == "anyllm-conformance-report/1"
    assert "href='../cassettes/llamacpp/basic-response.yaml'" in paths[2].read_text()


# -- the page in a real browser ------------------------------------------------------------------


def _load_screenshot_module():
    spec = importlib.util.spec_from_file_location(
        "screenshot_report", REPO / "scripts" / "screenshot_report.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, channels, rows


def test_html_report_renders_the_grid_in_headless_chromium(tmp_path):
    module = _load_screenshot_module()
    require_chromium()
    html = tmp_path / "report.html"
    html.write_text(render_html(build_report(RESULTS, providers=["llamacpp", "openai"])), encoding="utf-8")
    out = tmp_path / "shot.png"
    module.screenshot(html, out, width=900, height=700)
    width, channels, rows = _png_pixels(out.read_bytes())
    assert width == 900

    def count(rgb: tuple[int, int, int]) -> int:
        target = bytes(rgb)
        return sum(1 for row in rows for x in range(0, len(row), channels * 4) if row[x : x + 3] == target)

    # The grid's coloured cells are painted: pass green, failure red, baseline amber, unsupported blue.
    for colour in ((0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28), (0xB5, 0x89, 0x00), (0x15, 0x65, 0xC0)):
        assert count(colour) > 20, f"no {colour} cell in the screenshot"
