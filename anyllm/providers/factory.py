"""Which backend serves each wire protocol, and the cache that makes backends long-lived.

``get_backend`` builds the backend for a configuration once and hands the same one to
every later call. Each protocol's module is imported the first time the protocol is
used: each pulls in its own SDK or translations, which ``import anyllm`` must not pay for.
The translated protocols are one backend class driving different bridges; a bridge is
registered here by naming how to build it from a configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.registry import Protocol

__all__ = ["BACKEND_BUILDERS", "aclear_backends", "clear_backends", "get_backend"]


def _openai(config: ClientConfig) -> Backend:
    from anyllm.providers.openai import OpenAIBackend

    return OpenAIBackend(config)


def _openresponses(config: ClientConfig) -> Backend:
    from anyllm.providers.openresponses import OpenResponsesBackend

    return OpenResponsesBackend(config)


def _chat(config: ClientConfig) -> Backend:
    from anyllm.providers.translated import TranslatedBackend
    from anyllm.translate.chat import ChatBridge, dialect_for

    meta = config.metadata
    return TranslatedBackend(
        config, ChatBridge(dialect_for(meta.name, tools=meta.tools, images=meta.image_input))
    )


def _anthropic(config: ClientConfig) -> Backend:
    from anyllm.providers.translated import TranslatedBackend
    from anyllm.translate.anthropic import AnthropicBridge

    return TranslatedBackend(config, AnthropicBridge(config.base_url))


def _gemini(config: ClientConfig) -> Backend:
    from anyllm.providers.translated import TranslatedBackend
    from anyllm.translate.gemini import GeminiBridge

    return TranslatedBackend(config, GeminiBridge())


BACKEND_BUILDERS: dict[Protocol, Callable[[ClientConfig], Backend]] = {
    "openai": _openai,
    "openresponses": _openresponses,
    "chat": _chat,
    "anthropic": _anthropic,
    "gemini": _gemini,
}
"""Protocol -> how to build its backend for one configuration."""

_CACHE: dict[tuple[Any, ...], Backend] = {}
_CACHE_LOCK = threading.Lock()


def get_backend(config: ClientConfig) -> Backend:
    """The one backend for this configuration, built on first use."""
    key = config.cache_key()
    backend = _CACHE.get(key)
    if backend is not None:
        return backend
    with _CACHE_LOCK:
        backend = _CACHE.get(key)
        if backend is None:
            backend = BACKEND_BUILDERS[config.metadata.protocol](config)
            _CACHE[key] = backend
        return backend


def _take_backends() -> list[Backend]:
    with _CACHE_LOCK:
        backends = list(_CACHE.values())
        _CACHE.clear()
    return backends


def clear_backends() -> None:
    """Close and forget every cached backend (``anyllm.close()``, tests, after fork); the next
    call builds new ones. Every backend is closed even when one fails; the first failure is
    raised after."""
    failure: Exception | None = None
    for backend in _take_backends():
        try:
            backend.close()
        except Exception as exc:  # re-raised below, once all are closed
            failure = failure or exc
    if failure is not None:
        raise failure


async def aclear_backends() -> None:
    """:func:`clear_backends`, awaiting the running event loop's async clients
    (``anyllm.aclose()``)."""
    failure: Exception | None = None
    for backend in _take_backends():
        try:
            await backend.aclose()
        except Exception as exc:  # re-raised below, once all are closed
            failure = failure or exc
    if failure is not None:
        raise failure
