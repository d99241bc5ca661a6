"""``timeout`` is a deadline, on every protocol (issue 13, items 8 and 12).

It bounds a whole non-streaming reply (head and body) and each event of a stream, not
each socket read: a server that trickles a byte at a time, or sends blank lines and
comments between events, ends in ProviderTimeoutError once ``timeout`` passes without a
finished reply (or a finished event), however steadily bytes arrive. A stream whose
events each come in time may take as long as it needs. Bytes that complete no event
(blank lines, comments) also count towards the per-event size bound, so an endless run of
them fails typed instead of spinning forever.

Every case runs a real server on 127.0.0.1 (``tests/helpers/hostile.py``) through the real
client path, and checks nothing leaked (``run_fault``). Each attack is finite: without the
deadline the call *succeeds* after ``slow * pause`` seconds, so the test fails instead of
hanging. Timing bounds here are "never hangs" margins, not speed thresholds.
"""

from __future__ import annotations

import json

import openai  # noqa: F401  (imported once here, not inside the first timed call)
import pytest

from anyllm.errors import ProviderTimeoutError, StreamError
from anyllm.providers import http as anyllm_http
from anyllm.providers.deadline import Deadline, install_transport
from tests.helpers.faults import WIRES, sse
from tests.helpers.hostile import blank_lines, trickle_body, trickle_head, trickle_stream
from tests.test_faults import MODES, PROTOCOLS, TIMEOUT, expect, run_fault, typed_stream_failure

SLOW = 40  # chunks that arrive PAUSE apart: 4 s in all, eight times the timeout
PAUSE = 0.1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_trickled_reply_body_times_out(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    body = json.dumps(wire.reply).encode()
    outcome, _ = run_fault(wire, trickle_body(body, slow=SLOW, pause=PAUSE), mode=mode, stream=False)
    expect(outcome, ProviderTimeoutError)
    assert outcome.elapsed >= TIMEOUT * 0.9, "gave up before the configured timeout"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_trickled_reply_head_times_out(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    body = json.dumps(wire.reply).encode()
    outcome, _ = run_fault(wire, trickle_head(body, pause=PAUSE), mode=mode, stream=False)
    expect(outcome, ProviderTimeoutError)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_trickled_stream_head_times_out(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    body = b"".join(wire.full_stream())
    behaviour = trickle_head(body, pause=PAUSE, content_type="text/event-stream")
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=True)
    expect(outcome, ProviderTimeoutError)


FILLERS = {"event-bytes": None, "blank-lines": b"\n", "comments": b": keep-alive\n\n"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filler", list(FILLERS))
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_stream_event_that_never_completes_times_out(protocol: str, filler: str, mode: str) -> None:
    """Bytes keep coming, but for longer than ``timeout`` none of them finishes an event."""
    wire = WIRES[protocol]
    behaviour = trickle_stream(wire.full_stream(), before=3, slow=SLOW, pause=PAUSE, filler=FILLERS[filler])
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=True)
    expect(outcome, ProviderTimeoutError)
    typed_stream_failure(wire, outcome)
    assert len(outcome.events) >= 1, "the events before the stall were lost"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_slow_stream_whose_events_each_arrive_in_time_completes(protocol: str, mode: str) -> None:
    """The deadline is per event, not per stream: every event here comes 0.3 s after the
    last (timeout 1 s), the whole stream takes longer than the timeout, and it completes."""
    wire = WIRES[protocol]
    frames = wire.full_stream()
    outcome, _ = run_fault(wire, sse(frames, pause=0.3), mode=mode, stream=True, client_args={"timeout": 1.0})
    assert outcome.error is None, repr(outcome.error)
    assert outcome.events[-1].type == "response.completed"
    assert outcome.elapsed > 1.0, "the stream was not slower than its timeout: the case proves nothing"


@pytest.fixture
def small_event_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    limit = 1 << 20
    monkeypatch.setattr(anyllm_http, "MAX_EVENT_BYTES", limit)
    return limit


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("line", [b"\n", b"\r\n", b": ping\n\n"], ids=["lf", "crlf", "comment"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_flood_of_blank_lines_is_refused_at_the_event_bound(
    protocol: str, line: bytes, mode: str, small_event_bound: int
) -> None:
    """8 MiB of blank lines (or comments) and then silence: no event ever completes, so the
    bytes count towards one event and pass the bound (the openai path used to reset its count
    at every blank line, and spin on such a stream for as long as it lasted)."""
    wire = WIRES[protocol]
    behaviour = blank_lines(8 * small_event_bound, line=line)
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=True, client_args={"timeout": 5.0})
    error = expect(outcome, StreamError, bound=5.0)
    assert f"larger than {small_event_bound} bytes" in str(error)
    typed_stream_failure(wire, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_endless_flood_of_blank_lines_ends_typed(protocol: str, mode: str) -> None:
    """Blank lines forever, at loopback speed, with the real bounds: whichever comes first
    (the event bound or the deadline), the call ends typed and in time."""
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, blank_lines(None), mode=mode, stream=True)
    assert isinstance(outcome.error, StreamError | ProviderTimeoutError), repr(outcome.error)
    assert outcome.elapsed < TIMEOUT + 2.0


def test_the_deadline_backend_is_installed_under_httpx2() -> None:
    """The clamp relies on httpx2's pool taking a network backend (a private attribute):
    this fails first if an httpx2 release stops honouring it."""
    import httpx2

    assert install_transport(httpx2.HTTPTransport())
    assert install_transport(httpx2.AsyncHTTPTransport())
    assert not install_transport(httpx2.MockTransport(lambda request: httpx2.Response(200)))


def test_a_deadline_restarts_for_each_period() -> None:
    deadline = Deadline(10.0)
    first = deadline.expires
    deadline.restart()
    assert first is not None and deadline.expires is not None and deadline.expires >= first
    assert Deadline(None).expires is None
