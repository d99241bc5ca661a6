"""What travels on a Responses WebSocket, apart from the I/O that carries it.

The sync and async sessions share everything here: the URL and headers of the handshake,
the ``response.create`` message (built with ``responses()``'s own checks, the spec's
forbidden fields refused), the typed reading of each server frame, and the state of one
turn (its terminal event, its failure). Nothing here touches the network or imports
``websockets``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from anyllm.api import build_request
from anyllm.errors import (
    AnyLLMError,
    InvalidRequestError,
    PreviousResponseNotFoundError,
    ProviderConnectionError,
    StreamError,
    WebSocketConnectionLimitReachedError,
    error_from_http,
)
from anyllm.params import PARAMS, check_argument, check_native_limits
from anyllm.spec import TERMINAL_EVENT_STATUS

if TYPE_CHECKING:
    from anyllm.providers.base import ClientConfig

__all__ = [
    "AUTO",
    "FORBIDDEN_FIELDS",
    "Frame",
    "FrameLog",
    "TurnState",
    "closed_error",
    "create_message",
    "error_from_envelope",
    "handshake_headers",
    "websocket_url",
]

FORBIDDEN_FIELDS: Final = ("stream", "stream_options", "background")
"""Spec "WebSocket Transport": "HTTP/SSE transport-specific fields such as ``stream``,
``stream_options``, and ``background`` MUST NOT be sent on WebSocket requests"."""

AUTO: Final = "auto"
"""``previous_response_id="auto"``: continue from the session's last completed response."""

_SESSION_FIELDS: Final = ("type", "model", "input")  # set by the session, never by a keyword


@dataclass(frozen=True, slots=True)
class Frame:
    """One text frame: ``"send"`` (client to server) or ``"recv"``, ``at`` seconds after
    the connection opened, and the text as it travelled."""

    direction: Literal["send", "recv"]
    at: float
    text: str


@dataclass(slots=True)
class FrameLog:
    """Every frame of one connection, in order (what a recorder needs)."""

    started: float = field(default_factory=time.monotonic)
    frames: list[Frame] = field(default_factory=list)

    def add(self, direction: Literal["send", "recv"], text: str) -> None:
        self.frames.append(Frame(direction, round(time.monotonic() - self.started, 6), text))


def websocket_url(base_url: str) -> str:
    """``{base_url}/responses`` as a WebSocket URL: the spec serves WebSocket "at the same
    ``/v1/responses`` resource" (``http`` -> ``ws``, ``https`` -> ``wss``)."""
    scheme, sep, rest = base_url.rstrip("/").partition("://")
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if not sep or scheme.lower() not in schemes:
        raise InvalidRequestError(
            f"api_base {base_url!r} cannot carry a WebSocket: it needs an http(s):// or ws(s):// URL",
            param="api_base",
        )
    return f"{schemes[scheme.lower()]}://{rest}/responses"


def handshake_headers(config: ClientConfig) -> dict[str, str]:
    """The provider's own auth header (bearer, ``api-key``, ...) and the caller's headers."""
    key = config.api_key
    headers: dict[str, str] = {}
    style = config.metadata.auth
    if key and style == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    elif key and style != "none":
        headers[style] = key
    given = {name.lower() for name in config.extra_headers}
    headers = {name: value for name, value in headers.items() if name.lower() not in given}
    headers.update(config.extra_headers)
    return headers


def create_message(
    model: str,
    input_data: Any,
    params: Mapping[str, Any],
    *,
    provider: str,
    spec_only: bool,
    previous: str | None,
) -> dict[str, Any]:
    """The ``response.create`` message of one turn, checked as ``responses()`` checks its
    arguments (InvalidRequestError naming the argument, before anything is sent).

    ``params`` are ``responses()``'s keyword arguments; the names it does not know go into
    the body as given, like its ``**kwargs``. ``previous`` is what ``"auto"`` stands for.
    """
    for name in FORBIDDEN_FIELDS:
        if params.get(name) is not None:
            raise InvalidRequestError(
                f"{name} cannot be sent on a WebSocket: the spec forbids the HTTP/SSE transport "
                f"fields {', '.join(FORBIDDEN_FIELDS)} there (every WebSocket turn streams)",
                param=name,
            )
    for name in _SESSION_FIELDS:
        if name in params:
            what = "the session's model" if name == "model" else f"set by the session ({name})"
            raise InvalidRequestError(f"{name!r} cannot be passed to create(): it is {what}", param=name)
    checked = {name: value for name, value in params.items() if name in PARAMS}
    extra = {name: value for name, value in params.items() if name not in PARAMS}
    chain = checked.pop("previous_response_id", AUTO)
    if chain == AUTO:
        chain = previous
    check_argument("previous_response_id", chain)
    body = build_request(model, input_data, checked, extra)
    if chain is not None:
        body["previous_response_id"] = chain
    check_native_limits(body, provider=provider, spec_only=spec_only)
    return {"type": "response.create", **body}


