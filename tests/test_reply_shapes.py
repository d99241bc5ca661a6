"""Issue 13 items 10 and 11: a success status with a body that is not the protocol's reply
ends in a typed error, on every protocol, never a raw exception or a ``str``/``None`` result.

Item 10: non-JSON, empty or invalid-UTF-8 200 bodies used to raise ``JSONDecodeError`` /
``UnicodeDecodeError`` on the openresponses path; on the openai path ``text/html``, ``null``,
wrong-shaped JSON and 201/204 came back as a ``str``, ``None`` or a ``Response`` with
``status=None``. The spec decides what a reply is: "When not streaming, servers MUST return
data only as ``application/json``" (specification, HTTP responses), a ResponseResource
whose ``id``, ``object``, ``status`` and ``output`` are required.

Item 11: wrong JSON types inside an otherwise valid reply (Gemini ``"candidates": 3``,
an Anthropic SSE ``"index": "x"``) raised ``TypeError`` / ``ValueError``. Beyond the two
reported cases, a sweep replaces every member of each protocol's doc-derived reply and
stream events (``tests/helpers/faults.WIRES``) with values of the wrong type, serves each
from a real loopback server, and requires that nothing but an ``anyllm.errors`` exception
ever escapes.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

import anyllm
from anyllm.errors import AnyLLMError, ProviderError, StreamError
from tests.helpers.faults import WIRES, FaultServer, Wire, reply
from tests.helpers.loopback import LoopbackServer, Reply

PROTOCOLS = list(WIRES)


def _kwargs(wire: Wire, url: str, stream: bool) -> dict[str, Any]:
    return {
        "provider": wire.provider,
        "api_base": url + wire.base_path,
        "api_key": "shape-key",
        "stream": stream,
        "client_args": {"timeout": 5},
    }


def _run(wire: Wire, url: str, *, stream: bool, mode: str = "sync") -> tuple[Any, BaseException | None]:
    """One call, the whole result read: (result, or the events received before any
    exception; the exception it raised)."""
    events: list[Any] = []

    async def run_async() -> Any:
        result = await anyllm.aresponses("m", "hi", **_kwargs(wire, url, stream))
        if not stream:
            return result
        async for event in result:
            events.append(event)
        return events

    try:
        if mode == "async":
            return asyncio.run(run_async()), None
        result = anyllm.responses("m", "hi", **_kwargs(wire, url, stream))
        if not stream:
            return result, None
        events.extend(result)
        return events, None
    except Exception as exc:
        return (events if stream else None), exc


# -- item 10: a success status whose body is not a reply ------------------------------------------

# (id, status, content-type, body)
NOT_A_REPLY = [
    ("empty", 200, "application/json", b""),
    ("html", 200, "text/html", b"<html><body>Service temporarily unavailable</body></html>"),
    ("invalid-utf8", 200, "application/json", b'{"id": "\xff\xfe\xfa"}'),
    ("truncated-json", 200, "application/json", b'{"id": "resp_1", "object": "resp'),
    ("null", 200, "application/json", b"null"),
    ("list", 200, "application/json", b"[]"),
    ("string", 200, "application/json", b'"a string"'),
    ("number", 200, "application/json", b"42"),
    ("wrong-shape", 200, "application/json", b'{"foo": 1}'),
    ("wrong-types", 200, "application/json", b'{"id": 5, "object": "response", "status": 3, "output": "x"}'),
    ("no-status", 200, "application/json", b'{"id": "resp_1", "object": "response", "output": []}'),
    ("201-empty", 201, "application/json", b""),
    ("204", 204, "application/json", b""),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("status", "content_type", "body"), [c[1:] for c in NOT_A_REPLY], ids=[c[0] for c in NOT_A_REPLY]
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_success_status_without_a_reply_is_a_provider_error(
    protocol: str, status: int, content_type: str, body: bytes, mode: str
) -> None:
    wire = WIRES[protocol]
    with FaultServer(reply(status, body, {"content-type": content_type})) as server:
        result, error = _run(wire, server.url, stream=False, mode=mode)
    assert error is not None, f"returned {result!r}"
    assert isinstance(error, ProviderError), repr(error)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body", [b"", b"<html>oops</html>", b"null", b'{"foo": 1}'], ids=["empty", "html", "null", "shape"]
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_stream_request_answered_without_a_stream_is_a_typed_error(protocol: str, body: bytes) -> None:
    wire = WIRES[protocol]
    with FaultServer(reply(200, body, {"content-type": "application/json"})) as server:
        events, error = _run(wire, server.url, stream=True)
    assert isinstance(error, AnyLLMError), f"{error!r} after {events!r}"


# -- item 11: the two reported shapes ---------------------------------------------------------------


def _sse_reply(frames: list[bytes]) -> Reply:
    return Reply(200, b"", {"content-type": "text/event-stream"}, chunks=frames)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "candidates", [3, "x", {"a": 1}, [3], [None], [{"content": 3}], [{"content": {"parts": 3}}]]
)
def test_gemini_candidates_of_the_wrong_type(candidates: Any, mode: str) -> None:
    wire = WIRES["gemini"]
    body = {**wire.reply, "candidates": candidates}
    with LoopbackServer(Reply.json(body)) as server:
        _, error = _run(wire, server.url, stream=False, mode=mode)
    assert isinstance(error, ProviderError), repr(error)
    frame = f"data: {json.dumps(body)}\r\n\r\n".encode()
    with LoopbackServer(_sse_reply([frame])) as server:
        _, error = _run(wire, server.url, stream=True, mode=mode)
    assert isinstance(error, StreamError | ProviderError), repr(error)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("event_type", ["content_block_start", "content_block_delta", "content_block_stop"])
@pytest.mark.parametrize("index", ["x", None, 1.5, [0], {"i": 0}, -1, 10**30])
def test_anthropic_block_index_of_the_wrong_type(index: Any, event_type: str, mode: str) -> None:
    wire = WIRES["anthropic"]
    frames = []
    for frame in wire.frames:
        head, _, data = frame.decode().partition("data: ")
        event = json.loads(data)
        if event["type"] == event_type:
            event["index"] = index
        frames.append(f"{head}data: {json.dumps(event)}\n\n".encode())
    with LoopbackServer(_sse_reply(frames)) as server:
        events, error = _run(wire, server.url, stream=True, mode=mode)
    if error is None:  # a block index the translator can use as given is not an error
        assert events and events[-1].type == "response.completed"
        return
    assert isinstance(error, StreamError | ProviderError), repr(error)
    assert events and events[-1].type == "response.failed"  # the failure is said in-band too


# -- item 11, swept: every member of every reply, of the wrong type ----------------------------------

WRONG = [3, "x", None, {}]  # a number, a string, null, a container: each breaks code expecting another


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    mutated = copy.deepcopy(document)
    node = mutated
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return mutated


def _mutations(document: Any, *, whole_response: bool = True) -> Iterator[tuple[str, Any]]:
    """Each member of ``document`` replaced by each WRONG value. ``whole_response`` False: an
    event's ``response`` snapshot is replaced only as a whole (the Responses protocols repeat
    the same snapshot in several events; its members are swept in the terminal one)."""
    for path in _paths(document):
        if not whole_response and path[0] == "response" and len(path) > 1:
            continue
        for value in WRONG:
            yield f"{'.'.join(map(str, path))}={json.dumps(value)}", _replaced(document, path, value)


def _frame(wire: Wire, original: bytes, event: Any) -> bytes:
    head = original.decode().partition("data: ")[0]
    end = "\r\n\r\n" if original.endswith(b"\r\n\r\n") else "\n\n"
    return f"{head}data: {json.dumps(event)}{end}".encode()


class Switchboard:
    """One loopback server for a whole sweep, answering with whatever reply is set."""

    def __init__(self) -> None:
        self.reply = Reply.json({})

    def __call__(self, _seen: Any) -> Reply:
        return self.reply


def _escapes(wire: Wire, board: Switchboard, url: str, *, stream: bool) -> list[str]:
    """Every mutation whose call raised something other than an anyllm error."""
    escaped = []
    if not stream:
        for name, body in _mutations(wire.reply):
            board.reply = Reply.json(body)
            _, error = _run(wire, url, stream=False)
            if error is not None and not isinstance(error, AnyLLMError):
                escaped.append(f"{name}: {error!r}")
        return escaped
    frames = wire.full_stream()
    datas = [frame.decode().partition("data: ")[2].strip() for frame in frames]
    with_response = [i for i, data in enumerate(datas) if data != "[DONE]" and "response" in json.loads(data)]
    for position, (frame, data) in enumerate(zip(frames, datas, strict=True)):
        if data == "[DONE]":
            continue
        whole = not with_response or position == with_response[-1]
        for name, event in _mutations(json.loads(data), whole_response=whole):
            mutated = [*frames[:position], _frame(wire, frame, event), *frames[position + 1 :]]
            board.reply = _sse_reply(mutated)
            _, error = _run(wire, url, stream=True)
            if error is not None and not isinstance(error, AnyLLMError):
                escaped.append(f"event {position} {name}: {error!r}")
    return escaped


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_wrong_type_anywhere_escapes_untyped(protocol: str, stream: bool) -> None:
    wire = WIRES[protocol]
    board = Switchboard()
    with LoopbackServer(board) as server:
        escaped = _escapes(wire, board, server.url, stream=stream)
    assert escaped == [], f"{len(escaped)} untyped escapes, e.g. {escaped[:5]}"
