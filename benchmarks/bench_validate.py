"""Validator throughput over the real corpus streams: events per second, schema and rules together.

Usage: python benchmarks/bench_validate.py [--repeat N] [--json out.json]
Reads ../shared/corpus (or $ANYLLM_SHARED_DIR/corpus); exits quietly when it is absent.
Also prints the cost of the reference engine (jsonschema) on the same events, for scale.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anyllm.testing.validate import StreamValidator, default_store  # noqa: E402

CORPUS = (
    Path(os.environ.get("ANYLLM_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "interactions.jsonl.gz"
)


def load_streams() -> list[list[tuple[str | None, object]]]:
    streams = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if str(rec.get("url", "")).rstrip("/").endswith("/responses") and rec.get("sse_events"):
                streams.append([(e["event"], e["data"]) for e in rec["sse_events"]])
    return streams


def run(streams, profile: str, as_text: bool) -> float:
    t0 = time.perf_counter()
    for events in streams:
        v = StreamValidator(profile)
        for name, data in events:
            v.feed((name, data))
        v.finish()
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    if not CORPUS.is_file():
        print(f"corpus absent ({CORPUS}); nothing to measure")
        return 0
    streams = load_streams()
    text_streams = [[(n, d if isinstance(d, str) else json.dumps(d)) for n, d in s] for s in streams]
    n = sum(len(s) for s in streams)
    default_store()
    run(streams, "openresponses", False)  # warm-up: compiles the validators once
    run(streams, "openai", False)
    print(f"{len(streams)} streams, {n} events (corpus); best of {args.repeat}")
    for profile in ("openresponses", "openai"):
        best = min(run(streams, profile, False) for _ in range(args.repeat))
        best_text = min(run(text_streams, profile, True) for _ in range(args.repeat))
        figures[profile] = {"parsed_events_per_s": n / best, "json_text_events_per_s": n / best_text}
        print(
            f"  {profile:<14} parsed events: {n / best:>10,.0f} events/s   "
            f"JSON text (incl. json.loads): {n / best_text:>10,.0f} events/s"
        )
    figures["events"] = n
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    try:
        import jsonschema
        import referencing
    except ImportError:
        return 0
    store = default_store()
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in store.schemas.values()
    )
    union = jsonschema.Draft202012Validator(store.schemas["StreamingEvent"], registry=registry)
    bodies = [d for s in streams for _n, d in s if isinstance(d, dict) and d.get("type") in store.events]
    t0 = time.perf_counter()
    for body in bodies:
        union.is_valid(body)
    dt = time.perf_counter() - t0
    print(
        f"  reference: jsonschema on the StreamingEvent union, schema only: {len(bodies) / dt:,.0f} events/s"
    )
    figures["reference_jsonschema_events_per_s"] = len(bodies) / dt
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
