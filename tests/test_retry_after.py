"""Issue 13 item 9: a malformed ``Retry-After`` is no hint, never a crash.

RFC 9110 section 10.2.3 allows ``Retry-After: HTTP-date / delay-seconds`` (digits). What a
server sends instead (``20s``, garbage, ``nan``, ``inf``, a negative number) used to raise
``ValueError`` while the 429 was being typed, or ``ValueError`` inside ``time.sleep`` when
retries were on. Each value is served by a real loopback server on every protocol, with
and without retries: the call ends in RateLimitError, whose ``retry_after`` is a finite
number of seconds or None.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

import anyllm
from anyllm.errors import RateLimitError, parse_retry_after
from tests.helpers.faults import WIRES, FaultServer, Wire, reply

PROTOCOLS = list(WIRES)

# (header, value, what retry_after must be): None = no usable hint.
MALFORMED = [
    ("retry-after", "20s", None),
    ("retry-after", "garbage", None),
    ("retry-after", "0x10", None),
    ("retry-after", "nan", None),
    ("retry-after", "NaN", None),
    ("retry-after", "inf", None),
    ("retry-after", "-inf", None),
    ("retry-after", "1e400", None),
    ("retry-after", "-5", 0.0),
    ("retry-after", "Wed, 99 Foo 2015 07:28:00 GMT", None),
    ("retry-after-ms", "nan", None),
    ("retry-after-ms", "inf", None),
    ("retry-after-ms", "soon", None),
]


@pytest.mark.parametrize(
    ("header", "value", "expected"), MALFORMED, ids=[f"{h}={v}" for h, v, _ in MALFORMED]
)
def test_parse_retry_after_never_raises_and_is_finite(
    header: str, value: str, expected: float | None
) -> None:
    assert parse_retry_after({header: value}) == expected


def _call(wire: Wire, url: str, *, mode: str, client_args: dict[str, Any]) -> BaseException:
    kwargs: dict[str, Any] = {
        "provider": wire.provider,
        "api_base": url + wire.base_path,
        "api_key": "retry-key",
        "client_args": {"timeout": 5, **client_args},
    }
    try:
        if mode == "sync":
            anyllm.responses("m", "hi", **kwargs)
        else:
            asyncio.run(anyllm.aresponses("m", "hi", **kwargs))
    except BaseException as exc:
        return exc
    raise AssertionError("a 429 was answered with a result")


@pytest.mark.parametrize("retries", [0, 1], ids=["no-retry", "retry"])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("value", ["20s", "garbage", "nan", "inf"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_malformed_retry_after_is_a_rate_limit_error(
    protocol: str, value: str, mode: str, retries: int
) -> None:
    wire = WIRES[protocol]
    behaviour = reply(429, wire.error_body(429, "slow down"), {"retry-after": value})
    with FaultServer(behaviour) as server:
        error = _call(wire, server.url, mode=mode, client_args={"max_retries": retries})
    assert isinstance(error, RateLimitError), repr(error)
    assert error.retry_after is None or math.isfinite(error.retry_after)
    assert len(server.requests) == 1 + retries
