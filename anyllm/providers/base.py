"""What every protocol backend offers, and the cache that makes clients long-lived.

A backend is one configured connection to a provider (metadata, base URL, key, client
arguments). Creating HTTP clients costs far more than a call against a local server, so
backends are built once per configuration and reused by every later call.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from anyllm.providers.registry import ProviderMetadata

__all__ = ["Backend", "ClientConfig", "get_backend"]

DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything that identifies one client: equal configs share one backend."""

    metadata: ProviderMetadata
    base_url: str
    api_key: str | None = field(repr=False)  # never in a repr, a log line or a traceback
    client_args: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def timeout(self) -> float:
        value = self.client_args.get("timeout", DEFAULT_TIMEOUT)
        return float(value) if value is not None else DEFAULT_TIMEOUT

    @property
    def max_retries(self) -> int:
        return int(self.client_args.get("max_retries", 0))

    @property
    def extra_headers(self) -> dict[str, str]:
        headers = self.client_args.get("default_headers") or self.client_args.get("headers") or {}
        return {str(k): str(v) for k, v in dict(headers).items()}

    def cache_key(self) -> tuple[Any, ...]:
        """Hashable identity; unhashable client arguments count by object identity."""
        frozen = []
        for name in sorted(self.client_args):
            value = self.client_args[name]
            try:
                hash(value)
                frozen.append((name, value))
            except TypeError:
                frozen.append((name, repr(value) if isinstance(value, dict | list) else id(value)))
        return (self.metadata.name, self.base_url, self.api_key, tuple(frozen))


class Backend(abc.ABC):
    """One provider protocol, configured. Bodies in and out are Responses-shaped."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config

    @property
    def provider(self) -> str:
        return self.config.metadata.name

    def check(self, body: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Raise UnsupportedParameterError for what the target cannot express (no network)."""

    @abc.abstractmethod
    def create(self, body: dict[str, Any]) -> Any:
        """One non-streaming call."""

    @abc.abstractmethod
    async def acreate(self, body: dict[str, Any]) -> Any:
        """One non-streaming call, async."""

    @abc.abstractmethod
    def stream(self, body: dict[str, Any]) -> Iterator[Any]:
        """A streaming call: sends the request now (HTTP errors raise here), then yields typed
        events; the connection closes when the iterator ends, is closed, or is collected."""

    @abc.abstractmethod
    async def astream(self, body: dict[str, Any]) -> AsyncIterator[Any]:
        """A streaming call, async: awaiting sends the request; iterate the result."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections."""


_CACHE: dict[tuple[Any, ...], Backend] = {}
_CACHE_LOCK = threading.Lock()


def _backend_class(protocol: str) -> type[Backend]:
    # Imported on first use: each protocol module pulls in its own SDK or translator.
    if protocol == "openai":
        from anyllm.providers.openai import OpenAIBackend

        return OpenAIBackend
    if protocol == "openresponses":
        from anyllm.providers.openresponses import OpenResponsesBackend

        return OpenResponsesBackend
    if protocol == "chat":
        from anyllm.providers.chat import ChatBackend

        return ChatBackend
    if protocol == "anthropic":
        from anyllm.providers.anthropic import AnthropicBackend

        return AnthropicBackend
    if protocol == "gemini":
        from anyllm.providers.gemini import GeminiBackend

        return GeminiBackend
    raise AssertionError(f"no backend for protocol {protocol!r}")


def get_backend(config: ClientConfig) -> Backend:
    """The one backend for this configuration, built on first use."""
    key = config.cache_key()
    backend = _CACHE.get(key)
    if backend is not None:
        return backend
    with _CACHE_LOCK:
        backend = _CACHE.get(key)
        if backend is None:
            backend = _backend_class(config.metadata.protocol)(config)
            _CACHE[key] = backend
        return backend


def clear_backends() -> None:
    """Close and forget every cached backend (tests, or after fork)."""
    with _CACHE_LOCK:
        backends = list(_CACHE.values())
        _CACHE.clear()
    for backend in backends:
        backend.close()
