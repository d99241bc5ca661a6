"""Start the servers of named targets (:mod:`anyllm.testing.targets`) on loopback.

A session starts each backend once (llama-server with SmolLM2, :mod:`anyllm.testing.llama_server`)
and each target's own process over it on first need: the target file's command with its
placeholders filled in (a free port, the backend's URL, a per-session secret, files written
in a private temporary directory), then waits for the readiness URL. Every process runs in
its own process group, so stopping a target stops the workers it forked too; the output goes
to a log whose tail is in the error when the server will not start.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from anyllm.testing.llama_server import (
    LlamaServer,
    LlamaServerUnavailable,
    check_llama_server,
    free_port,
    start_llama_server,
)
from anyllm.testing.targets import BackendSpec, TargetSpec

__all__ = [
    "BackendPool",
    "RunningTarget",
    "TargetUnavailable",
    "check_target",
    "find_executable",
    "package_version",
    "start_target",
]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_.-]+))?\}")


class TargetUnavailable(RuntimeError):
    """A target's software is not installed here, or its server exited or never answered."""


@dataclass
class RunningTarget:
    """A started target: where it answers, its model and key, and what answered (provenance)."""

    name: str
    base_url: str
    model: str
    api_key: str | None = field(repr=False)
    provenance: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # its own group (start_new_session): its workers too
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class BackendPool:
    """The backends of one session, each started once on first need and stopped at the end."""

    def __init__(self, backends: dict[str, BackendSpec] | Any) -> None:
        self.specs = dict(backends)
        self.running: dict[str, LlamaServer] = {}
        self.errors: dict[str, str] = {}
        self.adopted: set[str] = set()

    def adopt(self, name: str, server: LlamaServer) -> None:
        """Use a backend started elsewhere (a test's session server); :meth:`stop` leaves it."""
        self.running[name] = server
        self.adopted.add(name)

    def check(self, name: str) -> None:
        """Raise TargetUnavailable when the backend cannot start here (fast, starts nothing)."""
        if name in self.running:
            return
        try:
            check_llama_server()
        except LlamaServerUnavailable as exc:
            raise TargetUnavailable(f"backend {name}: {exc}") from None

    def get(self, name: str) -> LlamaServer:
        if name in self.errors:
            raise TargetUnavailable(self.errors[name])
        if name not in self.running:
            if self.specs[name].kind != "llama-server":  # pragma: no cover - load_targets refuses others
                raise TargetUnavailable(f"backend {name}: unknown kind {self.specs[name].kind!r}")
            try:
                self.running[name] = start_llama_server()
            except LlamaServerUnavailable as exc:
                self.errors[name] = f"backend {name}: {exc}"
                raise TargetUnavailable(self.errors[name]) from None
        return self.running[name]

    def stop(self) -> None:
        for name, server in self.running.items():
            if name not in self.adopted:
                server.stop()
        self.running.clear()


