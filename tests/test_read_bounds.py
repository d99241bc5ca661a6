"""The read bounds count decoded bytes, on every protocol (issue 13, item 6, the library's half).

``MAX_BODY_BYTES`` and ``MAX_EVENT_BYTES`` (``anyllm.providers.http``) are about memory, so
they count what a reply inflates to, not what crossed the wire: the openai path counted
compressed bytes and accepted a 100 KB gzip body that inflated to 100 MiB. Here a gzip
bomb (one layer, or ``Content-Encoding: gzip, gzip``) is refused typed on every protocol,
and a well-formed gzip reply still works. Real servers on 127.0.0.1, the real clients;
the bounds are lowered to 1 MiB so each bomb is small on the wire and quick to send.

Also here: :class:`anyllm.providers.bounded.EventScanner`, which finds event ends in the
openai path's raw bytes, agrees with the library's SSE decoder on every chunking.
"""

from __future__ import annotations

import json

import openai  # noqa: F401  (imported once here, not inside the first timed call)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anyllm.errors import ProviderError, StreamError
from anyllm.providers import http as anyllm_http
from anyllm.providers.bounded import EventScanner
from anyllm.streaming import SSEDecoder
from tests.helpers.faults import WIRES
from tests.helpers.hostile import bomb, encoded_reply
from tests.test_faults import MODES, PROTOCOLS, expect, run_fault, typed_stream_failure


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> int:
    limit = 1 << 20
    monkeypatch.setattr(anyllm_http, "MAX_BODY_BYTES", limit)
    monkeypatch.setattr(anyllm_http, "MAX_EVENT_BYTES", limit)
    return limit


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers", [1, 2], ids=["gzip", "gzip-gzip"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_gzip_bomb_reply_is_refused(protocol: str, layers: int, mode: str, small_limits: int) -> None:
    behaviour = bomb(16 * small_limits, layers=layers)
    outcome, _ = run_fault(WIRES[protocol], behaviour, mode=mode, stream=False)
    error = expect(outcome, ProviderError)
    assert f"larger than {small_limits} bytes" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers", [1, 2], ids=["gzip", "gzip-gzip"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_gzip_bomb_stream_event_is_refused(
    protocol: str, layers: int, mode: str, small_limits: int
) -> None:
    wire = WIRES[protocol]
    behaviour = bomb(16 * small_limits, "text/event-stream", layers=layers)
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=True)
    error = expect(outcome, StreamError)
    assert f"larger than {small_limits} bytes" in str(error)
    typed_stream_failure(wire, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers", [1, 2], ids=["gzip", "gzip-gzip"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_gzip_encoded_reply_still_works(protocol: str, stream: bool, layers: int, mode: str) -> None:
    """Decoding moved into the openai path's transport: what real servers send must still
    arrive whole and typed, on every protocol."""
    wire = WIRES[protocol]
    if stream:
        behaviour = encoded_reply(b"".join(wire.full_stream()), "text/event-stream", layers=layers)
    else:
        behaviour = encoded_reply(json.dumps(wire.reply).encode(), "application/json", layers=layers)
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=stream)
    assert outcome.error is None, repr(outcome.error)
    last = outcome.events[-1]
    status = last.type if stream else getattr(last.status, "value", last.status)
    assert status in ("response.completed", "completed")


# -- where events end, in raw bytes -------------------------------------------------------------

_LINES = st.sampled_from(
    [
        b"data: {}",
        b"data",
        b"data:",
        b"dat",
        b"event: x",
        b": comment",
        b"id: 1",
        b"retry: 5",
        b"",
        b"\xef\xbb\xbfdata: bom",
        b"datum: no",
    ]
)
_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(_LINES, _ENDS), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_the_event_scanner_agrees_with_the_sse_decoder(
    lines: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    body = b"".join(text + end for text, end in lines)
    points = sorted({c for c in cuts if 0 < c < len(body)})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    decoder, scanner = SSEDecoder(), EventScanner()
    for chunk in chunks:
        dispatched = bool(decoder.feed(chunk))
        after = scanner.feed(chunk)
        assert (after is not None) == dispatched, (chunks, chunk)
        if after is not None:
            assert 0 <= after <= len(chunk)


# Lines as real streams have them, blank lines often (runs of them end events oddly).
_EVENT_LINES = st.sampled_from(
    [b"data: {}", b"data", b"event: x", b": c", b"", b"", b"", b"\xef\xbb\xbfdata: b"]
)


class _LineByLine(EventScanner):
    """The scanner without its shortcut for chunks of whole events: the reference for it."""

    def _whole_events(self, chunk: bytes) -> bool:
        return False


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_EVENT_LINES.map(lambda line: line + b"\n"), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    cut_at=st.sampled_from(["anywhere", "event ends", "line ends"]),
)
def test_the_event_scanner_shortcut_changes_nothing(lines: list[bytes], cuts: list[int], cut_at: str) -> None:
    """LF streams (the shortcut's case; CR is the loop's) cut anywhere, or only where the
    shortcut may apply (after a blank line, after any line)."""
    body = b"".join(lines)
    if cut_at != "anywhere":
        mark = b"\n\n" if cut_at == "event ends" else b"\n"
        cuts = [i + len(mark) for i in range(len(body)) if body[i : i + len(mark)] == mark]
        cuts = [c for n, c in enumerate(cuts) if n % 3 != 1]  # not every one: chunks of several lines
    points = sorted({c for c in cuts if 0 < c < len(body)})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    fast, slow = EventScanner(), _LineByLine()
    for chunk in chunks:
        assert fast.feed(chunk) == slow.feed(chunk), (chunks, chunk)
        assert (fast.data, fast.head, fast.skip_lf) == (slow.data, slow.head, slow.skip_lf)


def test_blank_lines_and_comments_complete_no_event() -> None:
    scanner = EventScanner()
    assert scanner.feed(b"\n" * 1000) is None
    assert scanner.feed(b": ping\n\n" * 100) is None
    assert scanner.feed(b"data: x\n\nda") == 2
    assert scanner.feed(b"ta: y\r") is None
    assert scanner.feed(b"\n\r\n") == 0
    assert EventScanner().feed(b"data: x\n\n\n") == 1  # the last blank line closes nothing
