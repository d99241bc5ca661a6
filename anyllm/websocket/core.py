"""What the sync and async WebSocket sessions share: state, checks, and error mapping.

A session is one connection. It remembers the last response a turn completed (the
``previous_response_id`` an ``"auto"`` turn sends), refuses a turn while another is in
flight (spec: "A single WebSocket connection MUST process at most one in-flight response
at a time"), logs every frame, and turns every ``websockets`` failure into the typed error
HTTP would raise. The I/O itself is in :mod:`anyllm.websocket.session` (sync) and
:mod:`anyllm.websocket.asession` (async).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from anyllm.errors import (
    AnyLLMError,
    InvalidRequestError,
    ProviderConnectionError,
    ProviderTimeoutError,
    ResponseInFlightError,
    StreamError,
    WebSocketConnectionLimitReachedError,
    error_from_http,
)
from anyllm.websocket.frames import (
    Frame,
    FrameLog,
    TurnState,
    closed_error,
    create_message,
    handshake_headers,
    websocket_url,
)

if TYPE_CHECKING:
    from anyllm.providers.base import ClientConfig

__all__ = ["SessionCore"]

_MAX_CLOSE_WAIT = 10.0  # seconds to wait for the server's close frame when closing


class SessionCore:
    """The I/O-free half of a session over ``config`` for ``model``."""

    def __init__(self, config: ClientConfig, model: str) -> None:
        self.config = config
        self.model = model
        self.provider = config.metadata.name
        self.url = websocket_url(config.base_url)
        self._log = FrameLog()
        self._state: Literal["new", "open", "closed"] = "new"
        self._broken: AnyLLMError | None = None  # why the connection cannot be used any more
        self._turn: TurnState | None = None
        self._previous: str | None = None

    def __repr__(self) -> str:  # no key: it lives in config.api_key, which is repr=False
        return f"<{type(self).__name__} {self.provider} {self.url} {self._state}>"

    @property
    def frames(self) -> list[Frame]:
        """Every text frame of the connection so far, in order."""
        return list(self._log.frames)

    @property
    def previous_response_id(self) -> str | None:
        """What the next ``"auto"`` turn continues from: the last completed or incomplete
        response of this session (a failed turn leaves it unchanged)."""
        return self._previous

    @property
    def in_flight(self) -> bool:
        """Whether a turn has been sent and has not ended yet."""
        return self._turn is not None and not self._turn.done

    # -- the handshake ---------------------------------------------------------------------

    def _connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``websockets``' ``connect`` for this configuration."""
        from anyllm.providers.http import MAX_EVENT_BYTES

        options: dict[str, Any] = {
            "additional_headers": handshake_headers(self.config),
            "open_timeout": self.config.timeout,
            "close_timeout": min(self.config.timeout, _MAX_CLOSE_WAIT),
            "max_size": MAX_EVENT_BYTES,  # one event, as for SSE; websockets' default is 1 MiB
            "user_agent_header": "anyllm",
        }
        if self.url.startswith("wss://"):
            from anyllm.providers.http import shared_ssl_context

            options["ssl"] = shared_ssl_context()
        return options

    def _opened(self) -> None:
        """The handshake succeeded: frame times count from now."""
        self._state = "open"
        self._log = FrameLog()

    def _check_openable(self) -> None:
        if self._state == "open":
            raise InvalidRequestError(f"the WebSocket session to {self.url} is already open")
        if self._state == "closed":
            raise InvalidRequestError(f"the WebSocket session to {self.url} is closed; open a new one")

    def _handshake_error(self, exc: BaseException) -> AnyLLMError:
        """The typed error of a failed opening handshake."""
        from websockets.exceptions import InvalidStatus, InvalidURI

        self._state = "closed"
        if isinstance(exc, InvalidStatus):
            reply = exc.response
            body = bytes(reply.body or b"")
            return error_from_http(reply.status_code, body, reply.headers, provider=self.provider)
        if isinstance(exc, InvalidURI):
            return InvalidRequestError(f"{self.url} is not a WebSocket URL: {exc}", param="api_base")
        if isinstance(exc, TimeoutError):
            return ProviderTimeoutError(
                f"{self.provider} did not complete the WebSocket handshake at {self.url} within "
                f"{self.config.timeout:g} s",
                provider=self.provider,
            )
        return ProviderConnectionError(
            f"WebSocket connection to {self.provider} at {self.url} failed: {exc or type(exc).__name__}",
            provider=self.provider,
        )

    # -- turns -----------------------------------------------------------------------------

    def _begin(self, input_data: Any, params: dict[str, Any]) -> tuple[TurnState, str]:
        """The checked ``response.create`` text of a new turn, and its state; raises (nothing
        sent) for bad arguments, a turn in flight, or a session that cannot send."""
        if self._state == "new":
            raise InvalidRequestError(
                "the WebSocket session is not open: use it as a context manager (with / async with) "
                "or call open() first"
            )
        if self._broken is not None:
            raise ProviderConnectionError(
                f"the WebSocket session to {self.url} cannot send: {self._broken.message}",
                provider=self.provider,
            ) from self._broken
        if self._state == "closed":
            raise InvalidRequestError(f"the WebSocket session to {self.url} is closed; open a new one")
        if self.in_flight:
            raise ResponseInFlightError(
                f"a response is still in flight on this WebSocket (turn of {self._turn_count()} "
                "frames so far): the spec allows at most one per connection. Iterate the previous "
                "turn to its end (or call its drain()) first, or open another session for parallel runs",
                provider=self.provider,
            )
        message = create_message(
            self.model,
            input_data,
            params,
            provider=self.provider,
            spec_only=self.config.metadata.protocol == "openresponses",
            previous=self._previous,
        )
        from anyllm.providers.http import dumps

        text = dumps(message).decode("utf-8")
        state = TurnState(self.provider, self.config.metadata.protocol)
        self._turn = state
        return state, text

    def _turn_count(self) -> int:
        return self._turn.index if self._turn is not None else 0

    def _sent(self, text: str) -> None:
        self._log.add("send", text)

    def _received(self, state: TurnState, raw: str | bytes) -> Any:
        """Log one server frame and type it; the turn's end updates the continuation."""
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        self._log.add("recv", text)
        try:
            event = state.read(raw)
        except WebSocketConnectionLimitReachedError as exc:
            self._broken = exc  # the server is done with this connection: open a new one
            raise
        if state.done:
            self._previous = state.continues_from() or self._previous
        return event

    def _send_failed(self, state: TurnState, exc: BaseException) -> AnyLLMError:
        state.done = True
        return self._lost(exc, mid_turn=False)

    def _timed_out(self, state: TurnState) -> AnyLLMError:
        """No event within the deadline: the turn cannot be resumed on this connection (its
        response may still be running server-side), so the connection is given up."""
        state.done = True
        error = ProviderTimeoutError(
            f"{self.provider} sent no WebSocket event within {self.config.timeout:g} s "
            f"(after {state.index} frames of this turn); the connection is closed",
            provider=self.provider,
        )
        self._broken = error
        return error

    def _lost(self, exc: BaseException, *, mid_turn: bool) -> AnyLLMError:
        """The typed error of a ``websockets`` ConnectionClosed (or an OSError under it)."""
        from websockets.exceptions import ConnectionClosed

        from anyllm.providers.http import MAX_EVENT_BYTES

        code: int | None = None
        reason = ""
        if isinstance(exc, ConnectionClosed):
            sent = exc.sent
            if sent is not None and sent.code == 1009:  # we refused an over-long frame
                error: AnyLLMError = StreamError(
                    f"{self.provider} sent a WebSocket frame larger than {MAX_EVENT_BYTES} bytes; "
                    "refused and the connection closed",
                    provider=self.provider,
                )
                self._broken = error
                return error
            if exc.rcvd is not None:
                code, reason = exc.rcvd.code, exc.rcvd.reason
        else:  # an OSError under the connection: no close frame, its own words
            reason = str(exc) or type(exc).__name__
        error = closed_error(self.provider, code, reason, mid_turn=mid_turn)
        self._broken = error
        return error
