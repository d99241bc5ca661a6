"""The SSE decoder: framing rules, and the same events whatever the chunk boundaries."""

from __future__ import annotations

import json

import pytest

from anyllm.streaming import SSEDecoder, SSEEvent

STREAM = (
    "\ufeff: comment line\r\n"
    "event: response.created\r\n"
    'data: {"type":"response.created","n":"é漢"}\r\n'
    "\r\n"
    "event: multi\n"
    "data: line one\n"
    "data:line two\n"
    "id: 7\n"
    "retry: 1500\n"
    "\n"
    "data\n"
    "\n"
    "event: ignored-without-data\n"
    "\n"
    "data: [DONE]\r"
    "\r"
).encode()

EXPECTED = [
    SSEEvent(
        "response.created",
        json.dumps({"type": "response.created", "n": "é漢"}, ensure_ascii=False, separators=(",", ":")),
        None,
        None,
    ),
    SSEEvent("multi", "line one\nline two", "7", 1500),
    SSEEvent(None, "", "7", 1500),
    SSEEvent(None, "[DONE]", "7", 1500),
]


def decode(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def test_whole_stream_decodes_to_the_expected_events() -> None:
    assert decode([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_fixed_chunk_size_gives_the_same_events(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert decode(chunks) == EXPECTED


def test_every_single_split_point_gives_the_same_events() -> None:
    # Includes splits inside multi-byte UTF-8 characters and between CR and LF.
    for cut in range(len(STREAM) + 1):
        assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, f"split at byte {cut}"


def test_crlf_split_across_chunks_is_one_line_end_not_two() -> None:
    events = decode([b"data: a\r", b"\ndata: b\r\n\r\n"])
    assert events == [SSEEvent(None, "a\nb")]


def test_unterminated_last_event_is_delivered_on_flush() -> None:
    assert decode([b"data: tail"]) == [SSEEvent(None, "tail")]


def test_comment_only_stream_yields_nothing() -> None:
    assert decode([b": keep-alive\n\n: again\n\n"]) == []
