"""One exception hierarchy for every provider.

Every HTTP failure of every provider maps onto these classes, keeping the provider's own
message, the status code and the request id, so callers catch one set of types whatever
the vendor. Bad arguments raise before any network call.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AnyLLMError",
    "AuthenticationError",
    "ContentFilterError",
    "InvalidRequestError",
    "MissingApiKeyError",
    "NotFoundError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "StreamError",
    "UnsupportedParameterError",
    "UnsupportedProviderError",
    "error_from_http",
    "parse_retry_after",
]


class AnyLLMError(Exception):
    """Base of every error this library raises."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        param: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.code = code
        self.param = param
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.provider:
            details.append(f"provider={self.provider}")
        if self.status_code is not None:
            details.append(f"status={self.status_code}")
        if self.code:
            details.append(f"code={self.code}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)


class InvalidRequestError(AnyLLMError, ValueError):
    """The request is malformed or semantically invalid (400, 409, 422, or caught locally)."""


class UnsupportedProviderError(InvalidRequestError):
    """The provider name is unknown; the message lists the valid ones."""


class UnsupportedParameterError(InvalidRequestError):
    """The target provider cannot express a parameter; nothing is dropped silently."""


class MissingApiKeyError(AnyLLMError):
    """No API key was passed and the provider's environment variable is unset."""

    def __init__(self, provider: str, env_var: str) -> None:
        super().__init__(
            f"No API key for provider {provider!r}: pass api_key=... "
            f"or set the environment variable {env_var}",
            provider=provider,
        )
        self.env_var = env_var


class AuthenticationError(AnyLLMError):
    """The key was rejected (401) or lacks permission (403)."""


class NotFoundError(AnyLLMError):
    """The model, endpoint or stored response does not exist (404)."""


class RateLimitError(AnyLLMError):
    """Throttled (429); ``retry_after`` holds the server's hint in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ContentFilterError(AnyLLMError):
    """The provider refused the input or output on content-policy grounds."""


class ProviderError(AnyLLMError):
    """The provider failed (5xx, or a reply the library cannot read)."""


class ProviderTimeoutError(ProviderError):
    """No answer within the configured timeout (also HTTP 408)."""


class ProviderConnectionError(ProviderError):
    """The connection could not be made or was cut."""


class StreamError(ProviderError):
    """A stream broke its protocol or ended in failure (response.failed, error event, truncation)."""


_CONTENT_FILTER_MARKERS = ("content_filter", "content_policy", "safety", "moderation", "responsible_ai")


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Read ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date) into seconds."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw.strip() else None
        if parsed is None:
            return None
        return max(parsed.timestamp() - time.time(), 0.0)


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "request-id", "x-goog-request-id", "apim-request-id", "cf-ray"):
        value = headers.get(name)
        if value:
            return value
    return None


def _error_fields(body: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """Pull (message, type, code, param) out of any provider's error body shape.

    Shapes seen on the wire: OpenAI/OpenResponses/Groq/llama.cpp ``{"error": {...}}``,
    Anthropic ``{"type": "error", "error": {"type", "message"}}``, Gemini
    ``{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message"}}``, Mistral
    ``{"object": "error", "message", "type", "code"}``, FastAPI ``{"detail": ...}``.
    """
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return None, None, None, None
    inner = body.get("error", body)
    if isinstance(inner, str):
        return inner, None, None, None
    if not isinstance(inner, dict):
        return None, None, None, None
    message = inner.get("message")
    if message is None and "detail" in inner:
        detail = inner["detail"]
        message = detail if isinstance(detail, str) else json.dumps(detail)
    kind = inner.get("type") or inner.get("status")
    code = inner.get("code")
    param = inner.get("param")
    return (
        str(message) if message is not None else None,
        str(kind) if kind is not None else None,
        str(code) if code is not None else None,
        str(param) if param is not None else None,
    )


def error_from_http(
    status_code: int,
    content: bytes | str,
    headers: Mapping[str, str],
    *,
    provider: str,
) -> AnyLLMError:
    """Map one HTTP error reply onto the hierarchy, keeping the provider's own words."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = text
    message, kind, code, param = _error_fields(body)
    if message is None:
        snippet = text.strip()[:300] if isinstance(text, str) else ""
        message = f"HTTP {status_code} from {provider}" + (f": {snippet}" if snippet else "")
    common: dict[str, Any] = {
        "provider": provider,
        "status_code": status_code,
        "request_id": _request_id(headers),
        "code": code or kind,
        "param": param,
        "body": body,
    }
    marker = f"{kind or ''} {code or ''}".lower()
    if any(m in marker for m in _CONTENT_FILTER_MARKERS):
        return ContentFilterError(message, **common)
    if status_code in (401, 403):
        return AuthenticationError(message, **common)
    if status_code == 404:
        return NotFoundError(message, **common)
    if status_code == 408:
        return ProviderTimeoutError(message, **common)
    if status_code == 429:
        return RateLimitError(message, retry_after=parse_retry_after(headers), **common)
    if 400 <= status_code < 500:
        return InvalidRequestError(message, **common)
    return ProviderError(message, **common)
