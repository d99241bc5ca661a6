"""Where a call went, said in connection errors: the URL tried and what sets it.

"connection to llamacpp failed: Connection refused" leaves the user guessing which address
was tried and how to change it. Every connection error (and timeout) names the URL, where
that base URL came from (``api_base``, the provider's environment variable, or its
default) and how to point it elsewhere. A password or query string in the URL is masked:
error messages end up in logs and reports.
"""

from __future__ import annotations

import urllib.parse
from typing import Literal

from anyllm.providers.registry import ProviderMetadata

__all__ = ["BaseUrlOrigin", "endpoint_hint", "shown_url"]

BaseUrlOrigin = Literal["api_base", "environment", "default"]
"""Where the configuration's base URL came from."""

_API_BASE = "api_base=... (the pytest plugin's --api-base)"


def shown_url(url: str) -> str:
    """``url`` without what may be secret: the userinfo's password and the query's values."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<an unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(
        f"{name}=***" if sep else name
        for name, sep, _value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def endpoint_hint(meta: ProviderMetadata, url: str, origin: BaseUrlOrigin) -> str:
    """``tried URL, <where its base URL came from>; <how to change it>``."""
    variable = meta.base_url_env
    tried = f"tried {shown_url(url)}"
    if origin == "api_base":
        return f"{tried}, given as api_base (the pytest plugin's --api-base)"
    if origin == "environment" and variable:
        return f"{tried}, from the environment variable {variable} ({_API_BASE} overrides it)"
    how = f"set {variable} or pass {_API_BASE}" if variable else f"pass {_API_BASE}"
    return f"{tried}, {meta.name}'s default address; to use another server, {how}"
