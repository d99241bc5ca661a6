"""Keys hidden inside recorded bodies: JSON-escaped, encoded, or streamed in pieces.

Replacing a key's bytes (:mod:`.secrets`) misses two ways a server can echo it back:

* **escaped**: JSON may write any character as ``\\uXXXX`` and ``/`` as ``\\/``, so the
  key is in the body but not in its bytes;
* **in pieces**: a streamed reply sends text in small deltas, so a cassette stores the key
  in fragments, and whatever joins the deltas again (the client, the validator's
  DELTA-DONE-MATCHES message) shows it whole.

So a JSON body, and each ``data:`` event of an SSE body, is decoded; every string is
searched for every form of every key (raw, URL-quoted, base64), and so is the
concatenation of the strings that sit at the same place in successive events (the deltas
of one item and part). Where a key is found, its characters are cut out of the fragments
that carried them and one ``<REDACTED>`` takes their place, in the first of them: the
deltas still join to the done text, which reads ``<REDACTED>`` at the same spot. Only
events (or bodies) that held a key are re-serialized; every other byte stays as it came.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["scrub_json_text", "scrub_sse_text", "scrub_structured"]

REDACTED = "<REDACTED>"
# Fields that tell one stream of deltas from another (Responses, chat, Anthropic, Gemini).
_IDENTITY = ("index", "item_id", "output_index", "content_index", "summary_index")
_LINE_END = re.compile(r"(\r\n|\r|\n)")

Path = tuple[Any, ...]


class _Leaf:
    """One string of one decoded event: where it sits, and its (possibly scrubbed) text."""

    __slots__ = ("container", "key", "text")

    def __init__(self, container: Any, key: Any, text: str) -> None:
        self.container, self.key, self.text = container, key, text

    def store(self) -> None:
        self.container[self.key] = self.text


def _leaves(data: Any, path: Path, identity: Path) -> Iterator[tuple[Path, Path, _Leaf]]:
    """(path, identity, leaf) of every string in ``data``; identity collects the fields
    that name which item/part/choice the string belongs to, on the way down."""
    if isinstance(data, dict):
        here = identity + tuple((k, data[k]) for k in _IDENTITY if isinstance(data.get(k), str | int | float))
        for key, value in data.items():
            if isinstance(value, str):
                yield (*path, key), here, _Leaf(data, key, value)
            else:
                yield from _leaves(value, (*path, key), here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, str):
                yield (*path, index), identity, _Leaf(data, index, value)
            else:
                yield from _leaves(value, (*path, index), identity)


def _spans(text: str, forms: Sequence[str]) -> list[tuple[int, int]]:
    """Merged [start, end) spans of every occurrence of every form in ``text``."""
    found: list[tuple[int, int]] = []
    for form in forms:
        start = text.find(form)
        while start >= 0:
            found.append((start, start + len(form)))
            start = text.find(form, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _redact_across(leaves: list[_Leaf], forms: Sequence[str]) -> bool:
    """Cut every key out of the concatenation of ``leaves``' texts; True if any was there."""
    joined = "".join(leaf.text for leaf in leaves)
    spans = _spans(joined, forms)
    if not spans:
        return False
    offsets, position = [], 0
    for leaf in leaves:
        offsets.append(position)
        position += len(leaf.text)
    for span_start, span_end in reversed(spans):  # from the end: earlier offsets stay valid
        first = True
        for leaf, offset in reversed(list(zip(leaves, offsets, strict=True))):
            start, end = max(span_start - offset, 0), min(span_end - offset, len(leaf.text))
            if start >= end:
                continue
            first = offset <= span_start
            leaf.text = leaf.text[:start] + (REDACTED if first else "") + leaf.text[end:]
    return True


def scrub_structured(documents: list[Any], forms: Sequence[str]) -> set[int]:
    """Scrub decoded JSON documents (one body, or the events of a stream, in order) in
    place; the indexes of the documents that changed."""
    groups: dict[tuple[Any, ...], list[tuple[int, _Leaf]]] = {}
    for number, document in enumerate(documents):
        kind = document.get("type") if isinstance(document, dict) else None
        for path, identity, leaf in _leaves(document, (), ()):
            groups.setdefault((kind, path, identity), []).append((number, leaf))
    changed: set[int] = set()
    for members in groups.values():
        leaves = [leaf for _, leaf in members]
        before = [leaf.text for leaf in leaves]
        for leaf in leaves:  # whole keys in one string first: each gets its own marker
            _redact_across([leaf], forms)
        _redact_across(leaves, forms)
        for (number, leaf), old in zip(members, before, strict=True):
            if leaf.text != old:
                leaf.store()
                changed.add(number)
    return changed


def _dumps(data: Any, like: str) -> str:
    compact = ", " not in like and ": " not in like
    return json.dumps(data, ensure_ascii=False, separators=(",", ":") if compact else None)


def scrub_json_text(text: str, forms: Sequence[str]) -> str:
    """A JSON body with every key (escaped or not) redacted; unchanged if it held none or is
    not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not scrub_structured([data], forms):
        return text
    return _dumps(data, text)


def scrub_sse_text(text: str, forms: Sequence[str]) -> str:
    """An SSE body with every key redacted, inside one event or across the deltas of many;
    events that held none keep their bytes."""
    pieces = _LINE_END.split(text)  # line, end, line, end, ..., last line
    lines = pieces[0::2]
    events: list[list[int]] = [[]]  # indexes of the data lines of each event
    for number, line in enumerate(lines):
        if line == "":
            if events[-1]:
                events.append([])
        elif line.startswith("data:"):
            events[-1].append(number)
    documents: list[Any] = []
    owners: list[list[int]] = []
    for data_lines in events:
        if not data_lines:
            continue
        payload = "\n".join(lines[n][5:].removeprefix(" ") for n in data_lines)
        try:
            documents.append(json.loads(payload))
        except ValueError:
            continue
        owners.append(data_lines)
    changed = scrub_structured(documents, forms)
    if not changed:
        return text
    kept: list[str | None] = list(lines)
    for index in changed:
        first, *rest = owners[index]
        kept[first] = "data: " + _dumps(documents[index], lines[first])
        for number in rest:  # a multi-line event comes back on one line
            kept[number] = None
    ends = [*pieces[1::2], ""]
    return "".join(line + end for line, end in zip(kept, ends, strict=True) if line is not None)
