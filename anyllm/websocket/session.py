"""The sync WebSocket session (``anyllm.responses_websocket``), on ``websockets.sync``.

One thread drives one session: a turn is sent by ``create()`` and read by iterating the
:class:`Turn` it returns, each frame under the per-event deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, StreamError
from anyllm.websocket.core import SessionCore
from anyllm.websocket.frames import TurnState

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

__all__ = ["ResponsesWebSocket", "Turn"]


class Turn(Iterator[Any]):
    """One response on the session: iterate it for its typed events.

    It ends after its terminal event (``response.failed`` is yielded, then StreamError
    raised), or with the typed error of an ``error`` frame. ``response`` is the terminal
    event's response once it has arrived.
    """

    def __init__(self, session: ResponsesWebSocket, state: TurnState) -> None:
        self._session = session
        self._state = state
        self._failure: AnyLLMError | None = None

    def __iter__(self) -> Turn:
        return self

    def __next__(self) -> Any:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        if self._state.done:
            raise StopIteration
        event = self._session._next_event(self._state)
        self._failure = self._state.failure(event)
        return event

    @property
    def response(self) -> Any:
        """The terminal event's response (None until it arrives)."""
        return self._state.response

    @property
    def done(self) -> bool:
        return self._state.done

    def drain(self) -> Any:
        """Read the rest of the turn; the terminal response (raises as iterating would)."""
        for _ in self:
            pass
        return self._state.response


class ResponsesWebSocket(SessionCore):
    """A Responses session over one WebSocket connection (sync); see :mod:`anyllm.websocket`."""

    _ws: ClientConnection | None = None

    def open(self) -> ResponsesWebSocket:
        """Make the opening handshake (errors typed as for HTTP); ``with`` calls it."""
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        self._check_openable()
        try:
            self._ws = connect(self.url, **self._connect_options())
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise self._handshake_error(exc) from None
        self._opened()
        return self

    def __enter__(self) -> ResponsesWebSocket:
        return self.open()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent); a turn in flight is abandoned."""
        self._state = "closed"
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()

    def create(self, input_data: str | list[dict[str, Any]], **params: Any) -> Turn:
        """Send one ``response.create`` turn now; iterate the returned :class:`Turn`.

        ``params``: ``responses()``'s body parameters (checked the same way), not
        ``stream``, ``stream_options`` or ``background``. ``previous_response_id``:
        ``"auto"`` (default) continues from this session's last response, None starts a
        new chain, a string is sent as given.
        """
        from websockets.exceptions import ConnectionClosed

        state, text = self._begin(input_data, params)
        assert self._ws is not None
        try:
            self._ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise self._send_failed(state, exc) from None
        self._sent(text)
        return Turn(self, state)

    def _next_event(self, state: TurnState) -> Any:
        from websockets.exceptions import ConnectionClosed

        ws = self._ws
        if ws is None:
            state.done = True
            raise StreamError(
                f"the WebSocket session to {self.url} was closed before the turn ended",
                provider=self.provider,
            )
        try:
            raw = ws.recv(timeout=self.config.timeout)
        except TimeoutError:
            error = self._timed_out(state)
            self.close()
            raise error from None
        except (ConnectionClosed, OSError) as exc:
            state.done = True
            raise self._lost(exc, mid_turn=True) from None
        return self._received(state, raw)
