"""Servers the harness starts itself to record a provider's row live.

A provider in :data:`LOCAL_SERVERS` is recorded against a server the harness runs on
loopback, not against an endpoint of its own: when one of its cases records and no
``--api-base`` names another server, the plugin starts it (once per session, on first
need), records against it with the server's model (unless ``--model`` names one), and
stops it at the end of the session. Adding a provider of that kind is one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from anyllm.testing.llama_server import LlamaServerUnavailable, start_llama_server

__all__ = ["LOCAL_SERVERS", "LocalServer", "LocalServerStarter"]


class LocalServer(Protocol):
    """A running server: where it answers and which model it serves."""

    @property
    def base_url(self) -> str: ...

    @property
    def model(self) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class LocalServerStarter:
    """How to start one provider's local server, and what its absence means."""

    name: str  # in messages: "the {name} server could not start"
    start: Callable[[], LocalServer]
    # What ``start`` raises when the server cannot run here (not installed, would not start):
    # the provider's cases are then "not recorded", not failed...
    unavailable: type[Exception]
    # ... unless this variable is "1" (CI, where the server is installed on purpose).
    require_env: str


LOCAL_SERVERS: Mapping[str, LocalServerStarter] = MappingProxyType(
    {
        "llamacpp": LocalServerStarter(
            name="llama.cpp",
            start=start_llama_server,
            unavailable=LlamaServerUnavailable,
            require_env="ANYLLM_REQUIRE_LLAMA",
        ),
    }
)
"""{provider: how to start its server}: the providers whose live row the harness serves itself."""
