"""One exception hierarchy for every provider.

Every HTTP failure of every provider maps onto these classes, keeping the provider's own
message, the status code and the request id, so callers catch one set of types whatever
the vendor. Bad arguments raise before any network call.

The hierarchy (``ValueError`` is a second base of the request errors, so code that
catches ``ValueError`` around argument handling keeps working)::

    AnyLLMError
    ├── InvalidRequestError (ValueError)      caller's fault: fix the request
    │   ├── UnsupportedProviderError          unknown provider name
    │   ├── UnsupportedParameterError         provider cannot express a parameter
    │   └── ResponseInFlightError             WebSocket: a turn started while one is in flight
    ├── MissingApiKeyError                    no key passed, none in the environment
    ├── AuthenticationError                   401 / 403
    ├── NotFoundError                         404, or an unknown stored response id
    │   └── PreviousResponseNotFoundError     WebSocket error code previous_response_not_found
    ├── RateLimitError                        429 (``retry_after``)
    ├── ContentFilterError                    refused on content-policy grounds
    └── ProviderError                         provider's fault: 5xx, unreadable reply
        ├── ProviderTimeoutError              no answer in time, or 408
        ├── ProviderConnectionError           connection refused or cut
        │   └── WebSocketConnectionLimitReachedError   code websocket_connection_limit_reached
        └── StreamError                       stream broke its protocol or ended failed
"""

from __future__ import annotations

import email.utils
import json
import math
import re
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
    "PreviousResponseNotFoundError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ResponseInFlightError",
    "StreamError",
    "UnsupportedParameterError",
    "UnsupportedProviderError",
    "WebSocketConnectionLimitReachedError",
    "error_from_http",
    "parse_retry_after",
    "retry_after_from_body",
]


class AnyLLMError(Exception):
    """Base of every error this library raises; catch it to handle any anyllm failure.

    ``provider``, ``status_code``, ``request_id``, ``code``, ``param`` and the decoded error
    ``body`` are set where they are known, and ``str()`` shows them after the message.
    """

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
    """The request is malformed or semantically invalid.

    Raised before any network call by ``responses()``'s argument checks (``param`` names
    the argument), by ``anyllm.tools`` for a callable that cannot be described as a tool,
    and by the bridges for input they cannot read; raised after a call for an HTTP 400,
    409 or 422 (or any other 4xx without a class of its own).
    """


class UnsupportedProviderError(InvalidRequestError):
    """Raised by ``provider_metadata()`` and ``responses()`` when the provider name (or the
    ``provider:`` prefix of the model) is unknown; the message lists the valid ones."""


class UnsupportedParameterError(InvalidRequestError):
    """The target provider cannot express a parameter; nothing is dropped silently.

    Raised before any network call, by a translated provider's bridge (chat completions,
    Anthropic Messages, Gemini) for a request field, value or input item its protocol has
    no way to carry. ``param`` names it, and ``str()`` ends with what to do next.
    """

    def next_steps(self) -> str:
        """What the caller can do about it: the sentence ``str()`` ends with."""
        what = self.param or "the parameter"
        if what.startswith("input"):
            return (
                f"To go on: rewrite or leave out {what}, or send this input to a provider whose "
                "protocol can carry it."
            )
        return (
            f"To go on: drop {what}, pass the provider's own field through **kwargs if it accepts "
            f"one, or use a provider whose capabilities include {what} "
            "(see anyllm.provider_metadata())."
        )

    def __str__(self) -> str:
        return f"{super().__str__().rstrip('.')}. {self.next_steps()}"


class ResponseInFlightError(InvalidRequestError):
    """Raised by a WebSocket session's ``create()`` while its previous response is still in
    flight: the spec allows "at most one in-flight response" per connection. Nothing is
    sent; finish (or ``drain()``) the previous turn, or open another session."""


class MissingApiKeyError(AnyLLMError):
    """Raised by ``responses()`` before any network call when no API key was passed and the
    provider's environment variable (``env_var``) is unset."""

    def __init__(self, provider: str, env_var: str) -> None:
        super().__init__(
            f"No API key for provider {provider!r}: pass api_key=... "
            f"or set the environment variable {env_var}",
            provider=provider,
        )
        self.env_var = env_var


class AuthenticationError(AnyLLMError):
    """Raised when the provider rejects the key (HTTP 401) or denies permission (403)."""


