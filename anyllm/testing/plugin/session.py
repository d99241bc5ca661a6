"""What one pytest session shares across its cases: verdicts, loopback probes, the local
servers the harness started (:mod:`anyllm.testing.local_servers`) and the backends they run
over, and the log filter."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from anyllm.testing.local_servers import LocalServer, LocalServerStarter
from anyllm.testing.log_scrub import Installed
from anyllm.testing.target_servers import BackendPool

__all__ = ["LOG_SCRUB_KEY", "STATE_KEY", "SessionState"]


@dataclass
class SessionState:
    """Shared by the cases of one session (on each xdist worker, and the controller's verdicts)."""

    verdicts: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    probes: dict[str, tuple[bool, str]] = field(default_factory=dict)
    servers: dict[str, LocalServer] = field(default_factory=dict)  # provider -> its running server
    server_errors: dict[str, str] = field(default_factory=dict)  # provider -> why it did not start
    local_checks: dict[str, str | None] = field(default_factory=dict)  # provider -> why it cannot start
    starters: dict[str, LocalServerStarter] = field(default_factory=dict)  # column -> its local server
    pool: BackendPool | None = None  # the backends the started servers run over

    def local_server(self, provider: str, starter: LocalServerStarter) -> LocalServer | None:
        """Started on first need (recording the provider's row), stopped at the end of the
        session; None when it cannot start (``server_errors`` says why; not retried)."""
        if provider not in self.servers and provider not in self.server_errors:
            try:
                self.servers[provider] = starter.start()
            except starter.unavailable as exc:
                self.server_errors[provider] = str(exc)
        return self.servers.get(provider)

    def local_check(self, provider: str, starter: LocalServerStarter) -> str | None:
        """Why the provider's local server cannot start (its fast check, once), or None."""
        if provider in self.server_errors:
            return self.server_errors[provider]
        if provider not in self.local_checks:
            try:
                if starter.check is not None:
                    starter.check()
                self.local_checks[provider] = None
            except starter.unavailable as exc:
                self.local_checks[provider] = str(exc)
        return self.local_checks[provider]

    def stop(self) -> None:
        """The targets first, then the backends they run over."""
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self.pool is not None:
            self.pool.stop()


STATE_KEY = pytest.StashKey[SessionState]()
LOG_SCRUB_KEY = pytest.StashKey[Installed]()
