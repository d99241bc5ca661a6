"""Gemini output the spec has no item for, kept as extension items; grounding as citations.

Decisions (listed with the others in :mod:`anyllm.translate.gemini.response`):

* A part of a kind other than text, thought and ``functionCall`` (``executableCode`` and
  ``codeExecutionResult`` from the code-execution tool, ``inlineData`` images, ...) becomes
  the extension item ``{"type": "gemini:<kind in snake_case>", "id", "status", "part":
  <the part as Gemini sent it>}`` (the spec's "Items are extensible"), added and done at
  once (Gemini sends parts whole). Sent back, ``part`` goes into the model turn verbatim,
  thought signature included.
* ``groundingMetadata`` (Grounding with Google Search): every ``groundingSupports`` entry
  becomes ``url_citation`` annotations, one per grounding chunk it cites that has a URL
  (``web.uri``, ``retrievedContext.uri``), over the supported segment of the message text.
  Gemini gives the segment in UTF-8 byte offsets; they are converted to the character
  offsets the annotation uses, and checked against the segment's text (a segment that is
  not found in the text gets no annotation). The whole metadata (search queries, the
  ``searchEntryPoint`` widget Google asks apps to show, chunks, supports) is kept in a
  ``gemini:grounding_metadata`` item after the message, and ``urlContextMetadata`` in a
  ``gemini:url_context_metadata`` item. These describe a previous answer and have no place
  in a request: the bridge does not send them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from anyllm.translate.common import new_id

__all__ = ["METADATA_ITEMS", "SLUG", "grounding_citations", "part_item", "part_kind"]

SLUG = "gemini:"
# Candidate fields kept whole, each as an extension item after the message.
METADATA_ITEMS = {
    "groundingMetadata": ("gemini:grounding_metadata", "grounding_metadata"),
    "urlContextMetadata": ("gemini:url_context_metadata", "url_context_metadata"),
}
# Part fields that qualify a part rather than name its kind.
_QUALIFIERS = frozenset({"thought", "thoughtSignature", "partMetadata", "videoMetadata", "mediaResolution"})
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def part_kind(part: Mapping[str, Any]) -> str | None:
    """The field naming a part's kind (``executableCode``), ignoring qualifiers."""
    return next((key for key in part if key not in _QUALIFIERS), None)


def part_item(part: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """A part the spec has no item for, as a ``gemini:<kind>`` extension item."""
    return {
        "type": SLUG + _CAMEL.sub("_", kind).lower(),
        "id": new_id("ext"),
        "status": "completed",
        "part": dict(part),
    }


def _char_offset(text: str, byte_offset: int) -> int | None:
    """The character index of a UTF-8 byte offset into ``text`` (None if it splits a character)."""
    encoded = text.encode("utf-8")
    if not 0 <= byte_offset <= len(encoded):
        return None
    try:
        return len(encoded[:byte_offset].decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _span(text: str, segment: Mapping[str, Any]) -> tuple[int, int] | None:
    """(start, end) characters of a grounding segment in ``text``, checked against its text."""
    raw_start, raw_end = segment.get("startIndex", 0), segment.get("endIndex")
    quoted = segment.get("text")
    if isinstance(raw_start, int) and isinstance(raw_end, int):
        start, end = _char_offset(text, raw_start), _char_offset(text, raw_end)
        if (
            start is not None
            and end is not None
            and start <= end
            and (not isinstance(quoted, str) or text[start:end] == quoted)
        ):
            return start, end
    if isinstance(quoted, str) and quoted:
        found = text.find(quoted)
        if found >= 0:
            return found, found + len(quoted)
    return None


def _source(chunk: Any) -> Mapping[str, Any] | None:
    """A grounding chunk's source: ``web`` (Google Search) or ``retrievedContext`` (Vertex RAG)."""
    if not isinstance(chunk, Mapping):
        return None
    return next(
        (chunk[key] for key in ("web", "retrievedContext") if isinstance(chunk.get(key), Mapping)), None
    )


def grounding_citations(text: str, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """url_citation annotations for ``text`` (the message written) from ``groundingMetadata``."""
    chunks = metadata.get("groundingChunks")
    chunks = chunks if isinstance(chunks, list) else []
    found: list[dict[str, Any]] = []
    for support in metadata.get("groundingSupports") or []:
        if not isinstance(support, Mapping) or not isinstance(support.get("segment"), Mapping):
            continue
        span = _span(text, support["segment"])
        if span is None:
            continue
        for number in support.get("groundingChunkIndices") or []:
            source = (
                _source(chunks[number]) if isinstance(number, int) and 0 <= number < len(chunks) else None
            )
            url = source.get("uri") if source is not None else None
            if source is not None and isinstance(url, str) and url:
                title = source.get("title")
                found.append(
                    {
                        "type": "url_citation",
                        "url": url,
                        "title": title if isinstance(title, str) else "",
                        "start_index": span[0],
                        "end_index": span[1],
                    }
                )
    return found