class NotFoundError(AnyLLMError):
    """Raised when the model, endpoint or response does not exist: an HTTP 404, or a
    ``previous_response_id`` that the local response store does not hold."""


class PreviousResponseNotFoundError(NotFoundError):
    """Raised when a WebSocket turn fails with the spec's error code
    ``previous_response_not_found``: the server holds no state for ``previous_response_id``
    (with ``store=false`` only the connection-local state counts). Start a new chain
    (``previous_response_id=None``) with the full context, or the compacted window."""


class RateLimitError(AnyLLMError):
    """Raised on HTTP 429 (throttled); ``retry_after`` holds the server's hint in seconds,
    if it gave one (``retry-after-ms`` or ``retry-after``, else the error body's
    ``google.rpc.RetryInfo.retryDelay``: see :func:`retry_after_from_body`)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ContentFilterError(AnyLLMError):
    """Raised when the provider refuses the input or output on content-policy grounds: an
    error reply whose type or code says so (any status), or a Gemini reply blocked by safety."""


class ProviderError(AnyLLMError):
    """Raised when the provider fails: an HTTP 5xx, or a reply the library cannot read
    (not JSON, no choices, over the size bound)."""


class ProviderTimeoutError(ProviderError):
    """Raised when no answer comes within the configured timeout (``client_args``), when a
    stream stalls past it, and on HTTP 408."""


class ProviderConnectionError(ProviderError):
    """Raised when the connection cannot be made or is cut before a reply arrives."""


class WebSocketConnectionLimitReachedError(ProviderConnectionError):
    """Raised when the server ends a WebSocket session with the spec's error code
    ``websocket_connection_limit_reached`` (connections are limited to 60 minutes): open a
    new session and continue there; this one sends nothing more."""


class StreamError(ProviderError):
    """Raised while iterating a stream that breaks its protocol or ends in failure: a
    ``response.failed`` or ``error`` event (after it is yielded), an event that is not JSON,
    a cut connection, or an end without a terminal event."""


_CONTENT_FILTER_MARKERS = ("content_filter", "content_policy", "safety", "moderation", "responsible_ai")


def _seconds(raw: str | float, scale: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds from ``raw``, or None when it is not one."""
    try:
        value = float(raw) / scale
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Read ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date) into seconds.

    A value that is neither (``20s``, ``nan``, ``inf``, garbage) is no hint: None, never an
    exception, so a malformed header cannot turn a 429 into a crash or a ``sleep(nan)``.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        seconds = _seconds(raw_ms, 1000.0)
        if seconds is not None:
            return seconds
    raw = headers.get("retry-after")
    if not raw or not raw.strip():
        return None
    seconds = _seconds(raw)
    if seconds is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def retry_after_from_body(body: Any, _depth: int = 0) -> float | None:
    """The retry delay an error body carries, in seconds, or None.

    Google's APIs (Gemini, Vertex AI, Gemini's OpenAI-compatible endpoint, whose body is a
    list) send no ``Retry-After`` header on 429; the delay is in ``error.details[]`` as
    ``{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}``
    (a protobuf Duration: JSON string or ``{seconds, nanos}``). Gateways that pass an
    upstream error on as text (OpenRouter's ``error.metadata.raw``) are read too. No
    other protocol this library speaks puts a structured delay in its error bodies.
    """
    if _depth > 3:
        return None
    if isinstance(body, str) and body.lstrip().startswith(("{", "[")):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, list):
        body = body[0] if body else None
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return None
    for detail in inner.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = detail.get("retryDelay")
            if isinstance(delay, str) and (match := _DURATION.match(delay)):
                return _seconds(match.group(1))
            if isinstance(delay, dict):
                seconds, nanos = delay.get("seconds", 0), delay.get("nanos", 0)
                try:
                    return _seconds(float(seconds) + float(nanos) / 1e9)
                except (TypeError, ValueError):
                    return None
    metadata = inner.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("raw"), str):
        return retry_after_from_body(metadata["raw"], _depth + 1)
    return None


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
        retry_after = parse_retry_after(headers)
        if retry_after is None:
            retry_after = retry_after_from_body(body)
        return RateLimitError(message, retry_after=retry_after, **common)
    if 400 <= status_code < 500:
        return InvalidRequestError(message, **common)
    return ProviderError(message, **common)
