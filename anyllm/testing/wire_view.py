"""What a case sees when anyllm's client refuses a reply: the raw wire, and whose fault it is.

A Responses server is answerable for every byte it sent; anyllm's client is strict, and a
reply it refuses (a ``response.created`` lacking required fields, a JSON body that is not a
ResponseResource) used to end the case there: every later check failed as "got None" and
every event after the refused one went unseen by the case. For native providers, whose
exchanges the harness keeps (:class:`~anyllm.testing.harness.WireExchange`), the case goes on
with what arrived on the wire instead:

* a refused stream is read from the recorded SSE body: every event the server sent, as JSON,
  so the case's checks judge what arrived (:func:`raw_stream`);
* a refused JSON reply that is a JSON object is handed to the case as it arrived
  (:func:`raw_json`);
* the refusal is remembered (:class:`Refusal`), and after the wire was judged, the findings
  that only say "the client failed" (:data:`CLIENT_OUTCOME_RULES`, and the exception that
  ended a case) are marked as consequences of the wire findings at the refused spot
  (:func:`attribute`), not counted as findings of their own. A refusal with no wire finding
  to explain it stays a finding: then anyllm refused what the validator accepts.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anyllm.spec import TERMINAL_EVENT_TYPES
from anyllm.testing.validate import Violation

if TYPE_CHECKING:
    from anyllm.errors import AnyLLMError
    from anyllm.testing.harness import CaseValidator, StreamResult, WireExchange

__all__ = [
    "CLIENT_OUTCOME_RULES",
    "Refusal",
    "WireFallback",
    "attribute",
    "cause_text",
    "collect_event",
    "explain",
    "last_reply",
    "raw_json",
    "raw_stream",
    "refusal_rows",
]

# A case's own checks that only say the client got an error: when the client refused a
# reply the wire judgement explains, they are its consequence.
CLIENT_OUTCOME_RULES = frozenset({"CASE-ERROR", "CASE-STREAM-ERROR"})
_EVENT_PATH = re.compile(r"^\$\[(\d+)\]")
_SHAPE_RULES = ("SCHEMA-", "SSE-", "INPUT-", "CONTENT-TYPE-")


@dataclass(frozen=True, slots=True)
class Refusal:
    """anyllm's client refused exchange ``exchange`` (at stream event ``event``: its 0-based
    index among the events, or None for a JSON body); ``error`` is what it raised."""

    exchange: int
    event: int | None
    error: BaseException

    @property
    def where(self) -> str:
        at = f", event #{self.event}" if self.event is not None else ""
        return f"wire #{self.exchange}{at}"


def last_reply(exchanges: Sequence[WireExchange]) -> WireExchange | None:
    """The last ``POST .../responses`` exchange of a case: the reply the client just read."""
    for exchange in reversed(exchanges):
        if exchange.creates_response:
            return exchange
    return None


def raw_stream(exchange: WireExchange) -> list[dict[str, Any]]:
    """Every event of a recorded SSE body as JSON (``[DONE]``, comments and events whose
    data is not a JSON object left out: the validator reports those)."""
    from anyllm.testing.sse import split_sse

    events, _problems = split_sse(exchange.body)
    out: list[dict[str, Any]] = []
    for framed in events:
        try:
            body = json.loads(framed.data)
        except ValueError:
            continue
        if isinstance(body, dict):
            out.append(body)
    return out


def raw_json(exchange: WireExchange) -> dict[str, Any] | None:
    """A recorded JSON reply as it arrived, when it is a JSON object."""
    try:
        body = json.loads(exchange.body)
    except (ValueError, TypeError):
        return None
    return body if isinstance(body, dict) else None


def _event_of(violation: Violation) -> int | None:
    found = _EVENT_PATH.match(violation.path)
    return int(found.group(1)) if found else None


def _causes(refusal: Refusal, wire: dict[int, list[Violation]]) -> list[Violation]:
    """The wire findings that explain a refusal: the errors of the refused JSON body, or of
    the refused event (else of the events before it: a client may refuse late)."""
    found = [v for v in wire.get(refusal.exchange, []) if v.severity == "error" and v.cause is None]
    # A client refuses what it cannot parse or type: the shape and framing findings say why
    # (a semantic one, such as a tool not called, is a finding of its own, not the cause).
    shape = [v for v in found if v.rule.startswith(_SHAPE_RULES)]
    found = shape or found
    if refusal.event is None:
        return found
    at = [v for v in found if _event_of(v) == refusal.event]
    if at:
        return at
    return [v for v in found if (_event_of(v) or 0) <= refusal.event and _event_of(v) is not None]


def cause_text(refusal: Refusal, causes: Iterable[Violation]) -> str:
    """``SCHEMA-EVENT, SCHEMA-RESPONSE at wire #1, event #0``: what a consequence follows from."""
    rules = ", ".join(sorted({v.rule for v in causes}))
    return f"{rules} at {refusal.where} (anyllm refused it: {type(refusal.error).__name__})"


