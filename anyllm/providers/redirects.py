"""Redirects stay on the origin the caller chose: the key never follows one elsewhere.

httpx2 (and so the openai SDK, whose client follows redirects) strips only
``Authorization`` when a redirect leaves the origin. Every other credential travels on:
Azure's ``api-key``, Anthropic's ``x-api-key``, Gemini's ``x-goog-api-key`` and any header
the caller put in ``client_args``, together with the conversation in the body. So every
client the library builds follows a redirect only within the origin of the request (or
from ``http`` to ``https`` on the same host and default ports, as httpx2 itself allows
for ``Authorization``) and refuses any other with a typed ProviderError, raised from a
response hook before the redirect request is built: nothing is sent to the new address.
A caller who trusts the new address sets ``api_base`` to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

from anyllm.errors import ProviderError

__all__ = ["REDIRECT_REFUSED", "async_redirect_policy", "redirect_policy"]

REDIRECT_REFUSED = "redirect_refused"
"""The ``code`` of the ProviderError raised for a redirect that leaves the origin."""


def _same_site(source: httpx2.URL, target: httpx2.URL) -> bool:
    """Same origin, or httpx2's own exception: http -> https on the same host, default ports."""
    if source.origin == target.origin:
        return True
    return (
        source.scheme == "http"
        and target.scheme == "https"
        and source.host == target.host
        and source.port in (None, 80)
        and target.port in (None, 443)
    )


def _origin(url: httpx2.URL) -> str:
    """``scheme://host[:port]`` only: a redirect target's path or query may carry a token."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _check(response: httpx2.Response, provider: str) -> None:
    if not response.has_redirect_location:
        return
    source = response.request.url
    try:
        target = source.join(response.headers["location"])
        allowed = bool(target.host) and _same_site(source, target)
        where = _origin(target) if target.host else repr(response.headers["location"][:100])
    except (httpx2.InvalidURL, ValueError):
        allowed, where = False, "an address that is not a valid URL"
    if allowed:
        return
    raise ProviderError(
        f"{provider} redirected the request (HTTP {response.status_code}) from {_origin(source)} to "
        f"{where}; redirects to another origin are not followed, so neither the key nor the request "
        "was sent there. If that address is trusted, pass it as api_base.",
        provider=provider,
        status_code=response.status_code,
        code=REDIRECT_REFUSED,
    )


def redirect_policy(provider: str) -> dict[str, Any]:
    """Keyword arguments for an ``httpx2.Client``: follow redirects within the origin only."""

    def hook(response: httpx2.Response) -> None:
        _check(response, provider)

    hooks: dict[str, list[Callable[..., Any]]] = {"response": [hook]}
    return {"follow_redirects": True, "event_hooks": hooks}


def async_redirect_policy(provider: str) -> dict[str, Any]:
    """:func:`redirect_policy` for an ``httpx2.AsyncClient`` (its hooks are awaited)."""

    async def hook(response: httpx2.Response) -> None:
        _check(response, provider)

    hooks: dict[str, list[Callable[..., Awaitable[None]]]] = {"response": [hook]}
    return {"follow_redirects": True, "event_hooks": hooks}
