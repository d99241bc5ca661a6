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

__all__ = ["PART_TEXT_FIELD", "Item", "Part", "StreamState", "item_texts"]

PART_TEXT_FIELD = {"refusal": "refusal"}  # other part types keep their text in "text"


@dataclass(slots=True)
class Part:
    """A content part or summary part as streamed: its deltas, its done text, whether closed."""

    chunks: list[str] = field(default_factory=list)
    done_text: str | None = None
    closed: bool = False
    ghost: bool = False

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
        self._order: list[int] = []
        self._finished = False
        self._incomplete_item: str | None = None
        self._line: int | None = None

    def _on_body(self, body: dict[str, Any], name: str | None) -> None:
        """Check one event body; :class:`~anyllm.testing.validate.stream.StreamValidator` dispatches."""
        raise NotImplementedError
