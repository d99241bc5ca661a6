"""The async WebSocket session (``anyllm.aresponses_websocket``), on ``websockets.asyncio``.

``await session.create(...)`` sends the turn; iterate the :class:`AsyncTurn` it returns
with ``async for``, each frame under the per-event deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError, StreamError
from anyllm.websocket.core import SessionCore
from anyllm.websocket.frames import TurnState

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

__all__ = ["AsyncResponsesWebSocket", "AsyncTurn"]


class AsyncTurn(AsyncIterator[Any]):
    """One response on the session: ``async for`` its typed events (see ``Turn``)."""

    def __init__(self, session: AsyncResponsesWebSocket, state: TurnState) -> None:
        self._session = session
        self._state = state
        self._failure: AnyLLMError | None = None

    def __aiter__(self) -> AsyncTurn:
        return self

    async def __anext__(self) -> Any:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        if self._state.done:
            raise StopAsyncIteration
        event = await self._session._next_event(self._state)
        self._failure = self._state.failure(event)
        return event

    @property
    def response(self) -> Any:
        """The terminal event's response (None until it arrives)."""
        return self._state.response

    @property
    def done(self) -> bool:
        return self._state.done

    async def drain(self) -> Any:
        """Read the rest of the turn; the terminal response (raises as iterating would)."""
        async for _ in self:
            pass
        return self._state.response


class AsyncResponsesWebSocket(SessionCore):
    """A Responses session over one WebSocket connection (async); see :mod:`anyllm.websocket`."""

    _ws: ClientConnection | None = None

    async def open(self) -> AsyncResponsesWebSocket:
        """Make the opening handshake (errors typed as for HTTP); ``async with`` calls it."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        self._check_openable()
        try:
            self._ws = await connect(self.url, **self._connect_options())
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise self._handshake_error(exc) from None
        self._opened()
        return self

    async def __aenter__(self) -> AsyncResponsesWebSocket:
        return await self.open()

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection (idempotent); a turn in flight is abandoned."""
        self._state = "closed"
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    async def create(self, input_data: str | list[dict[str, Any]], **params: Any) -> AsyncTurn:
        """Send one ``response.create`` turn; ``async for`` the returned :class:`AsyncTurn`.
        Arguments as for the sync session's ``create()``."""
        from websockets.exceptions import ConnectionClosed

        state, text = self._begin(input_data, params)
        assert self._ws is not None
        try:
            await self._ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise self._send_failed(state, exc) from None
        self._sent(text)
        return AsyncTurn(self, state)

    async def _next_event(self, state: TurnState) -> Any:
        from websockets.exceptions import ConnectionClosed

        ws = self._ws
        if ws is None:
            state.done = True
            raise StreamError(
                f"the WebSocket session to {self.url} was closed before the turn ended",
                provider=self.provider,
            )
        try:
            async with asyncio.timeout(self.config.timeout):
                raw = await ws.recv()
        except TimeoutError:
            error = self._timed_out(state)
            await self.close()
            raise error from None
        except (ConnectionClosed, OSError) as exc:
            state.done = True
            raise self._lost(exc, mid_turn=True) from None
        return self._received(state, raw)