def find_executable(name: str) -> Path | None:
    """``name`` in this interpreter's bin directory (a venv's, where setup links tools that
    live in their own venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def package_version(package: str, executable: Path | None = None) -> str | None:
    """The installed version of ``package``: in this environment, else in the environment of
    ``executable`` (a console script: the interpreter its ``#!`` line names)."""
    from importlib.metadata import PackageNotFoundError, version

    with contextlib.suppress(PackageNotFoundError):
        return version(package)
    if executable is None:
        return None
    try:
        first = executable.read_bytes()[:512].split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith("#!"):
        return None
    interpreter = first[2:].strip().split()[0]
    probe = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    try:
        done = subprocess.run(
            [interpreter, "-c", probe, package], capture_output=True, timeout=60, check=False, text=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def check_target(spec: TargetSpec, pool: BackendPool) -> None:
    """What starting needs, checked without starting: the backend, each ``{bin:NAME}`` and
    each Python module. Raises TargetUnavailable naming what is missing."""
    if spec.backend is not None:
        pool.check(spec.backend)
    if spec.serves == "url" and spec.api_key_env and not os.environ.get(spec.api_key_env):
        raise TargetUnavailable(f"no key ({spec.api_key_env} is not set)")
    if spec.start is None:
        return
    for name in spec.binaries():
        if find_executable(name) is None:
            package = spec.provenance.get("package", name)
            raise TargetUnavailable(
                f"{name} is not installed (the {spec.name} target runs {package}: "
                "scripts/setup.sh targets installs it in a venv of its own and links it into "
                f"{Path(sys.executable).parent})"
            )
    for module in spec.start.modules:
        if importlib.util.find_spec(module) is None:
            package = spec.provenance.get("package", module)
            raise TargetUnavailable(f"{package} is not installed (Python module {module!r} not found)")


def _expand(text: str, values: dict[str, str], files: dict[str, Path]) -> str:
    def one(m: re.Match[str]) -> str:
        kind, name = m.group(1), m.group(2)
        if kind == "bin":
            found = find_executable(str(name))
            if found is None:
                raise TargetUnavailable(f"{name} is not installed")
            return str(found)
        if kind == "file":
            return str(files[str(name)])
        return values[kind]

    return _PLACEHOLDER.sub(one, text)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise TargetUnavailable(f"the {name} server exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.3)
    raise TargetUnavailable(f"the {name} server did not answer {url} within {timeout:g} s")


def start_target(spec: TargetSpec, pool: BackendPool) -> RunningTarget:
    """Start ``spec`` (its backend first, once per pool) and wait until it answers."""
    check_target(spec, pool)
    backend = pool.get(spec.backend) if spec.backend is not None else None
    provenance: dict[str, Any] = {"target": spec.name, "implementation": dict(spec.provenance)}
    if backend is not None:
        provenance["backend"] = dict(backend.provenance)
    values = {
        "python": sys.executable,
        "backend": backend.base_url if backend is not None else "",
        "backend_root": backend.base_url.removesuffix("/v1") if backend is not None else "",
        "model": backend.model if backend is not None else "",
        "secret": "sk-anyllm-" + secrets.token_hex(16),
    }
    model = _expand(spec.model, values, {})
    values["model"] = model or values["model"]
    api_key = _expand(spec.api_key, values, {}) if spec.api_key else None
    if spec.api_key_env:
        api_key = os.environ.get(spec.api_key_env) or api_key
    if spec.serves == "backend":
        assert backend is not None
        _stamp_version(provenance, spec, None, fallback=backend.provenance)
        return RunningTarget(spec.name, backend.base_url, model, api_key, provenance)
    if spec.serves == "url" or spec.start is None:
        base = _expand(str(spec.api_base), values, {})
        _stamp_version(provenance, spec, None)
        return RunningTarget(spec.name, base, model, api_key, provenance)
    start = spec.start
    workdir = Path(tempfile.mkdtemp(prefix=f"anyllm-target-{spec.name}-"))
    values["workdir"] = str(workdir)
    values["port"] = str(free_port())
    files = {name: workdir / name for name in start.files}
    for name, text in start.files.items():
        files[name].write_text(_expand(text, values, files), encoding="utf-8")
        files[name].chmod(0o600)  # it may hold the session's secret
    command = [_expand(arg, values, files) for arg in start.command]
    env = {**os.environ, **{k: _expand(v, values, files) for k, v in start.env.items()}}
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = RunningTarget(
        spec.name, _expand(str(spec.api_base), values, files), model, api_key, provenance, process, log
    )
    try:
        _wait_ready(_expand(start.ready, values, files), process, start.timeout, log, spec.name)
    except BaseException:
        running.stop()
        raise
    first = spec.binaries()[0] if spec.binaries() else None
    _stamp_version(provenance, spec, find_executable(first) if first else None)
    return running


def _stamp_version(
    provenance: dict[str, Any],
    spec: TargetSpec,
    executable: Path | None,
    fallback: dict[str, Any] | None = None,
) -> None:
    """The implementation's version: as the target file pins it, else as installed."""
    implementation = provenance["implementation"]
    if "version" in implementation:
        return
    found = package_version(spec.provenance["package"], executable)
    if found is None and fallback is not None and fallback.get("package") == spec.provenance["package"]:
        found = fallback.get("version")
    implementation["version"] = found or "unknown"
