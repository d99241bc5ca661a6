"""Stream rules on output items: added before use, sequential and unique, closed once and matching.

Covers ``response.output_item.added`` / ``.done`` and the ``output_index`` / ``item_id`` every
other item event names; a done item's content, summary and arguments must equal what was
streamed for it (:mod:`.stream_deltas` collects that).
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.validate.stream_state import Item, StreamState, item_texts

__all__ = ["ItemTracking"]


class ItemTracking(StreamState):
    """Tracks each output item's lifecycle by ``output_index``."""

    def _item_for(self, body: dict[str, Any], index: int) -> Item:
        oi = body.get("output_index")
        st = self._items.get(oi) if type(oi) is int else None
        if st is None:
            self._sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} for output_index {oi!r} before its response.output_item.added",
                self._line,
            )
            st = Item(body.get("item_id"), None, oi if type(oi) is int else -1, added=False)
            if type(oi) is int:
                self._items[oi] = st
            return st
        if st.done:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{body.get('type')!r} for item {st.id!r} after its output_item.done",
                self._line,
            )
        item_id = body.get("item_id")
        if item_id is not None and st.id is not None and item_id != st.id:
            self._sink.add(
                "OUTPUT-INDEX-CONSISTENT",
                (index, "item_id"),
                f"item_id {item_id!r} but output_index {oi} holds {st.id!r}",
                self._line,
            )
        return st

    def _on_item_added(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        oi = body.get("output_index")
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        if type(oi) is not int:
            return
        existing = self._items.get(oi)
        if existing is not None and existing.added:
            sink.add(
                "ITEM-ADDED-UNIQUE", (index, "output_index"), f"output_index {oi} added twice", self._line
            )
            return
        if self._incomplete_item is not None:
            sink.add(
                "ITEM-INCOMPLETE-LAST",
                (index,),
                f"item added after {self._incomplete_item!r} ended incomplete (it must be the last item)",
                self._line,
            )
        if oi != len(self._order):
            sink.add(
                "OUTPUT-INDEX-SEQUENTIAL",
                (index, "output_index"),
                f"output_index {oi}, expected {len(self._order)}",
                self._line,
            )
        st = Item(item.get("id"), item.get("type"), oi)
        if existing is not None:  # deltas arrived first (already reported)
            st.parts, st.summary, st.args = existing.parts, existing.summary, existing.args
        if isinstance(item.get("call_id"), str):
            st.call_id = item["call_id"]
        self._items[oi] = st
        self._order.append(oi)

    def _open_parts(self, st: Item, index: int) -> None:
        for ci, part in st.parts.items():
            if not part.closed:
                self._sink.add(
                    "CONTENT-PART-DONE-MISSING",
                    (index,),
                    f"content part {ci} of item {st.id!r} was never closed with response.content_part.done",
                    self._line,
                )
                part.closed = True

    def _on_item_done(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        oi = body.get("output_index")
        st = self._items.get(oi) if type(oi) is int else None
        if st is None or not st.added:
            sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"output_item.done for output_index {oi!r} ({item.get('id')!r}) that was never added",
                self._line,
            )
            if type(oi) is not int:
                return
            ghost = st
            st = Item(item.get("id"), item.get("type"), oi)
            if ghost is not None:
                st.parts, st.summary, st.args = ghost.parts, ghost.summary, ghost.args
            self._items[oi] = st
            self._order.append(oi)
        elif st.done:
            sink.add("ITEM-EVENT-AFTER-DONE", (index,), f"item {st.id!r} closed twice", self._line)
            return
        else:
            if item.get("id") != st.id or item.get("type") != st.type:
                sink.add(
                    "ITEM-DONE-MATCHES-ADDED",
                    (index, "item"),
                    f"done item {item.get('type')!r} {item.get('id')!r}, added {st.type!r} {st.id!r}",
                    self._line,
                )
        st.done = True
        st.final = item
        if isinstance(item.get("call_id"), str):
            if st.call_id is not None and st.call_id != item["call_id"]:
                sink.add(
                    "TOOL-CALL-ID-MATCHES",
                    (index, "item", "call_id"),
                    f"call_id {item['call_id']!r} at done, {st.call_id!r} when added",
                    self._line,
                )
            st.call_id = item["call_id"]
        if item.get("status") == "incomplete":
            self._incomplete_item = st.id
        if item.get("status") == "in_progress":
            sink.add(
                "ITEM-DONE-STATUS",
                (index, "item", "status"),
                "output_item.done with status in_progress",
                self._line,
            )
        self._open_parts(st, index)
        texts = item_texts(item)
        for ci, part in st.parts.items():
            if part.ghost:
                continue
            key = f"content[{ci}]"
            if texts.get(key) != part.text():
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "content", ci),
                    f"{key} is {texts.get(key)!r}, streamed {part.text()!r}",
                    self._line,
                )
        for si, part in st.summary.items():
            key = f"summary[{si}]"
            if texts.get(key) != part.text():
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "summary", si),
                    f"{key} is {texts.get(key)!r}, streamed {part.text()!r}",
                    self._line,
                )
        if st.args or st.args_done is not None:
            args = st.args_done if st.args_done is not None else "".join(st.args)
            if texts.get("arguments") != args:
                sink.add(
                    "ITEM-DONE-CONTENT-MATCHES",
                    (index, "item", "arguments"),
                    f"arguments {texts.get('arguments')!r}, streamed {args!r}",
                    self._line,
                )
