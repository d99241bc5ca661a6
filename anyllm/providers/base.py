"""What every protocol backend offers, and the configuration that identifies one.

A backend is one configured connection to a provider (metadata, base URL, key, client
arguments). Creating HTTP clients costs far more than a call against a local server, so
backends are built once per configuration and reused by every later call; the cache and
the choice of backend class per protocol live in :mod:`anyllm.providers.factory`.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from anyllm.providers.endpoint import BaseUrlOrigin
from anyllm.providers.registry import ProviderMetadata
from anyllm.request import ResponsesRequest

__all__ = ["DEFAULT_TIMEOUT", "Backend", "ClientConfig"]

DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything that identifies one client: equal configs share one backend."""

    metadata: ProviderMetadata
    base_url: str
    api_key: str | None = field(repr=False)  # never in a repr, a log line or a traceback
    client_args: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # Where base_url came from, for connection errors (anyllm.providers.endpoint); not identity.
    base_url_origin: BaseUrlOrigin = field(default="api_base", compare=False)

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
    """One provider protocol, configured. Requests in and results out are Responses-shaped."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config

    @property
    def provider(self) -> str:
        return self.config.metadata.name

    def wire_body(self, request: ResponsesRequest) -> dict[str, Any]:
        """The JSON body this backend sends for ``request`` (no network): the Responses body
        itself here; a translating backend overrides it with the provider's own shape."""
        return request.wire_body()

    @abc.abstractmethod
    def create(self, request: ResponsesRequest) -> Any:
        """One non-streaming call."""

    @abc.abstractmethod
    async def acreate(self, request: ResponsesRequest) -> Any:
        """One non-streaming call, async."""

    @abc.abstractmethod
    def stream(self, request: ResponsesRequest) -> Iterator[Any]:
        """A streaming call: sends the request now (HTTP errors raise here), then yields typed
        events; the connection closes when the iterator ends, is closed, or is collected."""

    @abc.abstractmethod
    async def astream(self, request: ResponsesRequest) -> AsyncIterator[Any]:
        """A streaming call, async: awaiting sends the request; iterate the result."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections and anything else opened (each async client on its loop)."""

    async def aclose(self) -> None:
        """:meth:`close`, awaiting the running event loop's async clients."""
        self.close()
