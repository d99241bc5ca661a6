"""Stream rules on the response itself: one id throughout, errors, and the terminal event.

Exactly one terminal event (completed, failed, incomplete) with the status its type names;
items still open at a successful end are reported; the terminal response's output must be
the streamed items, in order, with the same ids, call ids and texts, and passes the rules on
a whole response (:func:`~anyllm.testing.validate.response_rules.check_response_rules`).
"""

from __future__ import annotations

from typing import Any

from anyllm.spec import TERMINAL_EVENT_STATUS
from anyllm.testing import rules as R
from anyllm.testing.validate.response_rules import check_response_rules
from anyllm.testing.validate.stream_items import ItemTracking
from anyllm.testing.validate.stream_state import Item, item_texts
from anyllm.testing.validate.violations import JsonPath

__all__ = ["ResponseLifecycle"]


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
        if (
            isinstance(err, dict)
            and isinstance(err.get("type"), str)
            and err["type"] not in R.SPEC_ERROR_TYPES
        ):
            self._sink.add(
                "ERROR-TYPE-KNOWN",
                (index, "error", "type"),
                f"error type {err['type']!r} is not one the spec lists",
                self._line,
            )

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
                        f"item {st.id!r} (output_index {st.output_index}) was never closed with "
                        "response.output_item.done",
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
                    f"streamed item {st.id!r} (output_index {st.output_index}) is missing from the "
                    "final output",
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
                    f"streamed item {st.id!r} at output_index {st.output_index} is {where} in the "
                    f"final output (found {final.get('id')!r})",
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
                got, want = item_texts(final), item_texts(st.final)
                for key in sorted(set(got) | set(want)):
                    if got.get(key) != want.get(key):
                        sink.add(
                            "TERMINAL-OUTPUT-MATCHES-STREAM",
                            (*base, pos),
                            f"{key} differs from the streamed item: {got.get(key)!r} vs {want.get(key)!r}",
                            self._line,
                        )
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
