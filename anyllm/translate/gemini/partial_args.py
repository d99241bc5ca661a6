"""Function-call arguments that Gemini streams piece by piece (``streamFunctionCallArguments``).

With ``toolConfig.functionCallingConfig.streamFunctionCallArguments`` (a passthrough
option; Vertex AI honours it), one call arrives over several chunks: first
``functionCall {name, id?, willContinue: true}``, then ``functionCall {partialArgs:
[{jsonPath, stringValue | numberValue | boolValue | nullValue, willContinue?}],
willContinue: true}`` without a name, and last a ``functionCall`` without
``willContinue`` (often empty). A ``stringValue`` is a piece of the string at its
``jsonPath`` (RFC 9535, e.g. ``$.location`` or ``$.stops[0].city``); the pieces add up.
The assembled object becomes the ``function_call``'s ``arguments`` once the call ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["PartialArguments", "parse_json_path"]

_TOKEN = re.compile(
    r"""\.(?P<name>[^.\[\]]+)|\[(?P<index>\d+)\]|\['(?P<single>(?:[^'\\]|\\.)*)'\]|\["(?P<double>(?:[^"\\]|\\.)*)"\]"""
)
_MAX_INDEX = 10_000  # a list index beyond this is not a real argument: refused, not allocated


def parse_json_path(path: str) -> list[str | int] | None:
    """``$.a['b c'][0]`` -> ``["a", "b c", 0]``; None for a path this reader cannot follow."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            return None
        if match.group("index") is not None:
            index = int(match.group("index"))
            if index > _MAX_INDEX:
                return None
            steps.append(index)
        else:
            quoted = match.group("single") if match.group("single") is not None else match.group("double")
            name = match.group("name") if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
            steps.append(str(name))
        position = match.end()
    return steps or None


class PartialArguments:
    """One call's arguments, assembled from ``partialArgs`` pieces in arrival order."""

    def __init__(self) -> None:
        self.value: dict[str, Any] = {}
        self._strings: dict[tuple[str | int, ...], list[str]] = {}

    def add(self, pieces: Any) -> None:
        """Apply one chunk's ``partialArgs`` list; pieces whose path cannot be followed are skipped."""
        for piece in pieces if isinstance(pieces, list) else []:
            if not isinstance(piece, Mapping) or not isinstance(piece.get("jsonPath"), str):
                continue
            steps = parse_json_path(piece["jsonPath"])
            if steps is None:
                continue
            key = tuple(steps)
            if isinstance(piece.get("stringValue"), str):
                if key not in self._strings:
                    self._strings[key] = []
                    self._set(steps, "")  # the key keeps its place in arrival order
                self._strings[key].append(piece["stringValue"])
            elif "numberValue" in piece or "boolValue" in piece or "nullValue" in piece:
                self._strings.pop(key, None)
                if "numberValue" in piece:
                    value = piece["numberValue"]
                    if isinstance(value, float) and value.is_integer():
                        value = int(value)
                elif "boolValue" in piece:
                    value = bool(piece["boolValue"])
                else:
                    value = None
                self._set(steps, value)

    def result(self) -> dict[str, Any]:
        """The arguments assembled so far (string pieces joined)."""
        for key, chunks in self._strings.items():
            self._set(list(key), "".join(chunks))
        return self.value

    def _set(self, steps: list[str | int], value: Any) -> None:
        node: Any = self.value
        for step, following in zip(steps, [*steps[1:], None], strict=True):
            last = following is None
            fresh: Any = value if last else ([] if isinstance(following, int) else {})
            if isinstance(step, str) and isinstance(node, dict):
                if last or not isinstance(node.get(step), (dict, list)):
                    node[step] = fresh
                node = node[step]
            elif isinstance(step, int) and isinstance(node, list):
                node.extend([None] * (step + 1 - len(node)))
                if last or not isinstance(node[step], (dict, list)):
                    node[step] = fresh
                node = node[step]
            else:
                return  # the path disagrees with what was built: skipped
