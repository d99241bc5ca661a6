"""Anthropic content the spec has no item for, kept as extension items, and citations.

Decisions (see "Provider-hosted content" and "Citations" in
:mod:`anyllm.translate.anthropic.response`):

* A content block of an Anthropic-hosted tool or feature (``server_tool_use``,
  ``web_search_tool_result``, ``web_fetch_tool_result``, ``code_execution_tool_result``,
  ``mcp_tool_use``, ``mcp_tool_result``, ``container_upload``, ... any type this bridge does
  not translate) becomes the extension item ``{"type": "anthropic:<block type>", "id",
  "status", "block": <the block as Anthropic sent it>}``. The spec allows item types
  "prefixed with the canonical provider slug"; ``block`` is kept verbatim so the item is
  sent back as exactly that block on the next turn.
* ``compaction`` blocks have a spec item: ``compaction``, whose opaque ``encrypted_content``
  is ``"anthropic.compaction:" + base64(JSON of the block)``.
* Citations on a text block cite that block's text. Those with a URL
  (``web_search_result_location``; ``search_result_location`` whose ``source`` is a URL)
  become ``url_citation`` annotations spanning the block's text in the message's
  output_text part (character offsets, end exclusive). Every citation, URL or not, with
  the fields the annotation cannot hold (``cited_text``, ``encrypted_index``, document
  and page locations), is kept in one ``anthropic:citations`` item per message, emitted
  right after it: ``{"message_id", "blocks": [{"start_index", "end_index",
  "citations": [...]}]}``. Sent back, it splits the message's text into the cited blocks
  again, with their citations.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from anyllm.translate.anthropic.common import invalid
from anyllm.translate.common import new_id

__all__ = [
    "CITATIONS_TYPE",
    "COMPACTION_PREFIX",
    "SLUG",
    "block_of_item",
    "compaction_item",
    "decode_compaction",
    "hosted_item",
    "split_cited_text",
    "url_citation",
]

SLUG = "anthropic:"
CITATIONS_TYPE = "anthropic:citations"
COMPACTION_PREFIX = "anthropic.compaction:"


def hosted_item(block: Mapping[str, Any], status: str = "in_progress") -> dict[str, Any]:
    """A hosted-tool (or any untranslated) content block as an extension item."""
    return {
        "type": f"{SLUG}{block.get('type')}",
        "id": new_id("ext"),
        "status": status,
        "block": dict(block),
    }


def compaction_item(block: Mapping[str, Any], item_id: str | None = None) -> dict[str, Any]:
    """A ``compaction`` block as the spec's compaction item (the block kept opaque)."""
    packed = json.dumps(dict(block), separators=(",", ":"), ensure_ascii=False)
    return {
        "type": "compaction",
        "id": item_id or new_id("cmp"),
        "encrypted_content": COMPACTION_PREFIX + base64.b64encode(packed.encode("utf-8")).decode("ascii"),
    }


def decode_compaction(encrypted: str, where: str) -> dict[str, Any]:
    """The ``compaction`` block from :func:`compaction_item`'s ``encrypted_content``."""
    try:
        block = json.loads(base64.b64decode(encrypted[len(COMPACTION_PREFIX) :], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise invalid(where, f"not an encrypted_content this library produced ({exc})") from exc
    if not isinstance(block, dict) or block.get("type") != "compaction":
        raise invalid(where, "not an Anthropic compaction block")
    return block


def block_of_item(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The content block an ``anthropic:*`` extension item carries."""
    block = item.get("block")
    if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
        raise invalid(f"{where}.block", f"an {item.get('type')} item carries its Anthropic block in 'block'")
    return dict(block)


def url_citation(citation: Mapping[str, Any], start: int, end: int) -> dict[str, Any] | None:
    """The spec's url_citation for one Anthropic citation, or None if it names no URL."""
    url = citation.get("url")
    if not isinstance(url, str) or not url:
        source = citation.get("source")
        url = source if isinstance(source, str) and source.startswith(("http://", "https://")) else None
    if url is None:
        return None
    title = citation.get("title")
    return {
        "type": "url_citation",
        "url": url,
        "title": title if isinstance(title, str) else "",
        "start_index": start,
        "end_index": end,
    }


def split_cited_text(text: str, blocks: Any) -> list[dict[str, Any]] | None:
    """``text`` as Anthropic text blocks again: the cited spans of an ``anthropic:citations``
    item with their citations, the text between them as plain blocks. None when the spans
    do not fit ``text`` (then the text goes back as it is, without citations)."""
    if not isinstance(blocks, list):
        return None
    spans = []
    for entry in blocks:
        if not isinstance(entry, Mapping):
            return None
        start, end, citations = entry.get("start_index"), entry.get("end_index"), entry.get("citations")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(citations, list)):
            return None
        spans.append((start, end, citations))
    spans.sort(key=lambda span: span[0])
    out: list[dict[str, Any]] = []
    position = 0
    for start, end, citations in spans:
        if start < position or end < start or end > len(text):
            return None
        if start > position:
            out.append({"type": "text", "text": text[position:start]})
        if end > start:
            out.append({"type": "text", "text": text[start:end], "citations": citations})
        position = end
    if position < len(text):
        out.append({"type": "text", "text": text[position:]})
    return out
