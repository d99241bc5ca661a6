"""Stream rules on the response itself: one id throughout, errors, and the terminal event.

Exactly one terminal event (completed, failed, incomplete) with the status its type names;
items still open at a successful end are reported; the terminal response's output must be
the streamed items, in order, with the same ids, call ids and texts, each keeping the type,
name, role and status of its ``output_item.done`` ("no updates may be made to the item after"
it completed: Items are state machines), and passes the rules on a whole response
(:func:`~anyllm.testing.validate.response_rules.check_response_rules`).
"""

from __future__ import annotations

from typing import Any

from anyllm.spec import TERMINAL_EVENT_STATUS
from anyllm.testing.validate.response_rules import check_response_rules
from anyllm.testing.validate.stream_items import ItemTracking
from anyllm.testing.validate.stream_state import Item, item_texts, streamed_texts
from anyllm.testing.validate.violations import JsonPath

__all__ = ["ResponseLifecycle"]

FIXED_AFTER_DONE = ("type", "name", "role", "status")  # besides texts and call_id, checked apart


def _named(st: Item) -> str:
    """``item 'msg_1' (output_index 1)``; ``the item at output_index 1`` when it has no id."""
    return f"{st.label} (output_index {st.output_index})" if isinstance(st.id, str) else st.label


class ResponseLifecycle(ItemTracking):
    """Tracks the response snapshots, error events and the terminal event."""

    def _check_response_id(self, resp: dict[str, Any], index: int) -> None:
        rid = resp.get("id")
        if not isinstance(rid, str):
            return
        if self._response_id is None:
            self._response_id = rid
        elif rid != self._response_id:
            self._sink.add(
                "STREAM-RESPONSE-ID-STABLE",
                (index, "response", "id"),
                f"response id {rid!r}, earlier {self._response_id!r}",
                self._line,
            )

    def _on_snapshot(self, body: dict[str, Any], index: int) -> None:
        resp = body.get("response")
        if isinstance(resp, dict):
            self._check_response_id(resp, index)

    def _on_error(self, body: dict[str, Any], index: int) -> None:
        self._error_at = index
        err = body.get("error")
        if isinstance(err, dict):
            self._checker.error_type(err, (index, "error"), self._line)

    def _on_terminal(self, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        t = body["type"]
        if self._terminal_at is not None:
            sink.add("TERMINAL-EVENT-UNIQUE", (index,), f"second terminal event {t!r}", self._line)
            return
        self._terminal_at = index
        if t == "response.failed":
            self._error_at = None
        resp = body.get("response")
        if not isinstance(resp, dict):
            return
        self._check_response_id(resp, index)
        expected = TERMINAL_EVENT_STATUS[t]
        if resp.get("status") != expected:
            sink.add(
                "TERMINAL-STATUS-MATCHES",
                (index, "response", "status"),
                f"{t} carries status {resp.get('status')!r}",
                self._line,
            )
        streamed = [self._items[oi] for oi in self._order]
        if t != "response.failed":
            for st in streamed:
                if not st.done:
                    sink.add(
                        "ITEM-DONE-MISSING",
                        (index,),
                        f"{_named(st)} was never closed with response.output_item.done",
                        self._line,
                    )
                    self._open_parts(st, index)
        self._compare_output(t, resp, streamed, index)
        check_response_rules(sink, resp, (index, "response"), self._request, self._line)

    def _compare_output(self, t: str, resp: dict[str, Any], streamed: list[Item], index: int) -> None:
        sink = self._sink
        output = resp.get("output")
        if not isinstance(output, list):
            return
        base: JsonPath = (index, "response", "output")
        if not output:
            if streamed and t != "response.failed":
                sink.add(
                    "TERMINAL-OUTPUT-EMPTY",
                    base,
                    f"{t} has an empty output but {len(streamed)} item(s) were streamed",
                    self._line,
                )
            return
        final_ids = [it.get("id") if isinstance(it, dict) else None for it in output]
        streamed_ids = {st.id for st in streamed}
        for pos, st in enumerate(streamed):
            if pos >= len(output):
                sink.add(
                    "TERMINAL-OUTPUT-MATCHES-STREAM",
                    base,
                    f"streamed {_named(st)} is missing from the final output",
                    self._line,
                )
                continue
            final = output[pos]
            if not isinstance(final, dict):
                continue
            if final.get("id") != st.id:
                where = "at another position" if st.id in final_ids else "missing"
                sink.add(
                    "TERMINAL-OUTPUT-MATCHES-STREAM",
                    (*base, pos, "id"),
                    f"streamed {_named(st)} is {where} in the final output (found {final.get('id')!r})",
                    self._line,
                )
                continue
            if st.call_id is not None and final.get("call_id") != st.call_id:
                sink.add(
                    "TOOL-CALL-ID-MATCHES",
                    (*base, pos, "call_id"),
                    f"call_id {final.get('call_id')!r} in the final response, {st.call_id!r} in the stream",
                    self._line,
                )
            if st.final is not None and final != st.final:
                self._compare_fixed(final, st.final, (*base, pos))
                got, want = item_texts(final), item_texts(st.final)
                for key in sorted(set(got) | set(want)):
                    if got.get(key) != want.get(key):
                        sink.add(
                            "TERMINAL-OUTPUT-MATCHES-STREAM",
                            (*base, pos),
                            f"{key} differs from the streamed item: {got.get(key)!r} vs {want.get(key)!r}",
                            self._line,
                        )
            elif st.final is None and t != "response.failed":
                # Never done: the final text against the deltas themselves (a failed response
                # may hold an unfinished item as it was when it failed).
                self._compare_deltas(final, st, (*base, pos))
        for pos in range(len(streamed), len(output)):
            final = output[pos]
            fid = final.get("id") if isinstance(final, dict) else None
            if fid not in streamed_ids:
                sink.add(
                    "ITEM-NOT-STREAMED",
                    (*base, pos),
                    f"final output[{pos}] ({fid!r}) was never streamed (no output_item.added/done)",
                    self._line,
                )
                ghost = self._ids.get(fid) if isinstance(fid, str) else None
                ghost = ghost or self._items.get(pos)
                unfinished = ghost is not None and not ghost.added and t != "response.failed"
                if isinstance(final, dict) and ghost is not None and unfinished:
                    self._compare_deltas(final, ghost, (*base, pos))

    def _compare_deltas(self, final: dict[str, Any], st: Item, path: JsonPath) -> None:
        """An item whose deltas arrived but whose ``*.done`` events did not (or that was never
        added): its final text, empty or cut short included, must still be what was streamed."""
        streamed = streamed_texts(st)
        got = item_texts(final)
        for key in sorted(streamed):
            if got.get(key) != streamed[key]:
                self._sink.add(
                    "TERMINAL-OUTPUT-MATCHES-STREAM",
                    path,
                    f"{key} is {got.get(key)!r} in the final response, the deltas streamed {streamed[key]!r}",
                    self._line,
                )

    def _compare_fixed(self, final: dict[str, Any], done: dict[str, Any], path: JsonPath) -> None:
        """A field fixed once the item was done (its type, name, role, status) changed after."""
        for key in FIXED_AFTER_DONE:
            if key in done and final.get(key) != done[key]:
                self._sink.add(
                    "TERMINAL-ITEM-MATCHES-DONE",
                    (*path, key),
                    f"{key} is {final.get(key)!r} in the final response, {done[key]!r} at output_item.done",
                    self._line,
                )
