"""Start and stop open-responses-server (PyPI) in front of a chat-completions server.

open-responses-server 0.4.1 translates the Responses API onto a chat-completions backend.
It is a real third-party OpenResponses implementation that does not conform, which makes
it the harness's reference for catching deviations: the ``openresponses`` row of the
matrix is recorded against it (scripts/record_openresponses_row.py), and the validator's
tests judge it live. It runs on a free 127.0.0.1 port and is always stopped afterwards.
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

from anyllm.testing.llama_server import free_port

__all__ = ["OpenResponsesServerUnavailable", "open_responses_server"]


class OpenResponsesServerUnavailable(RuntimeError):
    """The package is not installed, or the server exited or never answered."""


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise OpenResponsesServerUnavailable(
                f"open-responses-server exited with {process.returncode}:\n{tail}"
            )
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise OpenResponsesServerUnavailable(f"open-responses-server did not answer {url} within {timeout:g} s")


@contextlib.contextmanager
def open_responses_server(backend_base_url: str, *, startup_timeout: float = 60.0) -> Iterator[str]:
    """Serve the Responses API over ``backend_base_url`` (a chat-completions ``.../v1``);
    yields the server's base URL (it serves ``/responses`` at its root)."""
    if importlib.util.find_spec("open_responses_server") is None:
        raise OpenResponsesServerUnavailable(
            "open-responses-server is not installed (pip install open-responses-server==0.4.1)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="ors-"))  # it writes ./log/ in its working directory
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_BASE_URL_INTERNAL": backend_base_url.removesuffix("/v1"),
        "OPENAI_API_KEY": "unused",
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
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}/health", process, startup_timeout, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
