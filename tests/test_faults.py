"""Misbehaving servers, every protocol: each fault ends in its typed exception, in time,
with no connection, task or thread left behind.

Every case starts a real server on 127.0.0.1 (``tests/helpers/faults.py``) that misbehaves on
purpose and talks to it through the real client path (the openai SDK for the openai
protocol, httpx2 for the others). Timing here is a "never hangs" check (timeout plus a
generous margin), not a speed threshold.

What each fault raises (translated streams also end in-band with ``response.failed``):

=================================  ===================================================
connection refused, reset before   ProviderConnectionError
  headers
reset mid-stream                   StreamError (openai protocol: ProviderConnectionError)
truncated stream, invalid JSON     StreamError
stream without ``[DONE]``          completes (the harness flags SSE-DONE-TERMINAL)
HTML 502                           ProviderError, status 502, page snippet in the message
401/403, 404, 408, 409/422, 429,   AuthenticationError, NotFoundError, ProviderTimeoutError,
  5xx                                InvalidRequestError, RateLimitError (retry_after),
                                     ProviderError
never answers, stalls mid-stream   ProviderTimeoutError after the configured timeout
gzip-corrupt body                  ProviderError / StreamError (openai: ProviderConnectionError)
enormous body or event             ProviderError / StreamError past MAX_BODY_BYTES /
                                     MAX_EVENT_BYTES (anyllm.providers.http)
=================================  ===================================================

Retries happen only with ``client_args={"max_retries": n}``, for 429 and 5xx (and
transport failures), honouring Retry-After, never for another 4xx.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import anyllm
from anyllm.errors import (
    AnyLLMError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StreamError,
)
from anyllm.providers import http as anyllm_http
from anyllm.providers.factory import clear_backends
from anyllm.testing.validate import validate_stream
from tests.helpers.faults import (
    WIRES,
    Behaviour,
    FaultServer,
    Wire,
    busy_connections,
    enormous,
    gzip_corrupt,
    leftover_tasks,
    never_answer,
    other_tasks,
    refused_url,
    reply,
    reset_before_headers,
    sequence,
    sse,
    wait_for_threads,
)

TIMEOUT = 0.5
MARGIN = 2.0  # "never hangs": generous, not a performance bound
PROTOCOLS = list(WIRES)
MODES = ["sync", "async"]


@dataclass
class Outcome:
    error: BaseException | None
    events: list[Any] = field(default_factory=list)
    elapsed: float = 0.0


def _kwargs(wire: Wire, url: str, stream: bool, client_args: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "provider": wire.provider,
        "api_base": url + wire.base_path,
        "api_key": "fault-key",
        "stream": stream,
        "client_args": {"timeout": TIMEOUT, **(client_args or {})},
    }


def call_sync(wire: Wire, url: str, *, stream: bool, client_args: dict[str, Any] | None = None) -> Outcome:
    outcome = Outcome(None)
    start = time.monotonic()
    try:
        result = anyllm.responses("m", "hi", **_kwargs(wire, url, stream, client_args))
        if stream:
            for event in result:
                outcome.events.append(event)
        else:
            outcome.events.append(result)
    except Exception as exc:
        outcome.error = exc
    outcome.elapsed = time.monotonic() - start
    return outcome


async def call_async(
    wire: Wire, url: str, *, stream: bool, client_args: dict[str, Any] | None = None
) -> Outcome:
    outcome = Outcome(None)
    start = time.monotonic()
    try:
        result = await anyllm.aresponses("m", "hi", **_kwargs(wire, url, stream, client_args))
        if stream:
            async for event in result:
                outcome.events.append(event)
        else:
            outcome.events.append(result)
    except Exception as exc:
        outcome.error = exc
    outcome.elapsed = time.monotonic() - start
    return outcome


def run_fault(
    wire: Wire,
    behaviour: Behaviour | None,
    *,
    mode: str,
    stream: bool,
    client_args: dict[str, Any] | None = None,
) -> tuple[Outcome, FaultServer | None]:
    """One call against a fresh server; asserts nothing leaked (connections, tasks, threads)."""
    threads = set(threading.enumerate())
    server: FaultServer | None = None

    def call_without_leaks(url: str) -> Outcome:
        if mode == "sync":
            outcome = call_sync(wire, url, stream=stream, client_args=client_args)
            assert busy_connections() == [], "a connection is still carrying a request"
            return outcome

        async def main() -> Outcome:
            tasks = other_tasks()
            outcome = await call_async(wire, url, stream=stream, client_args=client_args)
            assert busy_connections() == [], "a connection is still carrying a request"
            assert await leftover_tasks(tasks) == set(), "a task outlived the call"
            return outcome

        return asyncio.run(main())

    if behaviour is None:
        outcome = call_without_leaks(refused_url())
    else:
        with FaultServer(behaviour) as server:
            outcome = call_without_leaks(server.url)
    clear_backends()
    assert wait_for_threads(threads) == [], "a thread outlived the call"
    return outcome, server


def expect(outcome: Outcome, error: type[AnyLLMError], *, bound: float = TIMEOUT + MARGIN) -> AnyLLMError:
    assert outcome.error is not None, f"expected {error.__name__}, the call succeeded"
    assert type(outcome.error) is error, f"expected {error.__name__}, got {outcome.error!r}"
    assert outcome.elapsed < bound, f"took {outcome.elapsed:.2f} s"
    assert isinstance(outcome.error, AnyLLMError)
    return outcome.error


def typed_stream_failure(wire: Wire, outcome: Outcome) -> None:
    """A translated stream that fails says so in-band too: ``response.failed`` last."""
    if wire.protocol in ("chat", "anthropic", "gemini"):
        assert outcome.events, "no events before the failure"
        assert outcome.events[-1].type == "response.failed"


# -- transport faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_connection_refused(protocol: str, stream: bool, mode: str) -> None:
    outcome, _ = run_fault(WIRES[protocol], None, mode=mode, stream=stream)
    expect(outcome, ProviderConnectionError)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reset_before_headers(protocol: str, stream: bool, mode: str) -> None:
    outcome, server = run_fault(WIRES[protocol], reset_before_headers(), mode=mode, stream=stream)
    expect(outcome, ProviderConnectionError)
    assert server is not None and len(server.requests) == 1, "retried without max_retries"


# The own HTTP path calls a cut stream a StreamError; the SDK path a connection error.
MID_STREAM_CUT: dict[str, type[AnyLLMError]] = {}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reset_mid_stream(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, sse(wire.frames[:3], then="reset"), mode=mode, stream=True)
    expect(outcome, MID_STREAM_CUT.get(protocol, StreamError))
    typed_stream_failure(wire, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_truncated_stream_without_terminal_event(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, sse(wire.truncated()), mode=mode, stream=True)
    expect(outcome, StreamError)
    typed_stream_failure(wire, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stream_without_done_still_completes(protocol: str, mode: str) -> None:
    """No ``[DONE]`` after the protocol's own terminal event: the library accepts it (the
    harness is where the missing ``[DONE]`` is judged, see the next test)."""
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, sse(wire.frames), mode=mode, stream=True)
    assert outcome.error is None, repr(outcome.error)
    assert outcome.events[-1].type == "response.completed"


@pytest.mark.parametrize("protocol", ["openai", "openresponses"])
def test_missing_done_is_a_failed_verdict_in_the_harness(protocol: str) -> None:
    wire = WIRES[protocol]
    without = [v.rule for v in validate_stream(b"".join(wire.frames), "openresponses")]
    with_done = [v.rule for v in validate_stream(b"".join(wire.full_stream()), "openresponses")]
    assert "SSE-DONE-TERMINAL" in without
    assert "SSE-DONE-TERMINAL" not in with_done


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_invalid_json_in_one_event(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, sse(wire.with_bad_json()), mode=mode, stream=True)
    error = expect(outcome, StreamError)
    assert "JSON" in str(error) or "not a valid event" in str(error)
    typed_stream_failure(wire, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_html_error_page_with_502(protocol: str, stream: bool, mode: str) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    outcome, _ = run_fault(WIRES[protocol], reply(502, page), mode=mode, stream=stream)
    error = expect(outcome, ProviderError)
    assert error.status_code == 502
    assert "502 Bad Gateway" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_that_never_answers_times_out(protocol: str, stream: bool, mode: str) -> None:
    outcome, _ = run_fault(WIRES[protocol], never_answer(), mode=mode, stream=stream)
    expect(outcome, ProviderTimeoutError)
    assert outcome.elapsed >= TIMEOUT * 0.9, "gave up before the configured timeout"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_that_stalls_mid_stream_times_out(protocol: str, mode: str) -> None:
    wire = WIRES[protocol]
    outcome, _ = run_fault(wire, sse(wire.frames[:3], then="stall"), mode=mode, stream=True)
    expect(outcome, ProviderTimeoutError)
    typed_stream_failure(wire, outcome)


# A body that cannot be inflated: a ProviderError on the own path (not a "connection" error:
# the reply arrived); the SDK reports a whole JSON body as a connection error (a
# ProviderError too). Inside a stream every path says StreamError.
GZIP_JSON = {"openai": ProviderConnectionError}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_gzip_corrupt_body(protocol: str, stream: bool, mode: str) -> None:
    content_type = "text/event-stream" if stream else "application/json"
    outcome, server = run_fault(WIRES[protocol], gzip_corrupt(content_type), mode=mode, stream=stream)
    expected = StreamError if stream else GZIP_JSON.get(protocol, ProviderError)
    error = expect(outcome, expected)
    if protocol != "openai":
        assert "decoded" in str(error)
        assert server is not None and len(server.requests) == 1


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> int:
    """1 MiB bounds instead of 64/32 MiB, so an 'enormous' body is quick to send."""
    limit = 1 << 20
    monkeypatch.setattr(anyllm_http, "MAX_BODY_BYTES", limit)
    monkeypatch.setattr(anyllm_http, "MAX_EVENT_BYTES", limit)
    return limit


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_enormous_body_is_refused(protocol: str, chunked: bool, mode: str, small_limits: int) -> None:
    outcome, _ = run_fault(
        WIRES[protocol], enormous(8 * small_limits, chunked=chunked), mode=mode, stream=False
    )
    error = expect(outcome, ProviderError)
    assert f"larger than {small_limits} bytes" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_enormous_stream_event_is_refused(protocol: str, mode: str, small_limits: int) -> None:
    wire = WIRES[protocol]
    behaviour = enormous(8 * small_limits, "text/event-stream", chunked=True)
    outcome, _ = run_fault(wire, behaviour, mode=mode, stream=True)
    error = expect(outcome, StreamError)
    assert f"larger than {small_limits} bytes" in str(error)
    typed_stream_failure(wire, outcome)


# -- HTTP statuses with each vendor's error body -------------------------------------------------

STATUSES: list[tuple[int, type[AnyLLMError], dict[str, str]]] = [
    (401, AuthenticationError, {}),
    (403, AuthenticationError, {}),
    (404, NotFoundError, {}),
    (408, ProviderTimeoutError, {}),
    (409, InvalidRequestError, {}),
    (422, InvalidRequestError, {}),
    (429, RateLimitError, {}),
    (429, RateLimitError, {"retry-after": "7"}),
    (500, ProviderError, {}),
    (503, ProviderError, {}),
    (529, ProviderError, {}),
]


def _status_id(case: tuple[int, type[AnyLLMError], dict[str, str]]) -> str:
    status, _, headers = case
    return f"{status}-retry-after" if headers else str(status)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("status", "error", "headers"), STATUSES, ids=[_status_id(c) for c in STATUSES])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_status_with_vendor_error_body(
    protocol: str, status: int, error: type[AnyLLMError], headers: dict[str, str], stream: bool
) -> None:
    wire = WIRES[protocol]
    message = f"doc-derived {status} from {protocol}"
    behaviour = reply(status, wire.error_body(status, message), {"x-request-id": "req_fault", **headers})
    outcome, server = run_fault(wire, behaviour, mode="sync", stream=stream)
    raised = expect(outcome, error)
    assert raised.status_code == status
    assert raised.message == message
    assert raised.request_id == "req_fault"
    assert raised.provider == wire.provider
    if isinstance(raised, RateLimitError):
        assert raised.retry_after == (7.0 if headers else None)
    assert server is not None and len(server.requests) == 1, "retried without max_retries"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_status_errors_async(protocol: str) -> None:
    wire = WIRES[protocol]
    for status, error, headers in STATUSES:
        behaviour = reply(status, wire.error_body(status, "async"), headers)
        outcome, _ = run_fault(wire, behaviour, mode="async", stream=False)
        assert expect(outcome, error).status_code == status


# -- retries --------------------------------------------------------------------------------------


def _ok(wire: Wire, stream: bool) -> Behaviour:
    return sse(wire.full_stream()) if stream else reply(200, wire.reply)


def _throttled(wire: Wire, after: str) -> Behaviour:
    return reply(429, wire.error_body(429, "slow down"), {"retry-after": after})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_429_and_5xx_are_retried_with_backoff_when_asked(protocol: str, stream: bool, mode: str) -> None:
    wire = WIRES[protocol]
    behaviour = sequence(
        reply(503, wire.error_body(503, "overloaded")), _throttled(wire, "0.2"), _ok(wire, stream)
    )
    outcome, server = run_fault(wire, behaviour, mode=mode, stream=stream, client_args={"max_retries": 2})
    assert outcome.error is None, repr(outcome.error)
    assert server is not None and len(server.requests) == 3
    first, second, third = (r.at for r in server.requests)
    assert second - first > 0.05, "no backoff before retrying a 503"
    assert third - second >= 0.15, "the Retry-After hint was not honoured"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_retry_unless_asked(protocol: str) -> None:
    wire = WIRES[protocol]
    behaviour = sequence(_throttled(wire, "0"), _ok(wire, False))
    outcome, server = run_fault(wire, behaviour, mode="sync", stream=False)
    expect(outcome, RateLimitError)
    assert server is not None and len(server.requests) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retries_give_up_after_max_retries(protocol: str) -> None:
    wire = WIRES[protocol]
    behaviour = reply(500, wire.error_body(500, "down"), {"retry-after": "0"})
    outcome, server = run_fault(wire, behaviour, mode="sync", stream=False, client_args={"max_retries": 1})
    expect(outcome, ProviderError, bound=TIMEOUT + 2 * MARGIN)
    assert server is not None and len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 409, 422])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_4xx_is_never_retried(protocol: str, status: int) -> None:
    wire = WIRES[protocol]
    behaviour = sequence(reply(status, wire.error_body(status, "no"), {"retry-after": "0"}), _ok(wire, False))
    outcome, server = run_fault(wire, behaviour, mode="sync", stream=False, client_args={"max_retries": 3})
    assert isinstance(outcome.error, AnyLLMError), repr(outcome.error)
    assert outcome.error.status_code == status
    assert server is not None and len(server.requests) == 1, f"a {status} was retried"


# -- the checks themselves can fail -------------------------------------------------------------


def test_busy_connections_sees_an_unclosed_stream() -> None:
    """An abandoned stream that is never closed is exactly what the leak check must catch."""
    wire = WIRES["openresponses"]
    with FaultServer(sse(wire.full_stream(), pause=0.01)) as server:
        stream: Iterator[Any] = anyllm.responses(
            "m", "hi", provider="openresponses", api_base=server.url + "/v1", stream=True
        )
        next(stream)
        assert busy_connections() != []
        close: Callable[[], None] = stream.close  # type: ignore[attr-defined]
        close()
        assert busy_connections() == []
    clear_backends()
