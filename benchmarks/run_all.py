"""Run every benchmark, one after another, and collect the figures in one place.

Writes ``benchmarks/results.json`` (every figure each benchmark reported, plus the
headline table) and ``benchmarks/RESULTS.md`` (the headline table in Markdown). Each
benchmark runs in its own interpreter, so one's imports and caches never flatter another.
A benchmark that cannot run (its corpus or optional package absent) is listed as skipped.

    python benchmarks/run_all.py [--quick] [--only call,load] [--merge]

``--quick`` shrinks every benchmark's work for a smoke run; figures from it are noisier.
``--merge`` keeps the figures of the benchmarks not run this time (with ``--only``).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# name -> (script, arguments, arguments for --quick); each also gets ``--json <figures file>``.
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "call": ("bench_call.py", [], ["--calls", "300", "--rounds", "3"]),
    "translate": ("bench_translate.py", ["10000", "5"], ["3000", "3"]),
    "validate": ("bench_validate.py", [], ["--repeat", "2"]),
    "matrix": ("bench_matrix.py", ["--rounds", "3"], ["--rounds", "1"]),
    "load": ("bench_load.py", [], ["--calls", "400"]),
    "secrets": ("bench_secrets.py", [], []),
    "faults": ("bench_faults.py", [], ["--streams", "100", "--timeout", "1", "--modes", "sync"]),
    "recorder": ("bench_recorder.py", [], []),
}


def run(name: str, quick: bool, scratch: Path) -> dict[str, Any]:
    script, full, short = BENCHMARKS[name]
    out = scratch / f"{name}.json"
    args = [*(short if quick else full), "--json", str(out)]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / script), *args], capture_output=True, text=True, timeout=3600
    )
    elapsed = time.perf_counter() - started
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0 or not out.is_file():
        reason = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no figures"])[-1]
        print(f"[{name}] skipped: {reason}")
        return {"skipped": reason, "seconds": elapsed}
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["seconds"] = elapsed
    return figures


Row = tuple[str, str, str]  # (what, figure, compared with)


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def headline(results: dict[str, dict[str, Any]]) -> list[Row]:
    """The few figures the issue asks for, each beside what it is compared with."""
    rows: list[Row] = []
    call = _get(results, "call", "call_us") or {}
    raw, sdk = call.get("raw httpx2"), call.get("openai SDK")
    for name, value in call.items():
        ratios = []
        if raw:
            ratios.append(f"{value / raw:.2f}x raw httpx2")
        if sdk:
            ratios.append(f"{value / sdk:.2f}x openai SDK")
        rows.append((f"call overhead: {name}", f"{value:,.0f} µs/call", ", ".join(ratios)))
    streams = _get(results, "call", "stream_events_per_s") or {}
    sdk_rate = streams.get("openai SDK")
    for name, value in streams.items():
        versus = f"{value / sdk_rate:.2f}x openai SDK" if sdk_rate else ""
        rows.append((f"stream responses(stream=True): {name}", f"{value:,.0f} events/s", versus))
    paths = _get(results, "translate", "paths") or {}
    floor_name = "decode only (SSEDecoder + json.loads)"
    floor = _get(paths, floor_name, "best_s")
    for name, row in paths.items():
        versus = (
            f"{row['best_s'] / floor:.2f}x the time of decoding alone" if floor and name != floor_name else ""
        )
        rows.append((f"translation (chat bridge): {name}", f"{row['items_per_s']:,.0f} events/s", versus))
    for profile in ("openresponses", "openai"):
        rate = _get(results, "validate", profile, "parsed_events_per_s")
        if rate:
            ref = _get(results, "validate", "reference_jsonschema_events_per_s")
            versus = f"reference jsonschema (schema only): {ref:,.0f} events/s" if ref else ""
            rows.append((f"validation ({profile} profile, rules + schema)", f"{rate:,.0f} events/s", versus))
    imports = _get(results, "call", "import_s") or {}
    if "anyllm" in imports:
        versus = f"any_llm: {imports['any_llm']:.3f} s" if "any_llm" in imports else ""
        rows.append(("import time: import anyllm", f"{imports['anyllm']:.3f} s", versus))
    matrix = results.get("matrix") or {}
    if "wall_s_median" in matrix:
        rows.append(
            (
                "full matrix replay (pytest in-process)",
                f"{matrix['wall_s_median']:.2f} s",
                f"{matrix['replayed']} cases replayed of {matrix['cells']} cells",
            )
        )
    load = results.get("load") or {}
    for name, row in load.items():
        if not isinstance(row, dict) or "calls_per_s" not in row:
            continue
        rows.append(
            (
                f"load, {row['calls']} concurrent aresponses() ({row['streaming']} streaming): {name}",
                f"{row['calls_per_s']:,.0f} calls/s, {row['errors']} errors",
                f"peak RSS {row['peak_rss_mb']:.0f} MB (before: {row['rss_before_mb']:.0f} MB)",
            )
        )
    rows += _fault_rows(results.get("faults") or {})
    secrets = results.get("secrets") or {}
    if "keys_found" in secrets:
        rows.append(
            (
                "keys found in the artifacts of a recording run and of certify (goal 0)",
                str(secrets["keys_found"]),
                f"{secrets['keys']} canary keys, {len(secrets['auth_styles'])} auth styles, "
                f"{len(secrets['echo_cases'])} echo paths x encodings (+{len(secrets['query_key_cases'])} "
                f"over ?key=), {secrets['artifacts_scanned']} artifacts scanned",
            )
        )
    rows += _recorder_rows(results.get("recorder") or {})
    for name, data in results.items():
        if "skipped" in data:
            rows.append((f"{name} benchmark", "skipped", data["skipped"]))
    return rows


def _fault_rows(faults: dict[str, Any]) -> list[Row]:
    """Leaked connections after early-closed streams; time to a typed error per fault."""
    rows: list[Row] = []
    closes = faults.get("early_close") or {}
    if closes:
        cases = closes["cases"]
        rows.append(
            (
                f"connections leaked after {closes['streams_per_case']:,} early-closed streams "
                f"per protocol and mode (goal 0)",
                f"{closes['leaked_total']} leaked, {closes['server_open_total']} open at the server",
                f"{len(cases)} protocol/mode cases; next call answered in "
                f"{sum(1 for c in cases.values() if c['next_call'] == 'response.completed')}",
            )
        )
    timing = faults.get("time_to_error") or {}
    for name, row in (timing.get("faults") or {}).items():
        verdict = "in goal" if row["in_goal"] else "OUT OF GOAL"
        rows.append(
            (
                f"time to a typed error: {name}",
                f"{row['max_s']:.2f} s max ({', '.join(row['errors'])})",
                f"{verdict}: timeout {timing['timeout_s']:g} s + 1 s, "
                f"{len(row['cases'])} protocol/mode cases",
            )
        )
    return rows


def _recorder_rows(recorder: dict[str, Any]) -> list[Row]:
    """The recorder against gzip bombs, stacked codings, YAML aliases, timeouts, killed writers."""
    if "gzip_bombs" not in recorder:
        return []
    bombs = recorder["gzip_bombs"]
    stacked = recorder["stacked_codings"]
    laughs = recorder["billion_laughs"]
    timeouts = recorder["recording_timeout"]
    killed = recorder["killed_writers"]
    return [
        (
            "gzip bombs recorded: bytes written (goal 0)",
            f"{sum(b['bytes_written'] for b in bombs.values())} B",
            f"{len(bombs)} bombs inflating to 100 MiB ({'; '.join(bombs)}), refused in at most "
            f"{max(b['seconds'] for b in bombs.values()):.2f} s, peak "
            f"{max(b['peak_alloc_mb'] for b in bombs.values()):.0f} MB allocated",
        ),
        (
            "key forms in cassettes of stacked-coding echoes (goal 0)",
            str(sum(s["key_forms_in_cassette"] for s in stacked.values())),
            "; ".join(stacked),
        ),
        (
            "billion-laughs cassette refused",
            f"{laughs['seconds'] * 1000:.1f} ms ({laughs['error']})",
            f"{laughs['file_bytes']} B expanding to 10^9 strings",
        ),
        (
            "recording timeout: time to a typed error (goal bound + 1 s)",
            f"{max(t['seconds'] for t in timeouts.values()):.2f} s max",
            f"bound 1 s, library timeout 600 s, {', '.join(timeouts)}; names the bound: "
            f"{all(t['names_the_bound'] for t in timeouts.values())}; cassette written: "
            f"{any(t['cassette_written'] for t in timeouts.values())}",
        ),
        (
            "temporary files of killed writers left after the next write (goal 0)",
            str(killed["temp_files_after"]),
            f"{killed['temp_files_before']} left by {killed['killed_writers']} writers killed before rename",
        ),
    ]


def _merged(meta: dict[str, Any]) -> str:
    merged = meta.get("merged")
    if not merged:
        return ""
    return f" for {', '.join(merged['rerun'])}; the other figures are from {merged['others_from']}"


def markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run_all.py{' --quick' if meta['quick'] else ''}` on "
        f"{meta['date']} ({meta['python']}, {meta['machine']}, {meta['cpus']} CPUs)"
        f"{_merged(meta)}. "
        "Loopback servers only; figures are from one run on one machine, so compare rows "
        "with each other, not with another machine. Raw figures: `results.json`.",
        "",
        "| benchmark | figure | compared with |",
        "|---|---|---|",
    ]
    lines += [f"| {what} | {figure} | {versus} |" for what, figure, versus in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less work per benchmark (smoke run)")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for results.json / RESULTS.md")
    parser.add_argument(
        "--merge", action="store_true", help="keep the figures of benchmarks not run now from results.json"
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    import os

    meta: dict[str, Any] = {
        "quick": args.quick,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="anyllm-bench-") as scratch:
        for name in names:
            print(f"== {name}", flush=True)
            results[name] = run(name, args.quick, Path(scratch))
    if args.merge and (args.out / "results.json").is_file():
        before = json.loads((args.out / "results.json").read_text())
        meta["merged"] = {"rerun": names, "others_from": before.get("meta", {}).get("date")}
        results = {**before.get("benchmarks", {}), **results}
    rows = headline(results)
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "headline": [list(r) for r in rows], "benchmarks": results}
    (args.out / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    (args.out / "RESULTS.md").write_text(markdown(rows, meta), encoding="utf-8")
    width = max(len(r[0]) for r in rows) if rows else 0
    show: Callable[[Row], str] = lambda r: f"{r[0]:<{width}}  {r[1]:<28}  {r[2]}"  # noqa: E731
    print("\n".join(show(r) for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
