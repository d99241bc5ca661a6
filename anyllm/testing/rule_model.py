"""What a rule of the validator's catalogue is (:class:`Rule`), its severities and profiles.

Kept apart from the catalogue itself (:mod:`anyllm.testing.rules`) so that the catalogue can
be split into modules by spec area (:mod:`anyllm.testing.rules_websocket`) without an import
cycle; :mod:`anyllm.testing.rules` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PROFILES", "Profile", "Rule", "Severity"]

Severity = Literal["error", "warning", "info"]
Profile = Literal["openresponses", "openai"]
PROFILES: tuple[Profile, ...] = ("openresponses", "openai")


@dataclass(frozen=True, slots=True)
class Rule:
    """One checkable requirement: id, severity per profile, spec section, summary, and for
    rules whose severity is a decision, the spec text that decides it (``spec``)."""

    id: str
    severity: Severity
    section: str
    summary: str
    openai: Severity | None = None  # severity under the openai profile, if different
    spec: str = ""  # the spec's own words behind a judgement call, and what was decided

    def severity_for(self, profile: Profile) -> Severity:
        if profile == "openai" and self.openai is not None:
            return self.openai
        return self.severity
