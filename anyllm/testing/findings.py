"""Findings grouped, counted and kept: never a finding dropped to make a list short.

A long stream repeats one problem on every event (a ``response.output_text.delta`` without
``sequence_number``, 137 times); a suite repeats it in every case. Capping the list (the
first 50 of a case) hid whatever came last, such as a streamed ``response.completed``
without ``completed_at``. Here findings are grouped instead:

* :func:`group_violations`: the distinct findings of one case, each once, with how often it
  occurred and its first occurrence (paths and messages with their event positions, ids,
  numbers and quoted values abstracted, so repetitions meet and distinct problems do not);
* :func:`deviations`: the distinct deviations of a whole run, each once with the cases it
  breaks. A schema message naming missing required fields is split per field (one field
  missing from every event type is one deviation), then fields missing from exactly the same
  schemas in exactly the same cases are one line again. Consequences (findings that only
  follow from another, :mod:`anyllm.testing.wire_view`) are grouped apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Deviation",
    "deviations",
    "group_violations",
    "normal_message",
    "normal_path",
]

_WIRE_TAG = re.compile(r"^\[wire #\d+[^\]]*\]\s*")
# A quoted value (a repr): its quote starts and ends it next to no letter (not "body's").
_QUOTED = re.compile(r"(?<![A-Za-z0-9])(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?![A-Za-z0-9])")
_NUMBER = re.compile(r"(?<![A-Za-z_])-?\d+(?:\.\d+)?")
_INDEX = re.compile(r"\[\d+\]")
_MISSING = re.compile(
    r"^(?P<schema>[A-Za-z0-9_#/~.]+): required propert(?:y is|ies are) missing: (?P<fields>.+)$"
)


def _flatten_objects(text: str) -> str:
    """``{...}`` and ``[...]`` JSON values in a message -> ``{…}`` / ``[…]`` (innermost first,
    so nested values collapse whole)."""
    obj, arr = "\x00o", "\x00a"  # placeholders without brackets while collapsing
    for _ in range(16):
        new = re.sub(r"\{[^{}\[\]]*\}", obj, text)
        new = re.sub(r"\[[^\[\]{}]*\]", arr, new)
        if new == text:
            break
        text = new
    return text.replace(obj, "{…}").replace(arr, "[…]")


def normal_path(path: str) -> str:
    """``$[12].response.output[0]`` -> ``$[*].response.output[*]``."""
    return _INDEX.sub("[*]", path)


def normal_message(message: str) -> str:
    """A message with what varies between repetitions abstracted: the wire tag, quoted values
    (ids, texts), JSON values and numbers."""
    text = _WIRE_TAG.sub("", message)
    text = _QUOTED.sub("'…'", text)
    text = _flatten_objects(text)
    return _NUMBER.sub("N", text)


def _key(v: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        str(v.get("rule")),
        str(v.get("severity")),
        normal_path(str(v.get("path", ""))),
        normal_message(str(v.get("message", ""))),
        str(v.get("consequence_of") or ""),
    )


def group_violations(violations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The distinct findings of a case in first-seen order: each the first occurrence (its
    ``rule``, ``severity``, ``path``, ``message``, ``section``, ...) plus ``count``."""
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for v in violations:
        key = _key(v)
        group = groups.get(key)
        if group is None:
            groups[key] = {**v, "count": 1}
        else:
            group["count"] += 1
    return list(groups.values())


@dataclass
class Deviation:
    """One distinct deviation of a run: what, where (abstracted), and the cases it breaks."""

    rule: str
    severity: str
    summary: str
    section: str = ""
    cases: list[str] = field(default_factory=list)
    occurrences: int = 0
    example: dict[str, Any] = field(default_factory=dict)  # case, path, message of the first one
    fields: list[str] = field(default_factory=list)  # missing required fields it is about
    schemas: list[str] = field(default_factory=list)  # the schemas they are missing from
    cause: str = ""  # for a consequence: what it follows from
    varied: bool = False  # its occurrences' messages differ (ids, texts): the summary abstracts them

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "summary": self.summary,
            "section": self.section,
            "cases": self.cases,
            "occurrences": self.occurrences,
            "example": self.example,
        }
        if self.fields:
            out["fields"], out["schemas"] = self.fields, self.schemas
        if self.cause:
            out["consequence_of"] = self.cause
        return out


