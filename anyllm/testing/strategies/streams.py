"""Whole conforming event streams, and the raw SSE bytes that carry them.

A :class:`Script` (text, refusal, reasoning and tool-call steps, then an ending) is played
through the library's own ``ResponseStreamBuilder``, so every stream generated here is
one the bridges could emit; :func:`sse_streams` frames it with random line ends,
comments, ``event:`` and ``id:`` lines, and :func:`chunked` cuts the bytes anywhere.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from anyllm.testing.strategies.values import _NAME, _text, json_values

__all__ = ["Script", "Step", "chunked", "event_streams", "play_script", "scripts", "sse_streams"]


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a model does while streaming.

    ``kind``: ``text``, ``refusal``, ``reasoning`` (``pieces`` are the deltas), ``tool``
    (``name`` and argument ``pieces``), ``encrypted`` (opaque reasoning state, ``pieces[0]``)
    or ``break`` (the provider closes its current block).
    """

    kind: str
    pieces: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Script:
    """A model turn: steps, then an ending (``completed``, ``incomplete`` or ``failed``)."""

    steps: tuple[Step, ...]
    ending: str = "completed"
    usage: tuple[int, int] | None = None
    model: str = "fuzz-model"
    reason: str = "max_output_tokens"
    request: Mapping[str, Any] = field(default_factory=dict)

    def texts(self, kind: str) -> list[str]:
        """The whole text of each step of ``kind`` (what the final response must hold)."""
        return ["".join(step.pieces) for step in self.steps if step.kind == kind]


