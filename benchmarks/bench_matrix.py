"""Replay time of the whole committed conformance matrix, and per case.

Runs ``pytest conformance --provider=all`` in-process (replay only: no network, no key),
once to warm imports and caches, then N timed rounds; prints wall time per round and the
slowest cases (median over rounds) from the report's per-case durations.

    python benchmarks/bench_matrix.py [--rounds 3] [--top 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_once(report: Path) -> float:
    plugin = (
        []
        if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
        else ["-p", "anyllm.testing.plugin"]
    )
    args = [
        str(REPO / "conformance"),
        *plugin,
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-rN",
        "--provider=all",
        f"--conformance-report={report}",
        f"--rootdir={REPO}",
    ]
    started = time.perf_counter()
    code = pytest.main(args)
    elapsed = time.perf_counter() - started
    if code not in (0, 5):
        raise SystemExit(f"the matrix did not pass on replay (pytest exit code {code})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="anyllm-bench-"))
    run_once(tmp / "warm")
    walls: list[float] = []
    per_case: dict[tuple[str, str], list[float]] = {}
    for index in range(args.rounds):
        walls.append(run_once(tmp / f"r{index}"))
        data = json.loads((tmp / f"r{index}.json").read_text())
        for row in data["results"]:
            if row["verdict"] in ("passed", "failed"):
                per_case.setdefault((row["provider"], row["case"]), []).append(row["duration"])
    data = json.loads((tmp / f"r{args.rounds - 1}.json").read_text())
    totals = data["totals"]
    ran = sum(1 for times in per_case.values() if times)
    print(
        f"matrix: {len(data['providers'])} providers x {len(data['cases'])} cases = "
        f"{len(data['results'])} cells;"
        f" {ran} replayed, {totals['not_recorded']} not recorded, {totals['unsupported']} unsupported"
    )
    print(
        f"wall time per round (pytest in-process, replay): median {statistics.median(walls):.3f} s, "
        f"min {min(walls):.3f} s, rounds {', '.join(f'{w:.3f}' for w in walls)}"
    )
    medians = sorted(((statistics.median(t), k) for k, t in per_case.items()), reverse=True)
    total_case = sum(m for m, _ in medians)
    print(
        f"sum of per-case call time (median): {total_case:.3f} s; mean per replayed case "
        f"{(total_case / max(len(medians), 1)) * 1000:.1f} ms"
    )
    if args.json:
        figures = {
            "cells": len(data["results"]),
            "replayed": ran,
            "wall_s_median": statistics.median(walls),
            "wall_s_min": min(walls),
            "case_time_sum_s": total_case,
        }
        args.json.write_text(json.dumps(figures, indent=2))
    print(f"slowest {min(args.top, len(medians))} cases (median call time):")
    for median, (provider, case) in medians[: args.top]:
        print(f"  {provider:<14} {case:<32} {median * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