def _entries(v: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str, str | None, str | None]]:
    """(key, summary, missing field, schema) per deviation a violation stands for."""
    rule, severity = str(v.get("rule")), str(v.get("severity"))
    message = _WIRE_TAG.sub("", str(v.get("message", "")))
    cause = str(v.get("consequence_of") or "")
    if cause:  # a consequence: grouped by rule and by what it follows from
        rules = cause.split(" at ", 1)[0]
        return [((rule, severity, "consequence", rules), f"follows from {rules}", None, None)]
    found = _MISSING.match(message)
    if found:
        schema = found.group("schema").split("#", 1)[0]
        return [
            ((rule, severity, "missing", name), f"required `{name}` missing", name, schema)
            for name in (f.strip() for f in found.group("fields").split(","))
            if name
        ]
    summary = normal_message(message)
    return [((rule, severity, "message", summary), summary, None, None)]


def deviations(rows: Sequence[Mapping[str, Any]]) -> tuple[list[Deviation], list[Deviation]]:
    """(deviations, consequences) of a run's result rows (``case`` and grouped
    ``violations`` each): errors only, each once with the cases it breaks, most cases first."""
    found: dict[tuple[str, ...], Deviation] = {}
    for row in rows:
        case = str(row.get("case"))
        for v in row.get("violations") or []:
            if v.get("severity") != "error":
                continue
            for key, summary, name, schema in _entries(v):
                dev = found.get(key)
                if dev is None:
                    dev = found[key] = Deviation(
                        key[0],
                        key[1],
                        summary,
                        str(v.get("section", "")),
                        example={"case": case, "path": v.get("path"), "message": v.get("message")},
                        cause=str(v.get("consequence_of") or ""),
                    )
                if not dev.varied and _WIRE_TAG.sub("", str(v.get("message", ""))) != _WIRE_TAG.sub(
                    "", str(dev.example.get("message", ""))
                ):
                    dev.varied = True
                if case not in dev.cases:
                    dev.cases.append(case)
                dev.occurrences += int(v.get("count", 1))
                if name is not None and name not in dev.fields:
                    dev.fields.append(name)
                if schema is not None and schema not in dev.schemas:
                    dev.schemas.append(schema)
    for dev in found.values():
        if not dev.varied and not dev.fields and not dev.cause:  # one message throughout: say it as is
            dev.summary = _WIRE_TAG.sub("", str(dev.example.get("message", "")))
    merged = _merge_missing([d for d in found.values() if not d.cause])
    ranked = sorted(merged, key=lambda d: (-len(d.cases), d.rule, d.summary))
    consequences = sorted((d for d in found.values() if d.cause), key=lambda d: (-len(d.cases), d.rule))
    return ranked, consequences


def _merge_missing(devs: list[Deviation]) -> list[Deviation]:
    """Missing fields of one rule absent from the same schemas in the same cases: one line."""
    out: list[Deviation] = []
    by_shape: dict[tuple[str, frozenset[str], frozenset[str]], Deviation] = {}
    for dev in devs:
        if not dev.fields:
            out.append(dev)
            continue
        shape = (dev.rule, frozenset(dev.schemas), frozenset(dev.cases))
        same = by_shape.get(shape)
        if same is None:
            by_shape[shape] = dev
            out.append(dev)
            continue
        same.fields += [f for f in dev.fields if f not in same.fields]
        same.occurrences = max(same.occurrences, dev.occurrences)
    for dev in by_shape.values():
        names = ", ".join(f"`{f}`" for f in dev.fields)
        plural = "fields" if len(dev.fields) > 1 else "field"
        dev.summary = f"required {plural} {names} missing from {', '.join(sorted(dev.schemas))}"
    return out
