"""Stream rules on output items: added before use, sequential and unique, closed once and matching.

Covers ``response.output_item.added`` / ``.done`` and the ``output_index`` / ``item_id`` every
other item event names; a done item's content, summary and arguments must equal what was
streamed for it (:mod:`.stream_deltas` collects that).

Between added and done only ``id`` and ``type`` are fixed: the spec has the added item carry
"as much detail as is available at that time" (Items are streamable), so ``call_id``,
``arguments`` and ``status`` may be filled in by ``output_item.done``, which is the item's
final state (rule ``TOOL-CALL-ID-MATCHES`` then holds the terminal response to it).
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.validate.stream_state import NO_INDEX, Item, StreamState, index_label, item_texts

__all__ = ["ItemTracking"]


class ItemTracking(StreamState):
    """Tracks each output item's lifecycle by ``output_index``."""

    def _item_for(self, body: dict[str, Any], index: int) -> Item:
        oi = body.get("output_index")
        item_id = body.get("item_id")
        if type(oi) is int:
            st = self._items.get(oi)
        else:
            # No output_index (reported by the schema): the item this event names by item_id.
            st = self._ids.get(item_id) if isinstance(item_id, str) else None
            if st is not None and not st.added:
                return st  # deltas of an item never added: reported at its first event
        if st is None:
            self._sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} with {self._naming(oi, item_id)} before its "
                "response.output_item.added",
                self._line,
            )
            st = Item(item_id, None, oi if type(oi) is int else NO_INDEX, added=False)
            if type(oi) is int:
                self._items[oi] = st
            if isinstance(item_id, str):
                self._ids.setdefault(item_id, st)
            return st
        if st.done:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{body.get('type')!r} for {st.label} after its output_item.done",
                self._line,
            )
        if item_id is not None and st.id is not None and item_id != st.id:
            self._sink.add(
                "OUTPUT-INDEX-CONSISTENT",
                (index, "item_id"),
                f"item_id {item_id!r} but output_index {oi} holds {st.id!r}",
                self._line,
            )
        return st

    @staticmethod
    def _naming(oi: Any, item_id: Any) -> str:
        """How an event names its item: ``output_index 0``, or its item_id when it has no index."""
        if type(oi) is not int and isinstance(item_id, str):
            return f"item_id {item_id!r} (no output_index)"
        return index_label("output_index", oi)

    def _remember(self, st: Item) -> None:
        """File an item under its id too, taking over what was streamed for it before."""
        if not isinstance(st.id, str):
            return
        ghost = self._ids.get(st.id)
        if ghost is not None and ghost is not st and not ghost.added:
            st.parts = st.parts or ghost.parts
            st.summary = st.summary or ghost.summary
            st.args = st.args or ghost.args
        self._ids[st.id] = st

    def _on_item_added(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        raw = body.get("output_index")
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        indexed = type(raw) is int
        # No output_index (the schema reports it): the item takes the next position, and
        # later events find it by item_id.
        oi: int = raw if isinstance(raw, int) and indexed else len(self._order)
        existing = self._items.get(oi) if indexed else None
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
        if indexed and oi != len(self._order):
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
        self._remember(st)

    def _open_parts(self, st: Item, index: int) -> None:
        for ci, part in st.parts.items():
            if not part.closed:
                self._sink.add(
                    "CONTENT-PART-DONE-MISSING",
                    (index,),
                    f"the part with {index_label('content_index', ci)} of {st.label} was never closed "
                    "with response.content_part.done",
                    self._line,
                )
                part.closed = True

    def _on_item_done(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        item = body.get("item")
        item = item if isinstance(item, dict) else {}
        oi = body.get("output_index")
        item_id = item.get("id")
        if type(oi) is int:
            st = self._items.get(oi)
        else:  # no output_index (the schema reports it): the item of this id
            st = self._ids.get(item_id) if isinstance(item_id, str) else None
        if st is None or not st.added:
            sink.add(
                "ITEM-ADDED-BEFORE-DELTA",
                (index,),
                f"output_item.done with {self._naming(oi, item_id)} ({item_id!r}) that was never added",
                self._line,
            )
            ghost = st
            position = oi if type(oi) is int else len(self._order)
            st = Item(item_id, item.get("type"), position)
            if ghost is not None:
                st.parts, st.summary, st.args = ghost.parts, ghost.summary, ghost.args
            self._items[position] = st
            self._order.append(position)
            self._remember(st)
        elif st.done:
            sink.add("ITEM-EVENT-AFTER-DONE", (index,), f"{st.label} closed twice", self._line)
            return
        else:
            if item.get("id") != st.id or item.get("type") != st.type:
                sink.add(
                    "ITEM-DONE-MATCHES-ADDED",
                    (index, "item"),
                    f"done item {item.get('type')!r} {item.get('id')!r}, added {st.type!r} {st.id!r}",
                    self._line,
                )
        if st.args and st.args_done is None:
            sink.add(
                "DELTA-DONE-MISSING",
                (index,),
                f"the argument deltas of {st.label} were never closed by function_call_arguments.done",
                self._line,
            )
        st.done = True
        st.final = item
        if isinstance(item.get("call_id"), str):
            st.call_id = item["call_id"]  # filled in by done: see the module docstring
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
            if si == NO_INDEX:
                continue  # deltas without a summary_index: reported already, nowhere to compare
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
