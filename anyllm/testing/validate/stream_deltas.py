"""Stream rules on content: parts opened and closed in order, deltas against their ``done`` events.

Text (output text, refusal, reasoning), function call arguments and reasoning summaries:
every ``*.delta`` belongs to an open part of an item of the right type, and every ``*.done``
(and the closing ``content_part.done``) holds exactly the concatenated deltas.
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.validate.stream_items import ItemTracking
from anyllm.testing.validate.stream_state import PART_TEXT_FIELD, Item, Part

__all__ = ["TEXT_DELTAS", "TEXT_DONES", "DeltaTracking"]

TEXT_DELTAS: dict[str, tuple[str, str]] = {
    # delta event -> (done event, item type it belongs to)
    "response.output_text.delta": ("response.output_text.done", "message"),
    "response.refusal.delta": ("response.refusal.done", "message"),
    "response.reasoning.delta": ("response.reasoning.done", "reasoning"),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "reasoning"),  # OpenAI's name
}
TEXT_DONES: dict[str, tuple[str, str]] = {
    # done event -> (field holding the text, item type)
    "response.output_text.done": ("text", "message"),
    "response.refusal.done": ("refusal", "message"),
    "response.reasoning.done": ("text", "reasoning"),
    "response.reasoning_text.done": ("text", "reasoning"),
}


class DeltaTracking(ItemTracking):
    """Tracks content parts, summary parts and argument deltas of each item."""

    def _on_part_added(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        if type(ci) is not int:
            return
        existing = st.parts.get(ci)
        if existing is not None and not existing.ghost:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci} of item {st.id!r} added twice",
                self._line,
            )
            return
        expected = sum(1 for p in st.parts.values() if not p.ghost)
        if ci != expected:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci}, expected {expected}",
                self._line,
            )
        part = Part()
        if existing is not None:
            part.chunks = existing.chunks
            part.done_text = existing.done_text
        st.parts[ci] = part

    def _part_for(self, st: Item, body: dict[str, Any], index: int, what: str) -> Part:
        ci = body.get("content_index")
        key = ci if type(ci) is int else -1  # a missing content_index is reported by the schema
        part = st.parts.get(key)
        if part is None:
            self._sink.add(
                "CONTENT-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{what} for content_index {ci!r} of item {st.id!r} before response.content_part.added",
                self._line,
            )
            part = Part(ghost=True)
            st.parts[key] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{what} for content part {ci} of item {st.id!r} after response.content_part.done",
                self._line,
            )
        return part

    def _on_text_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        t = body["type"]
        want = TEXT_DELTAS[t][1]
        if st.type is not None and st.type != want:
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"{t!r} on a {st.type!r} item (expected {want!r})", self._line
            )
        part = self._part_for(st, body, index, t)
        delta = body.get("delta")
        if isinstance(delta, str):
            part.chunks.append(delta)

    def _on_text_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        t = body["type"]
        key, want = TEXT_DONES[t]
        if st.type is not None and st.type != want:
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"{t!r} on a {st.type!r} item (expected {want!r})", self._line
            )
        part = self._part_for(st, body, index, t)
        text = body.get(key)
        if isinstance(text, str):
            joined = "".join(part.chunks)
            if text != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, key),
                    f"{t} holds {text!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            part.done_text = text

    def _on_annotation(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        self._part_for(st, body, index, body["type"])

    def _on_part_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        part = st.parts.get(ci) if type(ci) is int else None
        if part is None or part.ghost:
            if part is None:
                self._sink.add(
                    "CONTENT-PART-ADDED-BEFORE-DELTA",
                    (index,),
                    f"content_part.done for content_index {ci!r} of item {st.id!r} that was never added",
                    self._line,
                )
                part = Part(ghost=True)
            if type(ci) is int:
                st.parts[ci] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE", (index,), f"content part {ci} of {st.id!r} closed twice", self._line
            )
            return
        self._close_part(part, body.get("part"), index, "text")

    def _close_part(self, part: Part, payload: Any, index: int, kind: str) -> None:
        sink = self._sink
        if part.chunks and part.done_text is None:
            sink.add(
                "DELTA-DONE-MISSING",
                (index,),
                f"{kind} deltas were never closed by their *.done event before the part closed",
                self._line,
            )
        if isinstance(payload, dict):
            field_name = PART_TEXT_FIELD.get(str(payload.get("type")), "text")
            value = payload.get(field_name)
            if (
                isinstance(value, str)
                and (part.chunks or part.done_text is not None)
                and value != part.text()
            ):
                sink.add(
                    "PART-DONE-MATCHES",
                    (index, "part", field_name),
                    f"part holds {value!r}, streamed {part.text()!r}",
                    self._line,
                )
            elif isinstance(value, str) and not part.chunks and part.done_text is None:
                part.done_text = value
        part.closed = True
        part.ghost = False

    # Function call arguments
    def _on_args_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        if st.type is not None and st.type != "function_call":
            self._sink.add(
                "DELTA-ITEM-TYPE",
                (index,),
                f"function_call_arguments.delta on a {st.type!r} item",
                self._line,
            )
        delta = body.get("delta")
        if isinstance(delta, str):
            st.args.append(delta)

    def _on_args_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        if st.type is not None and st.type != "function_call":
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"function_call_arguments.done on a {st.type!r} item", self._line
            )
        args = body.get("arguments")
        if isinstance(args, str):
            joined = "".join(st.args)
            if args != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, "arguments"),
                    f"arguments {args!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            st.args_done = args

    # Reasoning summaries
    def _summary_for(self, st: Item, body: dict[str, Any], index: int) -> Part:
        si = body.get("summary_index")
        part = st.summary.get(si if type(si) is int else -1)
        if part is None:
            self._sink.add(
                "SUMMARY-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} for summary_index {si!r} of item {st.id!r} before "
                "response.reasoning_summary_part.added",
                self._line,
            )
            part = Part(ghost=True)
            st.summary[si if type(si) is int else -1] = part
        return part

    def _on_summary_added(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        si = body.get("summary_index")
        if type(si) is not int:
            return
        if si in st.summary and not st.summary[si].ghost:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "summary_index"),
                f"summary_index {si} added twice",
                self._line,
            )
            return
        expected = sum(1 for p in st.summary.values() if not p.ghost)
        if si != expected:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "summary_index"),
                f"summary_index {si}, expected {expected}",
                self._line,
            )
        st.summary[si] = Part()

    def _on_summary_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        delta = body.get("delta")
        if isinstance(delta, str):
            part.chunks.append(delta)

    def _on_summary_text_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        text = body.get("text")
        if isinstance(text, str):
            joined = "".join(part.chunks)
            if text != joined:
                self._sink.add(
                    "DELTA-DONE-MATCHES",
                    (index, "text"),
                    f"summary text {text!r}, the deltas concatenate to {joined!r}",
                    self._line,
                )
            part.done_text = text

    def _on_summary_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        self._close_part(part, body.get("part"), index, "summary")