def explain(refusals: Sequence[Refusal], wire: dict[int, list[Violation]]) -> list[tuple[Refusal, str]]:
    """Each refusal with what explains it on the wire ("" when nothing does: then anyllm
    refused what the validator accepts, a finding against the client)."""
    out = []
    for refusal in refusals:
        causes = _causes(refusal, wire)
        out.append((refusal, cause_text(refusal, causes) if causes else ""))
    return out


def refusal_rows(refusals: Sequence[Refusal], wire: dict[int, list[Violation]]) -> list[dict[str, str]]:
    """The refusals of a case for its report row: where, what the client raised, and why."""
    return [
        {
            "where": refusal.where,
            "error": f"{type(refusal.error).__name__}: {str(refusal.error).splitlines()[0][:300]}"
            if str(refusal.error)
            else type(refusal.error).__name__,
            "explained_by": text,
        }
        for refusal, text in explain(refusals, wire)
    ]


def attribute(
    violations: list[Violation],
    refusals: Sequence[Refusal],
    wire: dict[int, list[Violation]],
    exc: BaseException | None = None,
) -> tuple[list[Violation], str | None]:
    """Mark the client-outcome findings (:data:`CLIENT_OUTCOME_RULES`) of a case whose
    client refused wire-explained replies as consequences; returns the violations and, when
    the exception that ended the case is one of those refusals, what it follows from."""
    explained = [(r, text) for r, text in explain(refusals, wire) if text]
    if not explained:
        return violations, None

    def cause_of(v: Violation) -> str:
        """The refusal a client-outcome finding names (its message quotes the error), else the first."""
        for refusal, text in explained:
            quoted = str(refusal.error)[:60]
            if quoted and quoted in v.message:
                return text
        return explained[0][1]

    out = [
        dataclasses.replace(v, cause=cause_of(v))
        if v.rule in CLIENT_OUTCOME_RULES and v.cause is None and v.severity == "error"
        else v
        for v in violations
    ]
    exc_cause = next((text for refusal, text in explained if exc is not None and refusal.error is exc), None)
    return out, exc_cause


def collect_event(result: StreamResult, body: dict[str, Any]) -> None:
    """One event into a stream's result (its terminal event's response is the final one)."""
    result.events.append(body)
    if body.get("type") in TERMINAL_EVENT_TYPES:
        result.terminal = str(body["type"])
        response = body.get("response")
        result.final = response if isinstance(response, dict) else None


class WireFallback:
    """What :class:`~anyllm.testing.harness.ConformanceClient` does when anyllm's client
    refuses a reply and the wire is at hand (see the module doc)."""

    validator: CaseValidator

    def _arrived(self, exc: AnyLLMError) -> dict[str, Any]:
        """The client refused a success reply that is a JSON object: the case checks the object
        that arrived (its CASE-ERROR follows from the wire's findings). Anything else raises."""
        reply = self.validator.wire_reply()
        if reply is None or reply.status >= 400:
            raise exc
        self.validator.refused(exc, reply, None)
        body = raw_json(reply)
        if body is None:
            raise exc
        self.validator.expect(
            False, "CASE-ERROR", f"anyllm refused the reply ({exc}); the case checks what arrived"
        )
        return body

    def _refused_stream(self, result: StreamResult, error: AnyLLMError, limit: int | None = None) -> None:
        """The client gave up on a stream the server sent more of: the case goes on with every
        event that arrived (the first ``limit``), read from the wire."""
        reply = self.validator.wire_reply()
        if reply is None:
            return
        raw = raw_stream(reply)
        if len(raw) <= len(result.events):
            return  # the client saw every event: the error is the stream's own (response.failed, ...)
        self.validator.refused(error, reply, len(result.events))
        result.events, result.terminal, result.final, result.from_wire = [], None, None, True
        for body in raw[:limit]:
            collect_event(result, body)

    def _prefix_refused(self, result: StreamResult, error: AnyLLMError, count: int) -> None:
        """A refused stream of which a case reads a prefix: the wire's prefix, or the error."""
        self._refused_stream(result, error, count)
        if not result.from_wire:
            raise error
        result.error = error
        self.validator.expect(False, "CASE-STREAM-ERROR", f"the stream failed in the client ({error})")
