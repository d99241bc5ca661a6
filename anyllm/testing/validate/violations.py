"""What a verdict is made of: the :class:`Violation`, its JSON path, and the sink collecting them.

Every check of the package reports through a :class:`Sink`, which takes the severity from
the rule catalogue (:mod:`anyllm.testing.rules`) and the profile, so no check decides how
bad its finding is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from anyllm.testing import rules as R
from anyllm.testing.rules import Profile, Severity

__all__ = ["JsonPath", "PathPart", "Sink", "Violation", "has_errors", "json_path"]

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_MESSAGE = 700


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding: which rule, how bad, where (JSON path), what, and the spec section."""

    rule: str
    severity: Severity
    path: str
    message: str
    section: str
    line: int | None = None
    # Set when this finding only follows from another one (anyllm's client refused a reply
    # whose wire judgement explains it, :mod:`anyllm.testing.wire_view`): what it follows from.
    cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "section": self.section,
        }
        if self.line is not None:
            out["line"] = self.line
        if self.cause is not None:
            out["consequence_of"] = self.cause
        return out

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.severity}: {self.rule} at {self.path}{where}: {self.message} [{self.section}]"


def has_errors(violations: Iterable[Violation]) -> bool:
    """True when any violation is an error."""
    return any(v.severity == "error" for v in violations)


def json_path(parts: Sequence[PathPart]) -> str:
    """``("output", 0, "id")`` -> ``$.output[0].id``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT.match(part):
            out.append("." + part)
        else:
            out.append("[" + json.dumps(part) + "]")
    return "".join(out)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


class Sink:
    """Collects violations; severity comes from the rule and the profile."""

    __slots__ = ("items", "once_keys", "profile")

    def __init__(self, profile: Profile) -> None:
        if profile not in R.PROFILES:
            raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(R.PROFILES)}")
        self.profile: Profile = profile
        self.items: list[Violation] = []
        self.once_keys: set[tuple[str, str]] = set()

    def add(self, rule_id: str, path: JsonPath, message: str, line: int | None = None) -> None:
        rule = R.RULES[rule_id]
        self.items.append(
            Violation(
                rule_id, rule.severity_for(self.profile), json_path(path), _short(message), rule.section, line
            )
        )

    def once(self, rule_id: str, key: str, path: JsonPath, message: str, line: int | None = None) -> None:
        if (rule_id, key) not in self.once_keys:
            self.once_keys.add((rule_id, key))
            self.add(rule_id, path, message, line)
