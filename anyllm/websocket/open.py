"""``responses_websocket()`` and ``aresponses_websocket()``: check, resolve, build a session.

Everything that can be checked without the network is checked here, as ``responses()``
does: the model and provider, the key, the base URL, the client arguments. The session
modules (and ``websockets``) are imported only now, never by ``import anyllm``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anyllm.api import client_config, resolve_model
from anyllm.errors import InvalidRequestError, UnsupportedProviderError

if TYPE_CHECKING:
    from anyllm.providers.base import ClientConfig
    from anyllm.providers.registry import LLMProvider
    from anyllm.websocket.asession import AsyncResponsesWebSocket
    from anyllm.websocket.session import ResponsesWebSocket

__all__ = ["aresponses_websocket", "responses_websocket", "websocket_config"]

# A WebSocket session has no HTTP client, no retries (a turn is not idempotent) and no
# local store (continuation is the server's connection-local state): only these apply.
_SESSION_CLIENT_ARGS = frozenset({"timeout", "headers", "default_headers"})


def websocket_config(
    model: str,
    provider: str | LLMProvider | None,
    api_key: str | None,
    api_base: str | None,
    client_args: dict[str, Any] | None,
) -> tuple[ClientConfig, str]:
    """The checked configuration and bare model name of a session; raises before any
    network call for a provider without a native Responses endpoint or a bad argument."""
    meta, name = resolve_model(model, provider)
    if not meta.native_responses:
        raise UnsupportedProviderError(
            f"provider {meta.name!r} has no Responses WebSocket: it is reached by translation "
            f"(protocol {meta.protocol!r}); WebSocket sessions need a native Responses provider "
            "(protocol openresponses or openai). Use anyllm.responses(..., stream=True) instead",
            provider=meta.name,
            param="provider",
        )
    config = client_config(meta, api_key, api_base, client_args)
    for option in config.client_args:
        if option not in _SESSION_CLIENT_ARGS:
            raise InvalidRequestError(
                f"client_args[{option!r}] does not apply to a WebSocket session, which takes only "
                f"{', '.join(sorted(_SESSION_CLIENT_ARGS))}",
                param=f"client_args.{option}",
            )
    return config, name


def responses_websocket(
    model: str,
    *,
    provider: str | LLMProvider | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    client_args: dict[str, Any] | None = None,
) -> ResponsesWebSocket:
    """A Responses session over one WebSocket to ``{api_base}/responses`` (sync).

    Use it as a context manager (the handshake is made on entry, the connection closed on
    exit); ``session.create(input_data, **params)`` sends a turn. See :mod:`anyllm.websocket`.
    """
    from anyllm.websocket.session import ResponsesWebSocket

    config, name = websocket_config(model, provider, api_key, api_base, client_args)
    return ResponsesWebSocket(config, name)


def aresponses_websocket(
    model: str,
    *,
    provider: str | LLMProvider | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    client_args: dict[str, Any] | None = None,
) -> AsyncResponsesWebSocket:
    """``responses_websocket()`` for asyncio: ``async with anyllm.aresponses_websocket(...) as s``,
    then ``turn = await s.create(...)`` and ``async for event in turn``."""
    from anyllm.websocket.asession import AsyncResponsesWebSocket

    config, name = websocket_config(model, provider, api_key, api_base, client_args)
    return AsyncResponsesWebSocket(config, name)
