"""Whether a case can record live, and against which base URL: the provider's endpoint, a
local server the harness starts, or nothing (then the case replays or is not recorded)."""

from __future__ import annotations

import os
import socket
import urllib.parse

from anyllm.testing.plugin.options import AnyllmSettings
from anyllm.testing.plugin.session import SessionState
from anyllm.testing.redact import redact_url

__all__ = ["live_access"]


def live_access(
    settings: AnyllmSettings, state: SessionState, provider: str, *, start: bool = True
) -> tuple[bool, str, str | None]:
    """(live?, why not, base URL) for recording ``provider``. Never touches a non-loopback host.

    ``start=False`` asks whether the provider could record without starting its local server
    (a case that replays anyway, in a run asked to record): the starter's fast check decides,
    and the base URL is None until the server runs."""
    meta = settings.metadata(provider)
    explicit = settings.api_bases.get(provider) or settings.api_bases.get("*")
    starter = state.starters.get(provider)
    if starter is not None and not explicit and not start and provider not in state.servers:
        problem = state.local_check(provider, starter)
        if problem is not None:
            return False, f"the {starter.name} server cannot start: {problem}", None
        return True, "", None
    if starter is not None and not explicit:
        server = state.local_server(provider, starter)
        if server is None:
            return False, f"the {starter.name} server could not start: {state.server_errors[provider]}", None
        return True, "", str(server.base_url)
    base = (
        explicit
        or (os.environ.get(meta.base_url_env) if meta.base_url_env else None)
        or meta.default_base_url
    )
    if not base:
        hint = f" or set {meta.base_url_env}" if meta.base_url_env else ""
        return False, f"no endpoint (pass --api-base{hint})", None
    if meta.key_required and not (meta.api_key_env and os.environ.get(meta.api_key_env)):
        return False, f"no key ({meta.api_key_env} is not set)", base
    if _is_loopback_url(base):
        if base not in state.probes:
            state.probes[base] = (_port_open(base), f"nothing listens at {redact_url(base)}")
        ok, why = state.probes[base]
        if not ok:
            return False, why, base
    return True, "", base


def _port_open(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _is_loopback_url(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
