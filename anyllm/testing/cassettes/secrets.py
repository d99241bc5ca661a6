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

from anyllm.testing.cassettes.body_secrets import scrub_json_text, scrub_sse_text

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
    # OpenAI's account identifiers: the SDK sends them from OPENAI_ORG_ID / OPENAI_PROJECT_ID
    # and OpenAI echoes them in its replies. Not keys, but they name the recording's account.
    | {"openai-organization", "openai-project"}
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


def _all_forms(secrets: Sequence[str]) -> list[str]:
    """Every form of every secret (raw, URL-quoted, base64), longest first."""
    return sorted({form for secret in secrets for form in secret_forms(secret)}, key=len, reverse=True)


def _scrub_body(body: Any, forms: Sequence[str], *, sse: bool) -> Any:
    """Forms replaced in the bytes, then inside the decoded JSON (escaped keys) or SSE events
    (keys split across deltas): see :mod:`.body_secrets`."""
    body = _replace_all(body, forms)
    if not forms or not isinstance(body, bytes | str):
        return body
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        return body
    scrubbed = scrub_sse_text(text, forms) if sse else scrub_json_text(text, forms)
    if scrubbed == text:
        return body
    return scrubbed.encode("utf-8") if isinstance(body, bytes) else scrubbed


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
    """Secret headers redacted, ``key=`` query values redacted, every form of a secret value
    replaced in the other headers and the body (escaped JSON included)."""
    forms = _all_forms(secrets)
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
        else:
            request.headers[name] = _replace_all(request.headers[name], forms)
    request.uri = _scrub_uri(request.uri, forms)
    body = request.body
    if isinstance(body, bytes | str):
        request.body = _scrub_body(body, forms, sse=False)
    return request


def scrub_response(response: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    """Secret headers redacted; every form of a secret value replaced in the other headers
    and the body: escaped inside JSON, and split across the deltas of an SSE stream too.
    Content-Length follows a body that changed."""
    forms = _all_forms(secrets)
    headers = response.get("headers") or {}
    sse = False
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
        else:
            headers[name] = [_replace_all(v, forms) for v in headers[name]]
        if name.lower() == "content-type":
            sse = any("event-stream" in str(v) for v in headers[name])
    body = response.get("body") or {}
    if "string" in body:
        before = body["string"]
        body["string"] = _scrub_body(before, forms, sse=sse)
        if body["string"] != before:
            for name in list(headers):
                if name.lower() == "content-length":
                    headers[name] = [str(len(_as_bytes(body["string"])))]
    return response


def _as_bytes(data: Any) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


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
