"""Argument descriptions from a docstring, in any of the three common styles.

One job: split a docstring into its prose description and a ``{argument: description}``
map, whichever style it is written in (Google ``Args:``, NumPy ``Parameters`` with a
dashed rule, Sphinx ``:param x:``), so that what a function documents reaches the model
as the description of each tool argument.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_GOOGLE_PARAM_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "kwargs",
    "other parameters",
}
_GOOGLE_OTHER_SECTIONS = {
    "returns",
    "return",
    "yields",
    "yield",
    "raises",
    "examples",
    "example",
    "notes",
    "note",
    "warnings",
    "warning",
    "see also",
    "references",
    "todo",
    "attributes",
    "methods",
}
_GOOGLE_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\s*\**(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^\s*(\**\w+(?:\s*,\s*\**\w+)*)\s*(?::.*)?$")
_SPHINX_FIELD = re.compile(r"^\s*:(\w+)([^:]*):\s*(.*)$")
_SPHINX_PARAM_KINDS = {"param", "parameter", "arg", "argument", "key", "keyword"}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _section_kind(lines: list[str], i: int) -> str | None:
    """'google-params', 'google-other', 'numpy', 'sphinx' or None for the line at i."""
    line = lines[i]
    if i + 1 < len(lines) and line.strip() and _NUMPY_RULE.match(lines[i + 1]):
        return "numpy"
    match = _GOOGLE_HEADER.match(line)
    if match:
        word = match.group(1).lower()
        if word in _GOOGLE_PARAM_SECTIONS:
            return "google-params"
        if word in _GOOGLE_OTHER_SECTIONS:
            return "google-other"
    if _SPHINX_FIELD.match(line):
        return "sphinx"
    return None


def _join(parts: list[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {argument: description}) from a Google, NumPy or Sphinx docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    first_section = next((i for i in range(len(lines)) if _section_kind(lines, i)), len(lines))
    description = "\n".join(lines[:first_section]).strip()
    args: dict[str, str] = {}
    i = first_section
    while i < len(lines):
        kind = _section_kind(lines, i)
        if kind == "google-params":
            i = _google_args(lines, i, args)
        elif kind == "numpy":
            i = _numpy_section(lines, i, args)
        elif kind == "sphinx":
            i = _sphinx_field(lines, i, args)
        else:
            i += 1
    return description, args


def _google_args(lines: list[str], start: int, out: dict[str, str]) -> int:
    header_indent = _indent(lines[start])
    entry_indent: int | None = None
    current: str | None = None
    parts: list[str] = []
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        ind = _indent(line)
        if ind <= header_indent:
            break
        if entry_indent is None:
            entry_indent = ind
        match = _GOOGLE_ENTRY.match(line) if ind <= entry_indent else None
        if match:
            if current:
                out.setdefault(current, _join(parts))
            current, parts = match.group(1), [match.group(2)]
        elif current:
            parts.append(line)
        i += 1
    if current:
        out.setdefault(current, _join(parts))
    return i


def _numpy_section(lines: list[str], start: int, out: dict[str, str]) -> int:
    title = lines[start].strip().lower()
    base = _indent(lines[start])
    i = start + 2
    is_params = title in _GOOGLE_PARAM_SECTIONS
    names: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        for name in names:
            out.setdefault(name, _join(parts))

    while i < len(lines):
        if _section_kind(lines, i) == "numpy":
            break
        line = lines[i]
        if line.strip() and is_params:
            if _indent(line) <= base:
                match = _NUMPY_ENTRY.match(line)
                if match:
                    flush()
                    names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
                    parts = []
            else:
                parts.append(line)
        i += 1
    if is_params:
        flush()
    return i


def _sphinx_field(lines: list[str], start: int, out: dict[str, str]) -> int:
    match = _SPHINX_FIELD.match(lines[start])
    assert match is not None
    kind, spec, text = match.group(1).lower(), match.group(2).split(), match.group(3)
    base = _indent(lines[start])
    parts = [text]
    i = start + 1
    while (
        i < len(lines) and lines[i].strip() and _indent(lines[i]) > base and not _SPHINX_FIELD.match(lines[i])
    ):
        parts.append(lines[i])
        i += 1
    if kind in _SPHINX_PARAM_KINDS and spec:
        out.setdefault(spec[-1].lstrip("*"), _join(parts))
    return i