def _pieces(min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(_text(1, 8), min_size=min_size, max_size=4).map(tuple)


def _argument_pieces() -> st.SearchStrategy[tuple[str, ...]]:
    """A JSON object's text, cut into fragments at arbitrary positions (as providers do)."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, ...]:
        value = draw(
            st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), json_values(3), max_size=3)
        )
        text = json.dumps(value, ensure_ascii=False)
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=3))))
        bounds = [0, *cuts, len(text)]
        return tuple(text[a:b] for a, b in itertools.pairwise(bounds) if b > a)

    return build()


_STEPS: dict[str, st.SearchStrategy[Step]] = {
    "text": st.builds(Step, st.just("text"), _pieces()),
    "refusal": st.builds(Step, st.just("refusal"), _pieces()),
    "reasoning": st.builds(Step, st.just("reasoning"), _pieces()),
    "tool": st.builds(Step, st.just("tool"), _argument_pieces(), _NAME),
    "encrypted": st.builds(Step, st.just("encrypted"), _text(1, 12).map(lambda s: (s,))),
    "break": st.just(Step("break")),
}


def scripts(
    *, kinds: tuple[str, ...] | None = None, endings: tuple[str, ...] = ("completed", "incomplete", "failed")
) -> st.SearchStrategy[Script]:
    """Model turns made of up to six steps (restricted to ``kinds`` when given)."""
    step = st.one_of([_STEPS[kind] for kind in (kinds or tuple(_STEPS))])
    return st.builds(
        Script,
        st.lists(step, max_size=6).map(tuple),
        st.sampled_from(endings),
        st.none() | st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
        _NAME,
        st.sampled_from(["max_output_tokens", "content_filter"]),
    )


def play_script(script: Script) -> list[dict[str, Any]]:
    """The event stream ``ResponseStreamBuilder`` makes of ``script`` (what bridges emit)."""
    from anyllm.translate.common import usage_dict
    from anyllm.translate.stream import ResponseStreamBuilder

    request = {"model": script.model, "input": "fuzz", **script.request}
    builder = ResponseStreamBuilder(request, model=script.model)
    events = builder.start()
    for number, step in enumerate(script.steps):
        if step.kind == "tool":
            events += builder.tool_call(number, call_id=f"call_{number}", name=step.name)
            for piece in step.pieces:
                events += builder.tool_call(number, arguments=piece)
            events += builder.end_tool_call(number)
        elif step.kind == "encrypted":
            events += builder.encrypted_reasoning(step.pieces[0])
        elif step.kind == "break":
            events += builder.end_items()
        else:
            method = {"text": builder.text, "refusal": builder.refusal, "reasoning": builder.reasoning}[
                step.kind
            ]
            for piece in step.pieces:
                events += method(piece)
    if script.usage is not None:
        builder.set_usage(usage_dict(*script.usage))
    if script.ending == "incomplete":
        events += builder.incomplete(script.reason)
    elif script.ending == "failed":
        events += builder.fail("the model failed")
    else:
        events += builder.complete()
    return events


def event_streams(**kwargs: Any) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Whole conforming Responses event streams (lists of event dicts, in order)."""
    return scripts(**kwargs).map(play_script)


# --- Raw SSE bytes ----------------------------------------------------------------------------------

_EOLS = ("\n", "\r\n", "\r")


@st.composite
def _frame(
    draw: st.DrawFn,
    events: list[dict[str, Any]],
    *,
    named: bool,
    ids: bool,
    done: bool,
    mixed: bool,
    eols: tuple[str, ...],
) -> bytes:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(": stream opened")
    payloads: list[tuple[str | None, str]] = [
        (event["type"] if named else None, json.dumps(event, ensure_ascii=draw(st.booleans())))
        for event in events
    ]
    if done:
        payloads.append((None, "[DONE]"))
    for number, (name, data) in enumerate(payloads):
        if draw(st.integers(0, 5)) == 0:
            lines.append(": keep-alive")
        if ids and draw(st.booleans()):
            lines.append(f"id: {number}")
        if name is not None:
            lines.append(f"event:{' ' if draw(st.booleans()) else ''}{name}")
        if data != "[DONE]" and draw(st.integers(0, 3)) == 0:
            # Multi-line data: indented JSON, one `data:` line per line; joined with LF it parses the same.
            body = json.dumps(json.loads(data), indent=1, ensure_ascii=False)
            lines.extend(f"data: {part}" for part in body.split("\n"))
        else:
            lines.append(f"data:{' ' if draw(st.booleans()) else ''}{data}")
        lines.append("")  # the blank line that dispatches the event
    out: list[str] = []
    previous = ""
    single = draw(st.sampled_from(eols))
    for line in lines:
        eol = draw(st.sampled_from(eols)) if mixed else single
        if previous == "\r" and not line and eol == "\n":
            eol = "\r\n"  # CR then a bare LF would be one CRLF, swallowing this blank line
        out.append(line + eol)
        previous = eol
    raw = "".join(out).encode("utf-8")
    if draw(st.integers(0, 7)) == 0:
        raw = b"\xef\xbb\xbf" + raw  # a leading BOM is allowed and ignored
    return raw


def sse_streams(
    events: st.SearchStrategy[list[dict[str, Any]]] | None = None,
    *,
    named: bool = True,
    ids: bool = False,
    done: bool = True,
    mixed: bool = True,
    eols: tuple[str, ...] = _EOLS,
) -> st.SearchStrategy[tuple[list[dict[str, Any]], bytes]]:
    """(events, raw SSE bytes encoding them) with random framing: LF/CRLF/CR line ends
    (one per stream, or mixed line by line), comments, ``event:`` lines, multi-line
    ``data``, optional ``id:`` lines and a BOM."""
    source = events if events is not None else event_streams()
    return source.flatmap(
        lambda evs: st.tuples(
            st.just(evs), _frame(evs, named=named, ids=ids, done=done, mixed=mixed, eols=eols)
        )
    )


def chunked(raw: bytes, max_chunks: int = 12) -> st.SearchStrategy[list[bytes]]:
    """``raw`` cut at arbitrary byte positions (inside UTF-8 characters, between CR and LF)."""
    if len(raw) < 2:
        return st.just([raw])
    cuts = st.lists(st.integers(1, len(raw) - 1), max_size=max_chunks, unique=True).map(sorted)
    return cuts.map(lambda c: [raw[a:b] for a, b in zip([0, *c], [*c, len(raw)], strict=True)])