def error_from_envelope(envelope: Mapping[str, Any], provider: str) -> AnyLLMError:
    """The typed error of a WebSocket ``error`` frame (spec "WebSocket Errors": "a JSON
    ``error`` envelope with a ``status`` code and an ``error.code``").

    The two codes the spec names have classes of their own; any other is mapped by its
    status as an HTTP error would be. ``body`` is the envelope. A frame without a status
    (an SSE-style ``error`` event) is a StreamError.
    """
    status = envelope.get("status")
    inner = envelope.get("error")
    inner = inner if isinstance(inner, Mapping) else {}
    code = inner.get("code")
    message = str(inner.get("message") or f"{provider} sent a WebSocket error frame")
    param = inner.get("param")
    common: dict[str, Any] = {
        "provider": provider,
        "status_code": status if isinstance(status, int) and not isinstance(status, bool) else None,
        "code": str(code) if code is not None else None,
        "param": str(param) if param is not None else None,
        "body": dict(envelope),
    }
    if code == "previous_response_not_found":
        return PreviousResponseNotFoundError(message, **common)
    if code == "websocket_connection_limit_reached":
        return WebSocketConnectionLimitReachedError(message, **common)
    if common["status_code"] is None:
        return StreamError(message, **common)
    error = error_from_http(common["status_code"], json.dumps(dict(envelope)), {}, provider=provider)
    error.body = dict(envelope)
    return error


def closed_error(provider: str, code: int | None, reason: str, *, mid_turn: bool) -> AnyLLMError:
    """The connection closed: mid-turn a StreamError (the stream was cut), between turns a
    ProviderConnectionError (open a new session)."""
    how = f"close code {code}" if code is not None else "no close frame"
    why = f", reason {reason!r}" if reason else ""
    if mid_turn:
        return StreamError(
            f"{provider} closed the WebSocket before the turn's terminal event ({how}{why})",
            provider=provider,
        )
    return ProviderConnectionError(
        f"{provider}'s WebSocket is closed ({how}{why}); open a new session", provider=provider
    )


def _typed_event(decoded: dict[str, Any], text: str, protocol: str, provider: str, position: int) -> Any:
    """The event as HTTP streaming types it for this protocol."""
    if protocol == "openai":
        from openai._models import construct_type_unchecked  # what the SDK's own streams use
        from openai.types.responses import ResponseStreamEvent

        return construct_type_unchecked(value=decoded, type_=cast(Any, ResponseStreamEvent))
    from pydantic import ValidationError

    from anyllm.types import event_from_json

    try:
        return event_from_json(text)
    except (ValueError, ValidationError) as exc:
        raise StreamError(
            f"{provider} sent WebSocket frame #{position} that is not a valid event: "
            f"{str(exc).splitlines()[0]}; it starts {text[:120]!r}",
            provider=provider,
        ) from exc


class TurnState:
    """One turn: reads its frames, knows when it ended and how."""

    __slots__ = ("done", "index", "protocol", "provider", "response", "stream_error")

    def __init__(self, provider: str, protocol: str) -> None:
        self.provider = provider
        self.protocol = protocol
        self.index = 0
        self.done = False
        self.response: Any = None
        self.stream_error: AnyLLMError | None = None  # an SSE-style error event seen in the turn

    def read(self, raw: str | bytes) -> Any:
        """The typed event of one frame. Raises the typed error of an ``error`` envelope, and
        StreamError for a frame that is not a JSON event; either ends the turn.

        An ``error`` frame with a ``sequence_number`` and no ``status`` is the SSE ``error``
        event sent on the WebSocket ("the same streaming event objects"): it is yielded, and
        the turn goes on to its ``response.failed``, as over HTTP."""
        position = self.index
        self.index += 1
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            decoded = json.loads(text)
        except ValueError as exc:
            self.done = True
            raise StreamError(
                f"{self.provider} sent WebSocket frame #{position} that is not JSON: {raw[:120]!r}",
                provider=self.provider,
            ) from exc
        if not isinstance(decoded, dict) or not isinstance(decoded.get("type"), str):
            self.done = True
            raise StreamError(
                f"{self.provider} sent WebSocket frame #{position} without a string 'type': {text[:120]!r}",
                provider=self.provider,
            )
        if decoded["type"] == "error" and ("status" in decoded or "sequence_number" not in decoded):
            self.done = True  # the WebSocket error envelope: the turn failed
            raise error_from_envelope(decoded, self.provider)
        try:
            event = _typed_event(decoded, text, self.protocol, self.provider, position)
        except StreamError:
            self.done = True
            raise
        if decoded["type"] == "error" and self.stream_error is None:  # an SSE-style error event
            self.stream_error = error_from_envelope({**decoded, "status": None}, self.provider)
        if decoded["type"] in TERMINAL_EVENT_STATUS:
            self.done = True
            self.response = getattr(event, "response", None)
        return event

    def failure(self, event: Any) -> AnyLLMError | None:
        """The error a ``response.failed`` terminal event stands for (raised after it is
        yielded, as HTTP streaming does: the turn's ``error`` event's, else a StreamError
        with the response's error), else None."""
        if getattr(event, "type", None) != "response.failed":
            return None
        if self.stream_error is not None:
            return self.stream_error
        error = getattr(getattr(event, "response", None), "error", None)
        return StreamError(
            str(getattr(error, "message", None) or "the response failed"),
            provider=self.provider,
            code=getattr(error, "code", None),
        )

    def continues_from(self) -> str | None:
        """The id a next ``"auto"`` turn continues from: a completed or incomplete response's."""
        response = self.response
        status = getattr(response, "status", None)
        status = getattr(status, "value", status)
        if response is not None and status in ("completed", "incomplete"):
            return str(response.id)
        return None
