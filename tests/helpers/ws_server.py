"""A TEST HELPER, not part of the library: a loopback OpenResponses server that follows the
spec's WebSocket and compaction sections (2026-04-24) exactly, with fault switches.

No real server here does both: LiteLLM's proxy accepts a WebSocket on ``/v1/responses`` and
closes it with 1011 on a ``ws://`` loopback URL, and every local server answers 404 on
``/responses/compact``. So the positive path is tested against this one, which is correct
by construction: its events come from the library's own spec-conformant stream builder
(``anyllm.translate.stream.ResponseStreamBuilder``, as ``tests.helpers.synth`` does), its
protocol from the spec's prose, quoted where it decides. It runs on uvicorn (a real HTTP
and WebSocket server, the ``websockets`` Sans-I/O stack underneath) with a bare ASGI app.

Served under any prefix (``base_url`` ends in ``/v1``):
- ``WebSocket .../responses``: "Clients MUST start each turn by sending a JSON object with
  ``type: "response.create"``"; ``stream``, ``stream_options``, ``background`` refused with
  a 400 envelope; events are the SSE event objects, one per text frame; turns are processed
  "sequentially" (a second ``response.create`` waits for the first to finish); the most
  recent response is kept "in connection-local memory"; ``store=true`` (or absent, as on
  OpenAI) responses are also persisted server-wide; "With ``store=false``, ... if the
  referenced response is not available from connection-local state, the server MUST fail
  the turn with an error whose code is ``previous_response_not_found``"; a failed
  continuation "MUST evict the referenced ``previous_response_id``".
- ``POST .../responses/compact``: a CompactResource: the user messages kept, the rest folded
  into one ``compaction`` item whose ``encrypted_content`` the server reads back when it is
  sent as input (base64 JSON here: a stand-in for real encryption).
- ``POST .../responses``: plain HTTP create (JSON, or SSE with ``stream: true``).

The reply text says what the server saw: ``"turn N: K items in context"`` (K counts the
continued context plus this turn's input), so a test can tell continuation worked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from anyllm.translate.common import new_id, usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = ["Connection", "Faults", "SpecWebSocketServer", "envelope"]

FORBIDDEN = ("stream", "stream_options", "background")

Send = Any
Receive = Any


def envelope(status: int, code: str, message: str, param: str | None = None, **extra: Any) -> dict[str, Any]:
    """The spec's WebSocket error envelope ("WebSocket Errors")."""
    return {
        "type": "error",
        "status": status,
        "error": {"code": code, "message": message, "param": param, **extra},
    }


@dataclass
class Faults:
    """Switches a test sets to make the server misbehave (all off: the spec, exactly)."""

    interleave: bool = False
    """Violate "at most one in-flight response": run every ``response.create`` at once; a
    turn pauses after its first two events until a second message has arrived (up to 5 s),
    so two creates sent back to back always interleave."""
    fail_next: list[dict[str, Any]] = field(default_factory=list)
    """Envelopes answering the next turns, one each, in order (instead of a response)."""
    connection_limit_turns: int | None = None
    """After this many turns on a connection, the next ``response.create`` gets
    ``websocket_connection_limit_reached`` and the connection is closed."""
    close_after_events: int | None = None
    """Close the connection (1011) after this many events of a turn."""
    stall_after_events: int | None = None
    """Send nothing more after this many events of a turn (the connection stays open)."""
    garbage_after_events: int | None = None
    """Send a frame that is not JSON after this many events of a turn."""
    fail_response: bool = False
    """End turns with an ``error`` event and ``response.failed`` (the SSE failure path)."""
    handshake_status: int | None = None
    """Refuse the WebSocket handshake with this HTTP status."""
    compaction: bool = True
    """False: ``/responses/compact`` answers 404, as every local server does."""
    event_delay: float = 0.0
    """Seconds between events, so a client can act while a response is in flight."""


@dataclass
class Connection:
    """One WebSocket connection as the server saw it."""

    path: str
    headers: dict[str, str]
    received: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    turns: int = 0
    cache: tuple[str, list[dict[str, Any]]] | None = None  # (response id, its whole context)
    closed_by_server: int | None = None


def _items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [dict(item) for item in value if isinstance(item, dict)]


def _expanded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items a compaction item stands for put back (what 'decrypting' it gives)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("type") == "compaction" and isinstance(item.get("encrypted_content"), str):
            out.extend(json.loads(base64.b64decode(item["encrypted_content"])))
        else:
            out.append(item)
    return out


