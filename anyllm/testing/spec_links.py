"""Links from a rule's section reference to the published specification.

Rules cite sections as heading paths of the prose specification ("Items / Items are state
machines"), several joined by "; ", or the OpenAPI document ("openapi.json: ..."). The report
turns each into a link to openresponses.org, pinned to the release the validator implements
(:data:`anyllm.spec.SPEC_VERSION`): the page's heading anchors are the github-slugger ids the
site's Markdown pipeline gives its headings. :data:`SPEC_HEADINGS` lists the release's
headings; a test checks it against the specification text.
"""

from __future__ import annotations

import unicodedata

from anyllm.spec import SPEC_VERSION

__all__ = ["REFERENCE_URL", "SPEC_HEADINGS", "SPEC_URL", "heading_anchor", "section_links"]

SPEC_URL = f"https://www.openresponses.org/specification/{SPEC_VERSION}"
REFERENCE_URL = f"https://www.openresponses.org/reference/{SPEC_VERSION}"

# Every heading of specification-2026-04-24.mdx, in order (inline code marks removed).
SPEC_HEADINGS: tuple[str, ...] = (
    "Motivation and Overview",
    "Key Principles",
    "Agentic Loop",
    "Items → Items",
    "Semantic events",
    "State machines",
    "Specification",
    "HTTP Requests",
    "HTTP Responses",
    "WebSocket Transport",
    "WebSocket Continuation",
    "WebSocket Compaction",
    "WebSocket Reconnects",
    "WebSocket Errors",
    "Items",
    "Items are polymorphic",
    "Items are state machines",
    "Items are streamable",
    "Items are extensible",
    "Content",
    "User Content vs Model Content",
    "Why User and Assistant Content Have Different Shapes",
    "Reasoning",
    "Errors",
    "Error Types",
    "Streaming",
    "Tools",
    "Externally-hosted tools",
    "Internally-hosted tools",
    "previous_response_id",
    "tool_choice",
    "allowed_tools",
    "truncation",
    "service_tier",
    "Implementing Open Responses",
    "The Agentic loop",
    "Extending Open Responses",
    "Extending tools",
    "Extending Items",
    "Extending streaming events",
    "Extending existing schemas",
)
_HEADINGS = frozenset(SPEC_HEADINGS)


def heading_anchor(heading: str) -> str:
    """The id github-slugger gives a heading: lower case, punctuation and symbols dropped,
    spaces made hyphens (a repeated heading would get a "-1" suffix; this release has none)."""
    kept = (
        ch
        for ch in heading.lower()
        if ch in " -_" or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


def section_links(section: str) -> list[tuple[str, str | None]]:
    """``(label, url)`` per part of a section reference. A heading path links to its deepest
    component that is a heading of the specification (the others are bold paragraph titles
    with no anchor); a reference that is neither (anyllm's own profiles) has no url."""
    links: list[tuple[str, str | None]] = []
    for part in (p.strip() for p in section.split(";")):
        if not part:
            continue
        if part.startswith("openapi.json"):
            links.append((part, REFERENCE_URL))
            continue
        heading = next((c for c in reversed([c.strip() for c in part.split("/")]) if c in _HEADINGS), None)
        links.append((part, f"{SPEC_URL}#{heading_anchor(heading)}" if heading else None))
    return links
