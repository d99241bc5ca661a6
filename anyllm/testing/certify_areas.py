"""The spec areas a certificate covers, and the ones it does not.

A certificate that says "spec 2026-04-24" must also say what of the spec it exercised: a
server can pass every case here and still break WebSocket turns or ``/responses/compact``,
which no case sends. :data:`SPEC_AREAS` is the one list of the spec's areas, each with the
conformance cases that exercise it; :func:`coverage` says, for one certify run, which areas
at least one case exercised on the server (a request reached it) and which not, and why.

An area whose ``cases`` is empty has no conformance case yet: it is listed as not covered
with that reason, never left out. Adding a case for an area is adding its id here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SPEC_AREAS", "SpecArea", "coverage"]


@dataclass(frozen=True, slots=True)
class SpecArea:
    """One area of the spec: its section and the cases that exercise it."""

    id: str
    title: str
    section: str  # the spec section (specification-2026-04-24.mdx headings, or openapi.json)
    cases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "section": self.section, "cases": list(self.cases)}


SPEC_AREAS: tuple[SpecArea, ...] = (
    SpecArea(
        "create-json",
        "POST /responses, JSON reply (ResponseResource)",
        "HTTP Requests; HTTP Responses",
        (
            "basic-response",
            "instructions",
            "system-prompt",
            "developer-message",
            "input-content-parts",
            "multi-turn",
            "unicode-text",
            "max-output-tokens-incomplete",
            "sampling-echo",
            "metadata-echo",
            "usage-accounting",
            "response-identity",
            "async-response",
        ),
    ),
    SpecArea(
        "streaming-sse",
        "Streaming over HTTP (SSE framing, event order, sequence numbers, deltas, terminal event)",
        "HTTP Responses / Streaming HTTP Responses; Streaming; Items are streamable",
        (
            "streaming-response",
            "streaming-text-matches-final",
            "streaming-unicode",
            "streaming-usage",
            "streaming-incomplete",
            "streaming-tool-call",
            "early-stream-cancel",
            "async-streaming",
            "async-early-stream-cancel",
        ),
    ),
    SpecArea(
        "tools",
        "Function tools, tool_choice and allowed_tools, tool results",
        "Tools; tool_choice; allowed_tools",
        (
            "tool-calling",
            "tool-result-round-trip",
            "parallel-tool-calls",
            "parallel-tool-calls-disabled",
            "tool-choice-none",
            "tool-choice-required",
            "tool-choice-named",
            "tool-choice-allowed-tools",
            "streaming-tool-call",
        ),
    ),
    SpecArea(
        "structured-output",
        "Structured output (text.format json_schema)",
        "openapi.json: TextParam",
        ("json-schema-output", "json-object-output"),
    ),
    SpecArea("image-input", "Image input (input_image)", "Content", ("image-input",)),
    SpecArea("file-input", "File input (input_file)", "Content", ("file-input",)),
    SpecArea("reasoning", "Reasoning items", "Reasoning", ("reasoning-items", "streaming-reasoning")),
    SpecArea(
        "state",
        "previous_response_id and store",
        "previous_response_id",
        ("previous-response-id", "store-true", "store-false"),
    ),
    SpecArea(
        "errors",
        "Error replies (status, error object, error types)",
        "Errors; Error Types",
        ("error-unknown-model", "error-bad-parameter"),
    ),
    SpecArea(
        "websocket",
        "WebSocket transport (response.create turns, continuation, reconnects, errors)",
        "WebSocket Transport",
        (
            "websocket-response",
            "websocket-continuation",
            "websocket-sequential-responses",
            "websocket-previous-response-not-found",
            "websocket-failed-continuation-evicts-cache",
            "websocket-reconnect-store-false-recovery",
            "websocket-compact-new-chain",
        ),
    ),
    SpecArea(
        "compact",
        "POST /responses/compact (standalone compaction)",
        "WebSocket Compaction; openapi.json",
        ("compact-response", "compact-missing-model", "websocket-compact-new-chain"),
    ),
)


def coverage(
    exercised: Iterable[str],
    ran: Iterable[str] = (),
    unsupported: Mapping[str, str] | None = None,
    areas: Iterable[SpecArea] = SPEC_AREAS,
) -> dict[str, list[dict[str, Any]]]:
    """{"covered": [...], "not_covered": [...]} for one run.

    ``exercised``: the cases whose requests reached the server; ``ran``: every case the run
    collected; ``unsupported``: case -> why it was not run (an undeclared capability). An
    area is covered when one of its cases was exercised; otherwise the entry says why not
    (no case for it, its cases were deselected, unsupported, or refused before the network).
    """
    done = set(exercised)
    collected = set(ran)
    skipped = dict(unsupported or {})
    covered: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for area in areas:
        hit = [c for c in area.cases if c in done]
        entry = area.to_dict()
        if hit:
            covered.append({**entry, "exercised_by": hit})
            continue
        if not area.cases:
            why = "no conformance case exercises it yet"
        elif any(c in skipped for c in area.cases):
            why = "unsupported: " + "; ".join(dict.fromkeys(skipped[c] for c in area.cases if c in skipped))
        elif not any(c in collected for c in area.cases):
            why = "its cases were not selected in this run"
        else:
            why = "no request of its cases reached the server"
        missing.append({**entry, "why": why})
    return {"covered": covered, "not_covered": missing}
