"""Stream rules on content: parts opened and closed in order, deltas against their ``done`` events.

Text (output text, refusal, reasoning), function call arguments and reasoning summaries:
every ``*.delta`` belongs to an open part of an item (and a part) of the right type and comes
before its ``*.done``, and every ``*.done`` (and the closing ``content_part.done``) holds
exactly the concatenated deltas. A ``*.done`` with no delta before it is a warning
(``DELTA-DONE-WITHOUT-DELTAS``: the spec sets no minimum number of deltas).
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.validate.stream_items import ItemTracking
from anyllm.testing.validate.stream_state import NO_INDEX, PART_TEXT_FIELD, Item, Part, index_label

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
# Text event -> the content part type it streams (``response.<content_type>.delta``).
EVENT_PART_TYPE: dict[str, str] = {
    "response.output_text.delta": "output_text",
    "response.output_text.done": "output_text",
    "response.refusal.delta": "refusal",
    "response.refusal.done": "refusal",
    "response.reasoning.delta": "reasoning_text",
    "response.reasoning.done": "reasoning_text",
    "response.reasoning_text.delta": "reasoning_text",
    "response.reasoning_text.done": "reasoning_text",
}


class DeltaTracking(ItemTracking):
    """Tracks content parts, summary parts and argument deltas of each item."""

    def _on_part_added(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        expected = sum(1 for ci_, p in st.parts.items() if not p.ghost and ci_ != NO_INDEX)
        indexed = type(ci) is int
        # No content_index (the schema reports it): the part takes the next index, and
        # index-less events of this item go to it while it is open.
        ci = ci if isinstance(ci, int) and indexed else expected
        existing = st.parts.get(ci)
        if existing is not None and not existing.ghost:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci} of {st.label} added twice",
                self._line,
            )
            return
        if indexed and ci != expected:
            self._sink.add(
                "CONTENT-INDEX-SEQUENTIAL",
                (index, "content_index"),
                f"content_index {ci}, expected {expected}",
                self._line,
            )
        payload = body.get("part")
        part_type = payload.get("type") if isinstance(payload, dict) else None
        part = Part(type=part_type if isinstance(part_type, str) else None)
        if existing is not None:
            part.chunks = existing.chunks
            part.done_text = existing.done_text
        st.parts[ci] = part
        st.last_part = ci

    def _part_for(self, st: Item, body: dict[str, Any], index: int, what: str) -> Part:
        ci = body.get("content_index")
        key = ci if type(ci) is int else self._open_index(st)  # a missing one: reported by the schema
        part = st.parts.get(key)
        if (
            part is not None
            and not part.closed
            and (part.type is None or EVENT_PART_TYPE.get(what) == part.type)
        ):
            return part  # the common case, checked first: an open part of the event's type
        where = index_label("content_index", ci)
        if part is None:
            self._sink.add(
                "CONTENT-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{what} with {where} of {st.label} before response.content_part.added",
                self._line,
            )
            part = Part(ghost=True)
            st.parts[key] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"{what} with {where} of {st.label} after response.content_part.done",
                self._line,
            )
        elif part.type is not None and what in EVENT_PART_TYPE:
            self._sink.add(
                "DELTA-PART-TYPE",
                (index, "type"),
                f"{what} into the {part.type!r} part with {where} of {st.label} "
                f"(a {EVENT_PART_TYPE[what]!r} event)",
                self._line,
            )
        return part

    @staticmethod
    def _open_index(st: Item) -> int:
        """Where an event without ``content_index`` goes: the item's open part, else nowhere
        (``NO_INDEX``, a part of its own)."""
        open_part = st.open_part()
        return NO_INDEX if open_part is None else open_part

    def _after_done(self, part: Part, st: Item, body: dict[str, Any], index: int, key: str) -> None:
        """A delta, or a second ``*.done``, after the part's (open, not yet closed) ``*.done``."""
        if part.done_text is not None and not part.closed:
            where = f"{index_label(key, body.get(key))} of {st.label}"
            self._sink.add(
                "DELTA-AFTER-DONE", (index,), f"{body['type']} for {where} after its *.done event", self._line
            )

    def _check_done(self, chunks: list[str], value: str, index: int, key: str, what: str) -> None:
        """A ``*.done`` against its deltas: equal to their concatenation, or (none) a warning."""
        joined = "".join(chunks)
        if not chunks and value:
            self._sink.add(
                "DELTA-DONE-WITHOUT-DELTAS",
                (index, key),
                f"{what} holds {value!r} but no delta streamed it",
                self._line,
            )
        elif value != joined:
            self._sink.add(
                "DELTA-DONE-MATCHES",
                (index, key),
                f"{what} holds {value!r}, the deltas concatenate to {joined!r}",
                self._line,
            )

    def _on_text_delta(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        t = body["type"]
        want = TEXT_DELTAS[t][1]
        if st.type is not None and st.type != want:
            self._sink.add(
                "DELTA-ITEM-TYPE", (index,), f"{t!r} on a {st.type!r} item (expected {want!r})", self._line
            )
        part = self._part_for(st, body, index, t)
        if part.done_text is not None:
            self._after_done(part, st, body, index, "content_index")
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
        if part.done_text is not None:
            self._after_done(part, st, body, index, "content_index")
        text = body.get(key)
        if isinstance(text, str):
            self._check_done(part.chunks, text, index, key, t)
            part.done_text = text

    def _on_annotation(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        self._part_for(st, body, index, body["type"])

    def _on_part_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        ci = body.get("content_index")
        key = ci if type(ci) is int else st.open_part()
        part = st.parts.get(key) if key is not None else None
        where = index_label("content_index", ci)
        if part is None or part.ghost:
            if part is None:
                self._sink.add(
                    "CONTENT-PART-ADDED-BEFORE-DELTA",
                    (index,),
                    f"content_part.done with {where} of {st.label} that was never added",
                    self._line,
                )
                part = Part(ghost=True)
            if key is not None:
                st.parts[key] = part
        elif part.closed:
            self._sink.add(
                "ITEM-EVENT-AFTER-DONE",
                (index,),
                f"the part with {where} of {st.label} closed twice",
                self._line,
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
        if st.args_done is not None and not st.done:
            self._sink.add(
                "DELTA-AFTER-DONE",
                (index,),
                f"function_call_arguments.delta for {st.label} after its function_call_arguments.done",
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
        if st.args_done is not None and not st.done:
            self._sink.add(
                "DELTA-AFTER-DONE",
                (index,),
                f"a second function_call_arguments.done for {st.label}",
                self._line,
            )
        args = body.get("arguments")
        if isinstance(args, str):
            self._check_done(st.args, args, index, "arguments", "function_call_arguments.done")
            st.args_done = args

    # Reasoning summaries
    def _summary_for(self, st: Item, body: dict[str, Any], index: int) -> Part:
        si = body.get("summary_index")
        part = st.summary.get(si if type(si) is int else NO_INDEX)
        if part is None:
            self._sink.add(
                "SUMMARY-PART-ADDED-BEFORE-DELTA",
                (index,),
                f"{body.get('type')!r} with {index_label('summary_index', si)} of {st.label} before "
                "response.reasoning_summary_part.added",
                self._line,
            )
            part = Part(ghost=True)
            st.summary[si if type(si) is int else NO_INDEX] = part
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
        if part.done_text is not None:
            self._after_done(part, st, body, index, "summary_index")
        delta = body.get("delta")
        if isinstance(delta, str):
            part.chunks.append(delta)

    def _on_summary_text_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        if part.done_text is not None:
            self._after_done(part, st, body, index, "summary_index")
        text = body.get("text")
        if isinstance(text, str):
            self._check_done(part.chunks, text, index, "text", "reasoning_summary_text.done")
            part.done_text = text

    def _on_summary_done(self, body: dict[str, Any], index: int) -> None:
        st = self._item_for(body, index)
        part = self._summary_for(st, body, index)
        self._close_part(part, body.get("part"), index, "summary")
