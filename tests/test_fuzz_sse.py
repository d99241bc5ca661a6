"""Property: SSE decoding does not depend on how the bytes were cut.

Any conforming stream, framed at random (LF/CRLF/CR, comments, ``event:`` lines, multi-line
``data``, a BOM) and split at arbitrary byte positions — inside multi-byte UTF-8
characters and between CR and LF included — decodes to the events it encodes. The
validator, fed the same raw bytes, finds nothing wrong.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from anyllm.streaming import SSEDecoder, SSEEvent
from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import validate_stream


def decode(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def expected(events: list[dict]) -> list[tuple[str | None, object]]:
    return [(event["type"], event) for event in events] + [(None, "[DONE]")]


def observed(decoded: list[SSEEvent]) -> list[tuple[str | None, object]]:
    return [(ev.event, ev.data if ev.data == "[DONE]" else json.loads(ev.data)) for ev in decoded]


@st.composite
def split_streams(draw: st.DrawFn, **framing: bool) -> tuple[list[dict], bytes, list[bytes]]:
    events, raw = draw(S.sse_streams(**framing))
    return events, raw, draw(S.chunked(raw))


def check_split(case: tuple[list[dict], bytes, list[bytes]]) -> None:
    events, raw, chunks = case
    assert b"".join(chunks) == raw
    whole = observed(decode([raw]))
    assert whole == expected(events)
    assert observed(decode(chunks)) == whole


@fuzz_settings()
@given(split_streams(eols=("\n", "\r\n")))
def test_any_split_decodes_to_the_same_events(case: tuple[list[dict], bytes, list[bytes]]) -> None:
    """LF and CRLF line ends (CRLF split between CR and LF included)."""
    check_split(case)


# Found by the property below (CR line ends): kept as an explicit example.
CR_THEN_PARTIAL_LINE = (
    [{"type": "a", "n": 1}, {"type": "b", "n": 2}],
    b'event: a\rdata: {"type": "a", "n": 1}\r\revent: b\ndata: {"type": "b", "n": 2}\n\ndata: [DONE]\n\n',
    [
        b'event: a\rdata: {"type": "a", "n": 1}\r\revent: b',
        b'\ndata: {"type": "b", "n": 2}\n\ndata: [DONE]\n\n',
    ],
)


@example(CR_THEN_PARTIAL_LINE)
@fuzz_settings()
@given(split_streams())
def test_any_split_with_cr_line_ends_decodes_the_same(case: tuple[list[dict], bytes, list[bytes]]) -> None:
    """All three line ends, mixed line by line."""
    check_split(case)


@fuzz_settings()
@given(split_streams())
def test_byte_at_a_time_decodes_the_same(case: tuple[list[dict], bytes, list[bytes]]) -> None:
    events, raw, _ = case
    assert observed(decode([raw[i : i + 1] for i in range(len(raw))])) == expected(events)


@pytest.mark.parametrize(
    "chunks",
    [
        [b'data: {"a": "\xc3', b'\xa9"}\r', b"\n\r\n"],  # split inside '\u00e9' and inside CRLF
        [b"data: 1\r", b"\r", b"data: 2\r\n\r\n"],  # CR line end, then a CR blank line
        [b"\xef\xbb", b"\xbfdata: 3\n\n"],  # a BOM split in two
    ],
)
def test_awkward_splits_found_by_the_property(chunks: list[bytes]) -> None:
    """Kept as explicit examples: the splits the property exercises most rarely."""
    whole = decode([b"".join(chunks)])
    assert [e.data for e in decode(chunks)] == [e.data for e in whole]
    assert len(whole) == (2 if chunks[1] == b"\r" else 1)


@fuzz_settings(max_examples=0.5)
@given(S.sse_streams(mixed=False))
def test_validator_accepts_every_conforming_raw_stream(case: tuple[list[dict], bytes]) -> None:
    _events, raw = case
    problems = [str(v) for v in validate_stream(raw) if v.severity == "error"]
    assert problems == []


@example(b'event: x\ndata: {"type": "x"}\n\ndata: [DONE]\n\r\n')
@fuzz_settings(max_examples=0.2)
@given(S.sse_streams(mixed=True).map(lambda case: case[1]))
def test_validator_accepts_mixed_line_ends(raw: bytes) -> None:
    assert "SSE-TRUNCATED" not in {v.rule for v in validate_stream(raw)}
