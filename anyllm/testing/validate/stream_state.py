"""What the stream validator remembers between events: its items, their parts, where it is.

:class:`StreamState` is the base of the stream rule mixins (:mod:`.sse_framing`,
:mod:`.stream_items`, :mod:`.stream_deltas`, :mod:`.stream_lifecycle`); each mixin reads and
updates this state, and :class:`~anyllm.testing.validate.stream.StreamValidator` combines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anyllm.testing.rules import Profile
from anyllm.testing.validate.inputs import as_request
from anyllm.testing.validate.schema_check import SchemaChecker
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.violations import Sink

__all__ = [
    "NO_INDEX",
    "PART_TEXT_FIELD",
    "Item",
    "Part",
    "StreamState",
    "index_label",
    "item_label",
    "item_texts",
    "streamed_texts",
]

PART_TEXT_FIELD = {"refusal": "refusal"}  # other part types keep their text in "text"
NO_INDEX = -1  # where an event without a usable index is filed; never shown in a message


def index_label(name: str, value: Any) -> str:
    """``content_index 2``, or what was wrong with it: a message never shows a placeholder."""
    if type(value) is int and value != NO_INDEX:
        return f"{name} {value}"
    if value is None or value == NO_INDEX:
        return f"no {name}"
    return f"{name} {value!r}"


def item_label(item_id: Any, output_index: int) -> str:
    """``item 'msg_1'``, or ``the item at output_index 2`` when it has no id (yet)."""
    if isinstance(item_id, str):
        return f"item {item_id!r}"
    if output_index == NO_INDEX:
        return "an item without output_index"
    return f"the item at output_index {output_index}"


@dataclass(slots=True)
class Part:
    """A content part or summary part as streamed: its deltas, its done text, whether closed."""

    chunks: list[str] = field(default_factory=list)
    done_text: str | None = None
    closed: bool = False
    ghost: bool = False
    type: str | None = None  # the part's type from content_part.added (output_text, refusal, ...)

    def text(self) -> str:
        """The part's text: its ``done`` value when one came, else the deltas so far."""
        return self.done_text if self.done_text is not None else "".join(self.chunks)


@dataclass(slots=True)
class Item:
    """An output item as streamed, from its ``output_item.added`` to its ``done``."""

    id: str | None
    type: str | None
    output_index: int
    added: bool = True
    done: bool = False
    call_id: str | None = None
    parts: dict[int, Part] = field(default_factory=dict)
    summary: dict[int, Part] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    args_done: str | None = None
    final: dict[str, Any] | None = None
    last_part: int | None = None  # the content_index last added: where index-less events go

    def open_part(self) -> int | None:
        """The content_index of the part an event without ``content_index`` belongs to: the
        last part added while it is open, else the only open one (None: no such part)."""
        if self.last_part is not None:
            part = self.parts.get(self.last_part)
            if part is not None and not part.closed:
                return self.last_part
        open_parts = [ci for ci, part in self.parts.items() if not part.closed and ci != NO_INDEX]
        return open_parts[0] if len(open_parts) == 1 else None

    @property
    def label(self) -> str:
        """How messages name this item."""
        return item_label(self.id, self.output_index)


def item_texts(item: dict[str, Any]) -> dict[str, str]:
    """The streamable values of an item, keyed by where they live."""
    out: dict[str, str] = {}
    for key in ("content", "summary"):
        parts = item.get(key)
        if isinstance(parts, list):
            for i, part in enumerate(parts):
                if isinstance(part, dict):
                    value = part.get(PART_TEXT_FIELD.get(str(part.get("type")), "text"))
                    if isinstance(value, str):
                        out[f"{key}[{i}]"] = value
    if isinstance(item.get("arguments"), str):
        out["arguments"] = item["arguments"]
    return out


def streamed_texts(st: Item) -> dict[str, str]:
    """What was streamed for an item, keyed like :func:`item_texts` (``content[0]``, ...):
    only where deltas or done events came. Deltas with no content_index (filed under
    ``NO_INDEX``) count as ``content[0]`` when the item streamed no other part."""
    out: dict[str, str] = {}
    indexed = [ci for ci in st.parts if ci != NO_INDEX]
    for ci, part in st.parts.items():
        if not part.chunks and part.done_text is None:
            continue
        if ci == NO_INDEX:
            if indexed:
                continue
            ci = 0
        out[f"content[{ci}]"] = part.text()
    for si, part in st.summary.items():
        if si != NO_INDEX and (part.chunks or part.done_text is not None):
            out[f"summary[{si}]"] = part.text()
    if st.args or st.args_done is not None:
        out["arguments"] = st.args_done if st.args_done is not None else "".join(st.args)
    return out


class StreamState:
    """The validator's memory of one stream; the rule mixins share it."""

    def __init__(self, profile: Profile, request: Any, store: SchemaStore | None) -> None:
        self._sink = Sink(profile)
        self.profile: Profile = profile
        self._store = store or default_store()
        self._checker = SchemaChecker(self._store, self._sink)
        self._request = as_request(request)
        self._events = self._store.events
        self._count = 0
        self._last_seq: int | None = None
        self._framed = False
        self._done_at: int | None = None
        self._terminal_at: int | None = None
        self._error_at: int | None = None
        self._response_id: str | None = None
        self._items: dict[int, Item] = {}
        # item id -> its Item: events without output_index are matched by item_id (a server
        # that omits the indexes but keeps ids and order is judged on what it sent).
        self._ids: dict[str, Item] = {}
        self._order: list[int] = []
        self._finished = False
        self._incomplete_item: str | None = None
        self._line: int | None = None

    def _on_body(self, body: dict[str, Any], name: str | None) -> None:
        """Check one event body; :class:`~anyllm.testing.validate.stream.StreamValidator` dispatches."""
        raise NotImplementedError