def _unknown_call_output(message: dict[str, Any], context: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A ``function_call_output`` answering no ``function_call`` of the context: refused with a
    400 envelope, as OpenAI refuses it (the official test websocket-failed-continuation-evicts-cache
    relies on it to make a continuation fail)."""
    calls = {item.get("call_id") for item in context if item.get("type") == "function_call"}
    for item in _items(message.get("input")):
        if item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            return envelope(
                400,
                "invalid_request_error",
                f"No tool call found for function call output with call_id {item.get('call_id')!r}.",
                "input",
            )
    return None


class SpecWebSocketServer:
    """``with SpecWebSocketServer() as server:`` then ``api_base=server.base_url``."""

    def __init__(self, *, api_key: str | None = None, pieces: int = 3, reply_text: str | None = None) -> None:
        self.api_key = api_key
        self.pieces = pieces
        self.reply_text = reply_text  # set: every reply says this instead of the turn summary
        self.faults = Faults()
        self.connections: list[Connection] = []
        self.compactions: list[dict[str, Any]] = []
        self.stored: dict[str, list[dict[str, Any]]] = {}  # persisted (store=true) contexts by id
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
        # without it every frame after the first waits for a delayed ACK (about 40 ms).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self, lifespan="off", log_level="critical", ws="websockets-sansio", ws_ping_interval=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/responses"

    def __enter__(self) -> SpecWebSocketServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback WebSocket server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    def _authorized(self, headers: dict[str, str]) -> bool:
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    # -- HTTP --------------------------------------------------------------------------------

    @staticmethod
    async def _reply(send: Send, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        path = scope["path"].rstrip("/")
        if not self._authorized(headers):
            return await self._reply(
                send,
                401,
                {"error": {"code": "invalid_api_key", "message": "bad key", "type": "invalid_request_error"}},
            )
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except ValueError:
            body = None
        if scope["method"] == "POST" and path.endswith("/responses/compact"):
            if not self.faults.compaction:
                return await self._reply(
                    send, 404, {"error": {"code": "not_found", "message": "Not Found", "type": "not_found"}}
                )
            status, reply = self._compact(body)
            return await self._reply(send, status, reply)
        if scope["method"] == "POST" and path.endswith("/responses") and isinstance(body, dict):
            problem = (
                None
                if isinstance(body.get("model"), str)
                else envelope(400, "invalid_request_error", "model is required", "model")
            )
            if problem is not None:
                return await self._reply(send, 400, {"error": problem["error"]})
            events = self._events(body, self._context(body) or [], 0)
            if body.get("stream") is True:
                text = (
                    "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
                    + "data: [DONE]\n\n"
                )
                return await self._reply(send, 200, text.encode(), "text/event-stream")
            return await self._reply(send, 200, events[-1]["response"])
        await self._reply(
            send, 404, {"error": {"code": "not_found", "message": f"no route {path}", "type": "not_found"}}
        )

    def _compact(self, body: Any) -> tuple[int, dict[str, Any]]:
        """POST /responses/compact: "returns a compacted input window, not a response ID"."""
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return 400, {
                "error": {
                    "type": "invalid_request",  # ErrorPayload requires the type (spec: Errors)
                    "code": "invalid_request_error",
                    "message": "model is required",
                    "param": "model",
                }
            }
        self.compactions.append(body)
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self.stored:
            message = f"Previous response with id '{previous}' not found."
            return 400, {
                "error": {
                    "code": "previous_response_not_found",
                    "message": message,
                    "param": "previous_response_id",
                }
            }
        items = (self.stored.get(previous, []) if previous else []) + _expanded(_items(body.get("input")))
        kept, folded = [], []
        for item in items:
            is_user = item.get("type", "message") == "message" and item.get("role") == "user"
            (kept if is_user else folded).append(item)
        output: list[dict[str, Any]] = []
        for item in kept:
            content = item.get("content")
            parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
            output.append(
                {
                    "id": new_id("msg"),
                    "type": "message",
                    "status": "completed",
                    "role": "user",
                    "content": parts,
                }
            )
        encrypted = base64.b64encode(json.dumps(folded).encode()).decode()
        output.append({"id": new_id("cmp"), "type": "compaction", "encrypted_content": encrypted})
        resource = {
            "id": new_id("resp"),
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": output,
            "usage": usage_dict(len(items), 1),
        }
        return 200, resource

    # -- WebSocket ---------------------------------------------------------------------------

    async def _websocket(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        refuse = self.faults.handshake_status or (None if self._authorized(headers) else 401)
        if refuse is not None or not scope["path"].rstrip("/").endswith("/responses"):
            status = refuse or 404
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            body = {
                "error": {
                    "code": "refused",
                    "message": f"handshake refused with {status}",
                    "type": "invalid_request_error",
                }
            }
            await send({"type": "websocket.http.response.body", "body": json.dumps(body).encode()})
            return
        await send({"type": "websocket.accept"})
        conn = Connection(scope["path"], headers)
        self.connections.append(conn)
        lock = asyncio.Lock()
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def out(frame: dict[str, Any] | str) -> None:
            text = frame if isinstance(frame, str) else json.dumps(frame)
            async with lock:
                conn.sent.append(text)
                await send({"type": "websocket.send", "text": text})

        async def close(code: int, reason: str) -> None:
            conn.closed_by_server = code
            await send({"type": "websocket.close", "code": code, "reason": reason})

        async def worker() -> None:  # "they MUST process those messages sequentially"
            while (text := await queue.get()) is not None:
                if not await self._turn(conn, text, out, close):
                    return

        tasks: set[asyncio.Task[Any]] = set()
        runner = asyncio.create_task(worker())
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                conn.received.append(text)
                if self.faults.interleave:  # the fault: several responses in flight at once
                    task = asyncio.create_task(self._turn(conn, text, out, close))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                else:
                    queue.put_nowait(text)
        finally:
            queue.put_nowait(None)
            runner.cancel()
            for task in list(tasks):
                task.cancel()

    def _context(
        self, message: dict[str, Any], conn: Connection | None = None
    ) -> list[dict[str, Any]] | None:
        """The context ``previous_response_id`` names: connection-local first, then persisted;
        None when it cannot be found."""
        previous = message.get("previous_response_id")
        if previous is None:
            return []
        if conn is not None and conn.cache is not None and conn.cache[0] == previous:
            return list(conn.cache[1])
        if previous in self.stored:  # "With store=true, servers MAY hydrate older response IDs"
            return list(self.stored[previous])
        return None

    def _events(
        self, message: dict[str, Any], context: list[dict[str, Any]], turn: int
    ) -> list[dict[str, Any]]:
        request = {k: v for k, v in message.items() if k != "type"}
        items = context + _expanded(_items(request.get("input")))
        stored = request.get("store", True) is not False
        builder = ResponseStreamBuilder(request, model=str(request["model"]), stored=stored)
        events = builder.start()
        if self.faults.fail_response:
            return events + builder.fail("the loopback server failed this response on purpose")
        text = self.reply_text or f"turn {turn}: {len(items)} items in context"
        size = max(1, len(text) // self.pieces)
        for start in range(0, len(text), size):
            events += builder.text(text[start : start + size])
        builder.set_usage(usage_dict(len(items), len(text.split())))
        events += builder.complete()
        whole = items + [dict(item) for item in events[-1]["response"]["output"]]
        if stored:
            self.stored[events[-1]["response"]["id"]] = whole
        return events

    def _check(self, text: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the message, None) or (None, the 400 envelope saying what is wrong with it)."""
        try:
            message = json.loads(text)
        except ValueError:
            return None, envelope(400, "invalid_json", "the message is not JSON")
        if not isinstance(message, dict) or message.get("type") != "response.create":
            got = message.get("type") if isinstance(message, dict) else type(message).__name__
            return None, envelope(
                400, "invalid_request_error", f"expected type 'response.create', got {got!r}", "type"
            )
        for name in FORBIDDEN:
            if name in message:
                return None, envelope(
                    400, "invalid_request_error", f"'{name}' MUST NOT be sent on WebSocket requests", name
                )
        if not isinstance(message.get("model"), str):
            return None, envelope(400, "invalid_request_error", "model is required", "model")
        if not isinstance(message.get("input", []), str | list):
            return None, envelope(400, "invalid_request_error", "input must be a string or a list", "input")
        return message, None

    async def _turn(self, conn: Connection, text: str, out: Any, close: Any) -> bool:
        """Answer one message; False when the connection was closed."""
        faults = self.faults
        if faults.connection_limit_turns is not None and conn.turns >= faults.connection_limit_turns:
            await out(
                envelope(
                    400,
                    "websocket_connection_limit_reached",
                    "Responses websocket connection limit reached (60 minutes). "
                    "Create a new websocket connection to continue.",
                    type="invalid_request_error",
                )
            )
            await close(1000, "connection limit reached")
            return False
        conn.turns += 1
        message, problem = self._check(text)
        previous = message.get("previous_response_id") if message else None
        context = self._context(message, conn) if message else None
        if problem is None and context is None:
            problem = envelope(
                400,
                "previous_response_not_found",
                f"Previous response with id '{previous}' not found.",
                "previous_response_id",
            )
        if problem is None and message is not None and context is not None:
            problem = _unknown_call_output(message, context)
        if problem is None and faults.fail_next:
            problem = faults.fail_next.pop(0)
        if problem is not None:
            if previous is not None and conn.cache is not None and conn.cache[0] == previous:
                conn.cache = None  # "the server MUST evict the referenced previous_response_id"
            await out(problem)
            return True
        assert message is not None and context is not None
        events = self._events(message, context, conn.turns)
        for index, event in enumerate(events):
            if index == faults.close_after_events:
                await close(1011, "loopback fault: cut mid-turn")
                return False
            if index == faults.stall_after_events:
                await asyncio.sleep(3600)
            if index == faults.garbage_after_events:
                await out("this frame is not JSON")
            if faults.interleave:
                await asyncio.sleep(0)  # let the other turns in flight send between these events
                for _ in range(500 if index == 2 else 0):  # up to 5 s for a second message
                    if len(conn.received) >= 2:
                        break
                    await asyncio.sleep(0.01)
            if faults.event_delay:
                await asyncio.sleep(faults.event_delay)
            await out(event)
        final = events[-1]["response"]
        if final["status"] in ("completed", "incomplete"):
            whole = (
                context + _expanded(_items(message.get("input"))) + [dict(item) for item in final["output"]]
            )
            conn.cache = (final["id"], whole)  # the most recent response, connection-local
        return True
