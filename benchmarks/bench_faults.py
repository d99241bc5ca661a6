"""Faults: connections left open by abandoned streams, and the time to a typed error.

Two measurements against real servers on 127.0.0.1 (``tests/helpers/faults.py`` and
``tests/helpers/hostile.py``), through the real client paths, on every wire protocol
(openai through the openai SDK; openresponses, chat, anthropic and gemini through the
library's own HTTP path), sync and async:

* **early-closed streams** (issue 13, item 1): ``--streams`` calls per protocol and mode
  that take 0, 1 or 2 events and close the stream. Afterwards: connections of the client's
  pool still carrying a request (leaked, goal 0), connections the client still holds open
  (idle keep-alive ones are fine), sockets the server still sees open, and whether one more
  full call gets its answer (a starved pool made it wait out the pool timeout).
* **time to a typed error** under each fault, with ``timeout`` set to ``--timeout``
  seconds: the wall time from the call to the exception (or to the stream's exception),
  its type, and whether it is an ``anyllm.errors`` type within ``timeout + 1 s`` (the
  goal; the fault is "in goal" when every protocol and mode is).

Prints a table; ``--json`` writes the figures. No thresholds: the goals are reported, not
enforced (the fault tests in ``tests/`` check typing; this measures time).

    python benchmarks/bench_faults.py [--streams 1000] [--timeout 2] [--modes sync,async] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyllm
from anyllm.errors import AnyLLMError
from anyllm.providers.factory import clear_backends
from tests.helpers.faults import (
    WIRES,
    Behaviour,
    FaultServer,
    Wire,
    enormous,
    never_answer,
    refused_url,
    reply,
    reset_before_headers,
    sse,
)
from tests.helpers.hostile import blank_lines, bomb, trickle_body, trickle_head, trickle_stream

PROTOCOLS = list(WIRES)
HOUR = 3600  # bytes (or blank lines) at one per second: an hour of it, unless the client gives up
MIB = 1 << 20


def _kwargs(wire: Wire, url: str, stream: bool, timeout: float) -> dict[str, Any]:
    return {
        "provider": wire.provider,
        "api_base": url + wire.base_path,
        "api_key": "bench-fault-key",
        "stream": stream,
        "client_args": {"timeout": timeout},
    }


# -- early-closed streams -------------------------------------------------------------------------


def _pool_connections(*, busy: bool = False) -> int:
    """Connections the cached clients still hold open (``busy``: only those still carrying a
    request, i.e. leaked; an idle keep-alive connection is fine)."""
    from tests.helpers.faults import _http_clients, _unwrapped

    count = 0
    for client in _http_clients():
        pool = getattr(_unwrapped(getattr(client, "_transport", None)), "_pool", None)
        for connection in getattr(pool, "connections", []):
            if not connection.is_closed() and not (busy and connection.is_idle()):
                count += 1
    return count


def _server_open(server: FaultServer, settle: float = 1.0) -> int:
    """Sockets the server has not seen closed, after the client had ``settle`` s to close them."""
    deadline = time.monotonic() + settle
    while True:
        still = sum(1 for conn in server._conns if not conn.closed)
        if still == 0 or time.monotonic() > deadline:
            return still
        time.sleep(0.02)


def early_close(protocol: str, mode: str, streams: int) -> dict[str, Any]:
    """``streams`` calls that each take 0, 1 or 2 events and close the stream; what is left."""
    wire = WIRES[protocol]
    failed: list[str] = []
    with FaultServer(sse(wire.full_stream())) as server:
        kwargs = _kwargs(wire, server.url, True, 5.0)
        if mode == "sync":
            list(anyllm.responses("m", "hi", **kwargs))  # warm-up: imports and client, not timed
            started = time.perf_counter()
            for index in range(streams):
                try:
                    stream = anyllm.responses("m", "hi", **kwargs)
                    for _ in range(index % 3):
                        next(stream)
                    stream.close()
                except AnyLLMError as exc:  # a starved pool: the call waited out the pool timeout
                    failed.append(type(exc).__name__)
            elapsed = time.perf_counter() - started
            leaked, client_open = _pool_connections(busy=True), _pool_connections()
            server_open = _server_open(server)
            try:
                last = [e.type for e in anyllm.responses("m", "hi", **kwargs)][-1]
            except AnyLLMError as exc:
                last = type(exc).__name__
        else:

            async def run() -> tuple[float, int, int, int, str]:
                [e async for e in await anyllm.aresponses("m", "hi", **kwargs)]  # warm-up
                started = time.perf_counter()
                for index in range(streams):
                    try:
                        stream = await anyllm.aresponses("m", "hi", **kwargs)
                        for _ in range(index % 3):
                            await anext(stream)
                        await stream.aclose()
                    except AnyLLMError as exc:
                        failed.append(type(exc).__name__)
                took = time.perf_counter() - started
                busy, held = _pool_connections(busy=True), _pool_connections()
                seen = _server_open(server)
                try:
                    final = [e.type async for e in await anyllm.aresponses("m", "hi", **kwargs)][-1]
                except AnyLLMError as exc:
                    final = type(exc).__name__
                return took, busy, held, seen, final

            elapsed, leaked, client_open, server_open, last = asyncio.run(run())
        clear_backends()
    return {
        "streams": streams,
        "leaked": leaked,
        "client_open": client_open,
        "server_open": server_open,
        "failed_calls": len(failed),
        "ms_per_stream": 1000 * elapsed / streams,
        "next_call": last,
    }


# -- time to a typed error ------------------------------------------------------------------------

# name -> (behaviour for a protocol (None: nothing listens), streaming call)
FAULTS: dict[str, tuple[Callable[[Wire], Behaviour | None], bool]] = {
    "connection refused": (lambda wire: None, False),
    "reset before the status line": (lambda wire: reset_before_headers(), False),
    "HTML 502 page": (lambda wire: reply(502, b"<html><h1>502 Bad Gateway</h1></html>"), False),
    "never answers (JSON call)": (lambda wire: never_answer(), False),
    "never answers (stream call)": (lambda wire: never_answer(), True),
    "status line and headers at 1 byte/s": (
        lambda wire: trickle_head(json.dumps(wire.reply).encode(), pause=1.0),
        False,
    ),
    "JSON body at 1 byte/s": (
        lambda wire: trickle_body(json.dumps(wire.reply).encode(), slow=HOUR, pause=1.0),
        False,
    ),
    "stream stalls after 3 events": (lambda wire: sse(wire.frames[:3], then="stall"), True),
    "stream event at 1 byte/s": (
        lambda wire: trickle_stream(wire.full_stream(), before=3, slow=HOUR, pause=1.0),
        True,
    ),
    "a blank line per second, no event": (
        lambda wire: trickle_stream(wire.full_stream(), before=3, filler=b"\n", slow=HOUR, pause=1.0),
        True,
    ),
    "a comment per second, no event": (
        lambda wire: trickle_stream(
            wire.full_stream(), before=3, filler=b": keep-alive\n\n", slow=HOUR, pause=1.0
        ),
        True,
    ),
    "endless blank lines at full speed": (lambda wire: blank_lines(None), True),
    "gzip bomb, 100 MiB inflated (JSON)": (lambda wire: bomb(100 * MIB), False),
    "gzip bomb, gzip+gzip, 100 MiB inflated (JSON)": (lambda wire: bomb(100 * MIB, layers=2), False),
    "gzip bomb, 100 MiB inflated (one SSE event)": (lambda wire: bomb(100 * MIB, "text/event-stream"), True),
    "100 MiB plain body": (lambda wire: enormous(100 * MIB), False),
}


def _consume(result: Any, stream: bool) -> None:
    if stream:
        for _ in result:
            pass


async def _aconsume(result: Any, stream: bool) -> None:
    if stream:
        async for _ in result:
            pass


def time_to_error(
    wire: Wire, behaviour: Behaviour | None, stream: bool, mode: str, timeout: float
) -> dict[str, Any]:
    def call(url: str) -> tuple[float, BaseException | None]:
        kwargs = _kwargs(wire, url, stream, timeout)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            if mode == "sync":
                _consume(anyllm.responses("m", "hi", **kwargs), stream)
            else:

                async def run() -> None:
                    await _aconsume(await anyllm.aresponses("m", "hi", **kwargs), stream)

                asyncio.run(run())
        except Exception as exc:
            error = exc
        return time.perf_counter() - started, error

    if behaviour is None:
        elapsed, error = call(refused_url())
    else:
        with FaultServer(behaviour) as server:
            elapsed, error = call(server.url)
    clear_backends()
    return {
        "s": round(elapsed, 3),
        "error": type(error).__name__ if error is not None else None,
        "typed": isinstance(error, AnyLLMError),
    }


def faults(modes: list[str], timeout: float) -> dict[str, Any]:
    goal = timeout + 1.0
    table: dict[str, Any] = {}
    for name, (build, stream) in FAULTS.items():
        cases = {}
        for protocol in PROTOCOLS:
            wire = WIRES[protocol]
            for mode in modes:
                cases[f"{protocol}/{mode}"] = time_to_error(wire, build(wire), stream, mode, timeout)
        slowest = max(case["s"] for case in cases.values())
        typed = all(case["typed"] for case in cases.values())
        table[name] = {
            "max_s": slowest,
            "errors": sorted({str(case["error"]) for case in cases.values()}),
            "typed": typed,
            "in_goal": typed and slowest <= goal,
            "cases": cases,
        }
        mark = "ok " if table[name]["in_goal"] else "OUT"
        print(f"  {mark} {name:<45} max {slowest:6.2f} s  {', '.join(table[name]['errors'])}", flush=True)
    return {"timeout_s": timeout, "goal_s": goal, "modes": modes, "faults": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--streams", type=int, default=1000, help="early-closed streams per protocol and mode"
    )
    parser.add_argument("--timeout", type=float, default=2.0, help="the configured timeout, seconds")
    parser.add_argument("--modes", default="sync,async")
    parser.add_argument("--parts", default="early-close,time-to-error", help="what to measure")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    modes = args.modes.split(",")
    parts = args.parts.split(",")
    figures: dict[str, Any] = {}

    if "early-close" in parts:
        print(f"early-closed streams ({args.streams} per protocol and mode, 0-2 events each):")
        closes: dict[str, Any] = {}
        for protocol in PROTOCOLS:
            for mode in modes:
                row = early_close(protocol, mode, args.streams)
                closes[f"{protocol}/{mode}"] = row
                print(
                    f"  {protocol + '/' + mode:<20} leaked {row['leaked']:>3}  client open "
                    f"{row['client_open']:>3}  server open {row['server_open']:>3}  failed calls "
                    f"{row['failed_calls']:>3}  {row['ms_per_stream']:.2f} ms/stream  "
                    f"next call: {row['next_call']}",
                    flush=True,
                )
        figures["early_close"] = {
            "streams_per_case": args.streams,
            "leaked_total": sum(row["leaked"] for row in closes.values()),
            "server_open_total": sum(row["server_open"] for row in closes.values()),
            "failed_calls_total": sum(row["failed_calls"] for row in closes.values()),
            "cases": closes,
        }
    if "time-to-error" in parts:
        print(f"time to a typed error (timeout {args.timeout:g} s, goal <= {args.timeout + 1:g} s):")
        figures["time_to_error"] = faults(modes, args.timeout)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
