"""One non-streaming call, and one streamed event, side by side, against one loopback server.

Measured in the same run against the same server process: raw httpx2 (POST + json),
the openai SDK, any-llm-sdk, and anyllm (openai path, openresponses path, and a
translated chat-completions path). Also ``import anyllm`` vs ``import any_llm``.
Prints a table and writes ``benchmarks/results_call.json``.

    python benchmarks/bench_call.py [--calls 1500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import BenchServer

HERE = Path(__file__).resolve().parent


def per_call_us(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def import_time(module: str, runs: int = 5) -> float:
    """Best wall time of a fresh interpreter importing ``module``, minus a bare interpreter."""

    def best(code: str) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return min(times)

    return best(f"import {module}") - best("pass")


def contenders(base: str) -> dict[str, Callable[[], Any]]:
    import httpx2
    import openai

    import anyllm

    raw = httpx2.Client()
    body = json.dumps({"model": "bench-model", "input": "hi"}).encode()
    headers = {"content-type": "application/json", "authorization": "Bearer k"}

    def raw_httpx2() -> Any:
        return raw.post(f"{base}/responses", content=body, headers=headers).json()

    sdk = openai.OpenAI(api_key="k", base_url=base, max_retries=0)

    def openai_sdk() -> Any:
        return sdk.responses.create(model="bench-model", input="hi")

    def anyllm_openai() -> Any:
        return anyllm.responses("bench-model", "hi", provider="openai", api_base=base, api_key="k")

    def anyllm_openresponses() -> Any:
        return anyllm.responses("bench-model", "hi", provider="openresponses", api_base=base, api_key="k")

    def anyllm_chat() -> Any:
        return anyllm.responses("bench-model", "hi", provider="openai_compatible", api_base=base, api_key="k")

    found: dict[str, Callable[[], Any]] = {
        "raw httpx2": raw_httpx2,
        "openai SDK": openai_sdk,
        "anyllm (openai)": anyllm_openai,
        "anyllm (openresponses)": anyllm_openresponses,
        "anyllm (chat bridge)": anyllm_chat,
    }
    try:
        import any_llm

        def any_llm_sdk() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return any_llm.responses("bench-model", "hi", provider="openai", api_base=base, api_key="k")

        found["any-llm-sdk"] = any_llm_sdk
    except ImportError:
        pass
    return found


def stream_contenders(base: str) -> dict[str, Callable[[], int]]:
    import openai

    import anyllm

    sdk = openai.OpenAI(api_key="k", base_url=base, max_retries=0)

    def openai_sdk() -> int:
        return sum(1 for _ in sdk.responses.create(model="bench-model", input="hi", stream=True))

    def anyllm_openresponses() -> int:
        stream = anyllm.responses("bench-model", "hi", provider="openresponses", api_base=base, stream=True)
        return sum(1 for _ in stream)  # type: ignore[union-attr]

    def anyllm_openai() -> int:
        stream = anyllm.responses(
            "bench-model", "hi", provider="openai", api_base=base, api_key="k", stream=True
        )
        return sum(1 for _ in stream)  # type: ignore[union-attr]

    return {
        "openai SDK": openai_sdk,
        "anyllm (openai)": anyllm_openai,
        "anyllm (openresponses)": anyllm_openresponses,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stream-events", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=HERE / "results_call.json", help="figures go here")
    args = parser.parse_args()
    results: dict[str, Any] = {"calls_per_round": args.calls, "rounds": args.rounds}
    with BenchServer(stream_events=args.stream_events) as base:
        fns = contenders(base)
        for fn in fns.values():  # warm up: clients built, code paths imported
            for _ in range(50):
                fn()
        samples: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(args.rounds):  # interleaved rounds: drift hits every contender alike
            for name, fn in fns.items():
                calls = args.calls if name != "any-llm-sdk" else max(args.calls // 20, 20)
                samples[name].append(per_call_us(fn, calls))
        call = {name: statistics.median(values) for name, values in samples.items()}
        results["call_us"] = call
        streams = stream_contenders(base)
        stream_rate: dict[str, float] = {}
        for name, fn in streams.items():
            fn()
            best = float("inf")
            count = 0
            for _ in range(args.rounds):
                start = time.perf_counter()
                count = fn()
                best = min(best, time.perf_counter() - start)
            stream_rate[name] = count / best
        results["stream_events_per_s"] = stream_rate
    results["import_s"] = {"anyllm": import_time("anyllm")}
    with contextlib.suppress(subprocess.CalledProcessError):
        results["import_s"]["any_llm"] = import_time("any_llm")
    raw = call["raw httpx2"]
    sdk = call["openai SDK"]
    print(f"{'one non-streaming call':<28}{'µs/call':>10}{'x raw httpx2':>14}{'x openai SDK':>14}")
    for name, value in call.items():
        print(f"{name:<28}{value:>10.0f}{value / raw:>14.2f}{value / sdk:>14.2f}")
    print(f"\n{'stream (events/s)':<28}{'events/s':>10}")
    for name, value in stream_rate.items():
        print(f"{name:<28}{value:>10.0f}")
    print(
        "\nimport time (s, above a bare interpreter):",
        {k: round(v, 3) for k, v in results["import_s"].items()},
    )
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
