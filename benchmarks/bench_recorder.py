"""The recorder against hostile servers and files: what it writes, what it keeps, how fast it refuses.

Issue 13, items 5, 6, 7, 13 and 17, against real servers on 127.0.0.1 through the real
clients (``tests/helpers/faults.py``):

* **gzip bombs**: 100 MiB of zeros from about 100 KB (``gzip``, ``gzip, gzip``,
  ``deflate``) recorded under the default 8 MiB bound: bytes written to the cassette
  directory (goal 0), the peak of Python allocations while recording (tracemalloc), and
  the seconds to ``RecordingLimitError``.
* **stacked codings** echoing a canary key (``gzip, gzip``, ``deflate, gzip``,
  ``gzip, identity, x-gzip``): forms of the key in the cassette (goal 0).
* **billion laughs**: a cassette of about 1 KB whose metadata expands to 10^9 strings:
  seconds until replay refuses it (``CassetteCorruptError``).
* **recording timeout**: a server that never answers, a 1 s recording bound, the library's
  own timeout 600 s, through ``anyllm.responses()`` (openresponses and openai): seconds to
  ``RecordingLimitError`` (goal: bound + 1 s), whether its message names the bound, and
  whether a cassette was written (goal: no).
* **killed writers**: a writer killed (SIGKILL) between writing its temporary file and
  renaming it, then one more recording of the same cassette: temporary files left (goal 0).

    python benchmarks/bench_recorder.py [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2

import anyllm
from anyllm.providers.factory import clear_backends
from anyllm.testing.cassettes import (
    CassetteCorruptError,
    CassetteSettings,
    RecordBounds,
    RecordingLimitError,
    secret_forms,
    use_cassette,
)
from tests.helpers.faults import WIRES, FaultServer, never_answer, reply

KEY = "sk-bench-recorder-canary-0123456789abcdef"
BOMB_BYTES = 100 * 1024 * 1024


def _encode(data: bytes, codings: str) -> bytes:
    for coding in (c.strip() for c in codings.split(",")):
        data = (
            zlib.compress(data)
            if coding == "deflate"
            else gzip.compress(data)
            if coding != "identity"
            else data
        )
    return data


def _written(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def bombs(scratch: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for codings in ("gzip", "gzip, gzip", "deflate"):
        body = _encode(b"\0" * BOMB_BYTES, codings)
        directory = scratch / f"bomb-{codings.replace(', ', '-')}"
        directory.mkdir()
        headers = {"content-type": "application/json", "content-encoding": codings}
        with FaultServer(reply(200, body, headers)) as server:
            tracemalloc.start()
            started = time.perf_counter()
            try:
                with use_cassette(directory / "c.yaml", CassetteSettings(record_mode="once")):
                    httpx2.post(f"{server.url}/v1/responses", json={})
                error = "none"
            except RecordingLimitError:
                error = "RecordingLimitError"
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        out[codings] = {
            "compressed_bytes": len(body),
            "inflates_to_bytes": BOMB_BYTES,
            "error": error,
            "seconds": round(seconds, 3),
            "peak_alloc_mb": round(peak / 2**20, 1),
            "bytes_written": _written(directory),
        }
    return out


def stacked(scratch: Path) -> dict[str, Any]:
    os.environ["OPENAI_API_KEY"] = KEY
    out: dict[str, Any] = {}
    payload = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}).encode()
    for codings in ("gzip, gzip", "deflate, gzip", "gzip, identity, x-gzip"):
        path = scratch / f"stacked-{codings.replace(', ', '-')}.yaml"
        headers = {"content-type": "application/json", "content-encoding": codings}
        server = FaultServer(reply(200, _encode(payload, codings), headers))
        with server, use_cassette(path, CassetteSettings(record_mode="once")):
            httpx2.post(f"{server.url}/v1/responses", json={})
        text = path.read_text()
        out[codings] = {"key_forms_in_cassette": sum(text.count(f) for f in secret_forms(KEY))}
    del os.environ["OPENAI_API_KEY"]
    return out


def laughs(scratch: Path) -> dict[str, Any]:
    lines = ['  l0: &l0 "lol"']
    lines += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    request = '{method: POST, uri: "http://127.0.0.1:9/v1/responses", body: "{}", headers: {}}'
    response = "{status: {code: 200, message: OK}, headers: {}, body: {string: '{}'}}"
    text = (
        f"version: 1\ninteractions:\n- request: {request}\n  response: {response}\nmetadata:\n"
        + "\n".join(lines)
    )
    path = scratch / "laughs.yaml"
    path.write_text(text + "\n")
    started = time.perf_counter()
    try:
        with use_cassette(path, CassetteSettings(record_mode="none")):
            pass
        error = "none"
    except CassetteCorruptError:
        error = "CassetteCorruptError"
    return {
        "file_bytes": path.stat().st_size,
        "expands_to_strings": 10**9,
        "error": error,
        "seconds": round(time.perf_counter() - started, 4),
    }


def timeouts(scratch: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    bound = 1.0
    for provider in ("openresponses", "openai"):
        os.environ["OPENAI_API_KEY"] = KEY
        path = scratch / f"timeout-{provider}.yaml"
        settings = CassetteSettings(record_mode="once", bounds=RecordBounds(max_seconds=bound))
        with FaultServer(
            reply(200, WIRES[provider].reply)
        ) as warm:  # imports and client set-up: not the fault
            anyllm.responses("m", "hi", provider=provider, api_base=f"{warm.url}/v1", api_key=KEY)
        with FaultServer(never_answer()) as server:
            clear_backends()
            started = time.perf_counter()
            message = ""
            try:
                with use_cassette(path, settings):
                    anyllm.responses("m", "hi", provider=provider, api_base=f"{server.url}/v1", api_key=KEY)
                error = "none"
            except Exception as exc:  # the figure is which error, and when
                error, message = type(exc).__name__, str(exc)
            seconds = time.perf_counter() - started
        clear_backends()
        out[provider] = {
            "bound_s": bound,
            "library_timeout_s": 600,
            "error": error,
            "seconds": round(seconds, 3),
            "in_goal": error == "RecordingLimitError" and seconds <= bound + 1,
            "names_the_bound": f"{bound:g} s" in message and "600" not in message,
            "cassette_written": path.exists(),
        }
    os.environ.pop("OPENAI_API_KEY", None)
    return out


WRITER = """
import os, signal, sys
from anyllm.testing.cassettes.persistence import AtomicPersister, YamlSerializer
os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
AtomicPersister({}).save_cassette(sys.argv[1], {"requests": [], "responses": []}, YamlSerializer())
"""


def killed_writers(scratch: Path, writers: int = 5) -> dict[str, Any]:
    directory = scratch / "killed"
    directory.mkdir()
    path = directory / "c.yaml"
    root = Path(__file__).resolve().parents[1]
    for _ in range(writers):
        proc = subprocess.run([sys.executable, "-c", WRITER, str(path)], cwd=root, check=False)
        assert proc.returncode == -signal.SIGKILL
    left_before = sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))
    then = time.time() - 60  # the sweep leaves files younger than 5 s to their writers
    for name in left_before:
        os.utime(directory / name, (then, then))
    server = FaultServer(reply(200, WIRES["openresponses"].reply))
    with server, use_cassette(path, CassetteSettings(record_mode="once")):
        httpx2.post(f"{server.url}/v1/responses", json={})
    left_after = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    return {
        "killed_writers": writers,
        "temp_files_before": len(left_before),
        "temp_files_after": len(left_after),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")):
            del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="anyllm-bench-recorder-") as tmp:
        scratch = Path(tmp)
        figures: dict[str, Any] = {
            "gzip_bombs": bombs(scratch),
            "stacked_codings": stacked(scratch),
            "billion_laughs": laughs(scratch),
            "recording_timeout": timeouts(scratch),
            "killed_writers": killed_writers(scratch),
        }
    for codings, row in figures["gzip_bombs"].items():
        print(
            f"gzip bomb ({codings}, {row['compressed_bytes']:,} B -> 100 MiB): {row['error']} in "
            f"{row['seconds']} s, peak {row['peak_alloc_mb']} MB allocated, {row['bytes_written']} B written"
        )
    for codings, row in figures["stacked_codings"].items():
        print(
            f"stacked codings ({codings}) echoing a key: "
            f"{row['key_forms_in_cassette']} key forms in the cassette"
        )
    row = figures["billion_laughs"]
    print(f"billion laughs ({row['file_bytes']} B file, 10^9 strings): {row['error']} in {row['seconds']} s")
    for provider, row in figures["recording_timeout"].items():
        print(
            f"recording timeout ({provider}, bound 1 s, library timeout 600 s): {row['error']} in "
            f"{row['seconds']} s, names the bound: {row['names_the_bound']}, "
            f"cassette written: {row['cassette_written']}"
        )
    row = figures["killed_writers"]
    print(
        f"killed writers: {row['temp_files_before']} temporary files left by {row['killed_writers']} "
        f"killed writers, {row['temp_files_after']} after the next write"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
