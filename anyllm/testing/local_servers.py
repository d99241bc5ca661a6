"""Servers the harness starts itself to record a column live.

A column whose name is a target of the target file (:mod:`anyllm.testing.targets`; the
suites' own ``conformance/targets.yaml`` by default) is recorded against a server the
harness runs on loopback, not against an endpoint of its own: when one of its cases records
and no ``--api-base`` names another server, the plugin starts it (once per session, on first
need, with its backend, also once), records against it with the server's model (unless
``--model`` names one) and key, and stops it at the end of the session. The ``llamacpp``
provider is such a column: its target starts llama.cpp's ``llama-server``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from anyllm.testing.target_servers import BackendPool, TargetUnavailable, check_target, start_target
from anyllm.testing.targets import TargetSpec

__all__ = ["LocalServer", "LocalServerStarter", "local_starters"]


class LocalServer(Protocol):
    """A running server: where it answers, which model it serves, with which key, and what
    answered (``provenance``, stamped into the cassettes it records)."""

    @property
    def base_url(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def api_key(self) -> str | None: ...

    @property
    def provenance(self) -> dict[str, Any]: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class LocalServerStarter:
    """How to start one column's local server, and what its absence means."""

    name: str  # in messages: "the {name} server could not start"
    start: Callable[[], LocalServer]
    # What ``start`` raises when the server cannot run here (not installed, would not start):
    # the column's cases are then "not recorded", not failed...
    unavailable: type[Exception]
    # ... unless this variable is "1" (CI, where the server is installed on purpose).
    require_env: str
    # What starting needs, checked without starting (raises ``unavailable``): a run asked to
    # record learns whether it could, even when every cassette exists and nothing starts.
    check: Callable[[], object] | None = None


def local_starters(targets: Mapping[str, TargetSpec], pool: BackendPool) -> dict[str, LocalServerStarter]:
    """{column: how to start its server} for the targets the harness serves itself (all of a
    target file's targets: those at a fixed URL go through the same path, starting nothing)."""

    def starter(spec: TargetSpec) -> LocalServerStarter:
        return LocalServerStarter(
            name=spec.name,
            start=lambda: start_target(spec, pool),
            unavailable=TargetUnavailable,
            require_env=spec.require_env,
            check=lambda: check_target(spec, pool),
        )

    return {name: starter(spec) for name, spec in targets.items()}
