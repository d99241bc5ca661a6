"""Cassette secrets: scrubbing keys out of what is recorded, and finding any that are left.

A key can hide in headers, ``key=`` query values and bodies, raw, URL-quoted or base64
encoded: everything recorded is scrubbed before it is stored, and a cassette that still
holds the value of a provider key variable is refused (never written, never replayed).
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vcr.request import Request as VcrRequest

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "CassetteSecretError",
    "SecretLeakError",
    "SecretValues",
    "Secrets",
    "check_no_secrets",
    "provider_secrets",
    "scrub_request",
    "scrub_response",
    "secret_forms",
    "secret_found",
]

REDACTED = "<REDACTED>"
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization", "cookie", "set-cookie"}
)
SECRET_QUERY_PARAMS = frozenset({"key", "api_key", "api-key"})
# Values shorter than this are not scrubbed by value: replacing "x" everywhere would
# destroy the recording, and no real key is that short.
MIN_SECRET_LENGTH = 8


class SecretLeakError(RuntimeError):
    """A cassette would have held a secret: it was not written."""


class CassetteSecretError(SecretLeakError):
    """A cassette on disk holds the value of a live key: it is not replayed (nor changed)."""


class Secrets(dict[str, str]):
    """{variable name: value}; its repr names the variables only, so a traceback (pytest
    prints function arguments) can never show a key."""

    def __repr__(self) -> str:
        return f"<secrets of {', '.join(sorted(self)) or 'nothing'}>"

    def longest_first(self) -> SecretValues:
        return SecretValues(sorted(set(self.values()), key=len, reverse=True))


class SecretValues(tuple[str, ...]):
    """Secret values, hidden from repr for the same reason."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret values>"


def provider_secrets(extra: Iterable[str | None] = ()) -> Secrets:
    """{name: value} of every provider key variable set in the environment, plus ``extra``
    values (the configured key); short values are ignored (see MIN_SECRET_LENGTH)."""
    from anyllm.providers.registry import list_providers, provider_metadata

    found = Secrets()
    for name in list_providers():
        env = provider_metadata(name).api_key_env
        value = os.environ.get(env) if env else None
        if env and value and len(value) >= MIN_SECRET_LENGTH:
            found[env] = value
    for index, value in enumerate(extra):
        if value and len(value) >= MIN_SECRET_LENGTH and value not in found.values():
            found[f"configured key #{index + 1}"] = value
    return found


def secret_forms(value: str) -> list[str]:
    """The ways a key can appear in a serialized cassette: as is, URL-quoted, and base64 at
    each of the three byte alignments it can have inside a longer encoded body."""
    raw = value.encode("utf-8")
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    for pad in range(3):
        total = pad + len(raw)
        skip = (0, 2, 3)[pad]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\x00" * pad + raw).decode("ascii")[skip : (total // 3) * 4]
            if len(text) >= MIN_SECRET_LENGTH:
                forms.add(text)
    return sorted(forms)


def _replace_all(data: Any, secrets: Sequence[str]) -> Any:
    if isinstance(data, bytes):
        for secret in secrets:
            data = data.replace(secret.encode("utf-8"), REDACTED.encode("ascii"))
        return data
    if isinstance(data, str):
        for secret in secrets:
            data = data.replace(secret, REDACTED)
        return data
    return data


def _scrub_uri(uri: str, secrets: Sequence[str]) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.query:
        query = [
            (k, REDACTED if k.lower() in SECRET_QUERY_PARAMS else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urllib.parse.urlencode(query, safe="<>"))
    netloc = parts.netloc
    if "@" in netloc:  # user:password@host
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    return str(_replace_all(urllib.parse.urlunsplit(parts._replace(netloc=netloc)), secrets))


def scrub_request(request: VcrRequest, secrets: Sequence[str]) -> VcrRequest:
    """Secret headers redacted, ``key=`` query values redacted, secret values replaced in the body."""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
        else:
            request.headers[name] = _replace_all(request.headers[name], secrets)
    request.uri = _scrub_uri(request.uri, secrets)
    body = request.body
    if isinstance(body, bytes | str):
        request.body = _replace_all(body, secrets)
    return request


def scrub_response(response: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
        else:
            headers[name] = [_replace_all(v, secrets) for v in headers[name]]
    body = response.get("body") or {}
    if "string" in body:
        body["string"] = _replace_all(body["string"], secrets)
    return response


def secret_found(text: str, secrets: Mapping[str, str]) -> str | None:
    """The name of the first variable whose value is in text in any form (raw, URL-quoted,
    base64), or None. Never the value."""
    for name, value in secrets.items():
        if any(form in text for form in secret_forms(value)):
            return name
    return None


def check_no_secrets(text: str, secrets: Mapping[str, str], where: str) -> None:
    """Raise SecretLeakError naming the variable (never the value) if any form of a secret is in text."""
    name = secret_found(text, secrets)
    if name is not None:
        raise SecretLeakError(
            f"refusing to write cassette {where}: it still contains the value of {name} "
            "after scrubbing (possibly encoded); nothing was written"
        )
