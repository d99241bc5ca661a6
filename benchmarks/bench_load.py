"""Load: 1,000 concurrent async calls (half of them streaming) against one loopback server.

Each contender runs in a fresh interpreter of its own (so its peak RSS is its own), one
after another, against the same server process started once for the run:

* anyllm ``aresponses()`` on the own HTTP path (provider ``openresponses``),
* anyllm ``aresponses()`` on the openai path (provider ``openai``, through the SDK),
* the openai SDK's ``AsyncOpenAI.responses.create`` directly,
* any-llm-sdk's ``aresponses()`` (when installed).

Reported per contender: errors (should be zero), wall time, calls/s, stream events
received, and peak RSS (``resource.getrusage``) with the RSS before the calls for scale.
Prints a table; ``--json`` writes the figures to a file. No thresholds.

    python benchmarks/bench_load.py [--calls 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import BenchServer

CONTENDERS = ("anyllm (openresponses)", "anyllm (openai)", "openai SDK", "any-llm-sdk")
STREAM_EVENTS = 20  # text deltas per streamed reply (plus the lifecycle events)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


async def _one(name: str, base: str, stream: bool) -> int:
    """One call; the number of stream events received (1 for a plain call)."""
    if name.startswith("anyllm"):
        import anyllm

        provider = "openai" if name == "anyllm (openai)" else "openresponses"
        result = await anyllm.aresponses(
            "bench-model", "hi", provider=provider, api_base=base, api_key="k", stream=stream
        )
    elif name == "openai SDK":
        result = await _sdk(base).responses.create(model="bench-model", input="hi", stream=stream)
    else:
        import any_llm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = await any_llm.aresponses(
                "bench-model", "hi", provider="openai", api_base=base, api_key="k", stream=stream
            )
    if not stream:
        return 1
    count = 0
    async for _event in result:  # type: ignore[union-attr]
        count += 1
    return count


_SDK: Any = None


def _sdk(base: str) -> Any:
    global _SDK
    if _SDK is None:
        import openai

        _SDK = openai.AsyncOpenAI(api_key="k", base_url=base, max_retries=0)
    return _SDK


async def _load(name: str, base: str, calls: int) -> dict[str, Any]:
    await _one(name, base, False)  # warm: imports, client built
    await _one(name, base, True)
    rss_before = _rss_mb()
    errors: list[str] = []

    async def guarded(index: int) -> int:
        try:
            return await _one(name, base, stream=index % 2 == 1)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return 0

    start = time.perf_counter()
    counts = await asyncio.gather(*(guarded(i) for i in range(calls)))
    wall = time.perf_counter() - start
    return {
        "calls": calls,
        "streaming": calls // 2,
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "stream_events": sum(counts) - (calls - calls // 2),
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
    }


def run_contender(name: str, base: str, calls: int) -> dict[str, Any]:
    """Run one contender in a fresh interpreter; its figures, or why it could not run."""
    proc = subprocess.run(
        [sys.executable, __file__, "--contender", name, "--base", base, "--calls", str(calls)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        return {"skipped": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:  # child: one contender, figures as one JSON line
        if args.contender == "any-llm-sdk":
            import any_llm  # noqa: F401  (ImportError -> reported as skipped)
        print(json.dumps(asyncio.run(_load(args.contender, args.base, args.calls))))
        return
    # The listen backlog takes 1,000 connects at once.
    with BenchServer(stream_events=STREAM_EVENTS, backlog=4096) as base:
        results = {name: run_contender(name, base, args.calls) for name in CONTENDERS}
    print(f"{args.calls} concurrent aresponses() calls, {args.calls // 2} streaming, one loopback server")
    header = f"{'contender':<24}{'errors':>7}{'wall s':>8}{'calls/s':>9}{'events':>8}"
    print(header + f"{'RSS before MB':>15}{'peak RSS MB':>13}")
    for name, row in results.items():
        if "skipped" in row:
            print(f"{name:<24} skipped: {row['skipped']}")
            continue
        print(
            f"{name:<24}{row['errors']:>7}{row['wall_s']:>8.2f}{row['calls_per_s']:>9.0f}"
            f"{row['stream_events']:>8}{row['rss_before_mb']:>15.1f}{row['peak_rss_mb']:>13.1f}"
        )
        if row["errors"]:
            print(f"  ERRORS: {row['first_errors']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
