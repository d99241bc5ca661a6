"""Conformance assertions for the project's own tests, judged by the shipped validator.

Every bridge test (chat, Anthropic, Gemini, live llama.cpp) pushes its streams and final
responses through here, so the tests apply the same rules, with the same schemas (the ones
shipped in the package, ``schemas/``), as a provider author's conformance run: one stream
checker, not two. Findings of severity ``info`` (a slug-prefixed extension type, the
documented spec bug of the output-side ``text.format`` json_schema) do not fail a test;
errors and warnings do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from anyllm.testing.validate import Violation, validate_response, validate_stream

__all__ = ["assert_stream_conforms", "response_schema_problems", "stream_rules", "stream_violations"]

_SHOWN = 40


def _failing(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity != "info"]


def stream_violations(events: Iterable[Any]) -> list[Violation]:
    """The errors and warnings of a Responses event stream (event dicts, in order)."""
    return _failing(validate_stream(list(events)))


def stream_rules(events: Iterable[Any]) -> set[str]:
    """The ids of the rules a stream breaks (errors and warnings): for tests that break one on purpose."""
    return {v.rule for v in stream_violations(events)}


def assert_stream_conforms(events: Iterable[Any]) -> None:
    """Raise AssertionError listing every violation (error or warning) of the stream."""
    found = stream_violations(events)
    if found:
        shown = "\n  ".join(str(v) for v in found[:_SHOWN])
        more = f"\n  ... and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
        raise AssertionError(f"stream does not conform ({len(found)} violations):\n  {shown}{more}")


def response_schema_problems(response: dict[str, Any]) -> list[str]:
    """A final ResponseResource's violations (schema and whole-response rules), as text; empty when valid."""
    return [str(v) for v in _failing(validate_response(response))]
