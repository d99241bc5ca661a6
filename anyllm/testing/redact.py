"""Keys out of everything the harness prints or writes: pytest's output, reports, certificates.

Cassettes are scrubbed where they are recorded (:mod:`anyllm.testing.cassettes.secrets`),
and the client of a recording gets the scrubbed reply; but a key also reaches text that
never was a cassette: the ``api_key`` argument in a traceback printed with ``--tb=long``
or ``-l``, a repr cut short in the middle of a key, a test's own ``print``. A
:class:`Redactor` rewrites such text: every form of every key it knows (raw, URL-quoted,
base64), also behind JSON escapes (``\\u0063``, ``\\/``, at any depth of quoting), any run
of 12 or more of a key's characters (what a truncated repr leaves), and the password of a
URL (``scheme://user:PASSWORD@host``).

The plugin gives it the provider key variables set now, plus the passwords and ``key=``
values of the base URLs it was given (:func:`url_secrets`); see
:mod:`anyllm.testing.plugin.redact_output`.
"""

from __future__ import annotations

import bisect
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from anyllm.testing.cassettes.secrets import MIN_SECRET_LENGTH, REDACTED, SECRET_QUERY_PARAMS, secret_forms

__all__ = ["MIN_RUN", "Redactor", "redact_url", "url_secrets"]

MIN_RUN = 12  # this many characters of a key in a row are a leak (a repr truncated mid-key)
# JSON (and repr-of-JSON) escapes a key's characters can hide behind: \u0063, \/, \", \'.
_ESCAPE = re.compile(r"\\+(?:u([0-9a-fA-F]{4})|([\"'/]))")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@<>\"']*:)([^@\s/<>\"']+)@")


def url_secrets(url: str | None) -> list[str]:
    """The password and ``key=`` query values of a URL (what a base URL may carry)."""
    if not url:
        return []
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [urllib.parse.unquote(password)] if password else []
    found += [v for k, v in urllib.parse.parse_qsl(parts.query) if k.lower() in SECRET_QUERY_PARAMS]
    return found


def redact_url(url: str) -> str:
    """``url`` with its password and ``key=`` query values replaced by ``<REDACTED>``."""
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:
        return _USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", url)
    netloc = parts.netloc
    if password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_QUERY_PARAMS for k, _ in pairs):
            pairs = [(k, REDACTED if k.lower() in SECRET_QUERY_PARAMS else v) for k, v in pairs]
            query = urllib.parse.urlencode(pairs, safe="<>")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


class _View:
    """``text`` with JSON escapes undone, and the way back to the original positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.view_at: list[int] = []  # view position of each escape
        self.shift: list[int] = []  # extra original characters up to and including it
        pieces: list[str] = []
        position = extra = 0
        for match in _ESCAPE.finditer(text):
            pieces.append(text[position : match.start()])
            pieces.append(chr(int(match[1], 16)) if match[1] else match[2])
            view_position = match.start() - extra
            extra += len(match[0]) - 1
            self.view_at.append(view_position)
            self.shift.append(extra)
            position = match.end()
        pieces.append(text[position:])
        self.view = "".join(pieces)

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of view span [start, end)."""
        before = bisect.bisect_left(self.view_at, start)
        first = start + (self.shift[before - 1] if before else 0)
        last = bisect.bisect_left(self.view_at, end)
        return first, end + (self.shift[last - 1] if last else 0)


class Redactor:
    """Rewrites text (or JSON-like data) so no key it knows is left in it, in any form."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._forms = sorted({f for v in values for f in secret_forms(v)}, key=len, reverse=True)
        grams = {v[i : i + MIN_RUN]: (v, i) for v in values for i in range(len(v) - MIN_RUN + 1)}
        self._grams = grams
        self._runs = (
            re.compile("|".join(map(re.escape, sorted(grams, key=len, reverse=True)))) if grams else None
        )

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._forms)} key forms>"

    def _spans(self, view: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for form in self._forms:
            start = view.find(form)
            while start >= 0:
                spans.append((start, start + len(form)))
                start = view.find(form, start + 1)
        if self._runs is not None:
            position = 0
            while (match := self._runs.search(view, position)) is not None:
                value, offset = self._grams[match.group()]
                end, index = match.end(), offset + MIN_RUN
                while end < len(view) and index < len(value) and view[end] == value[index]:
                    end, index = end + 1, index + 1
                spans.append((match.start(), end))
                position = end
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def text(self, text: str) -> str:
        """``text`` with every key (and every URL password) replaced by ``<REDACTED>``."""
        if self._forms:
            view = _View(text)
            spans = [view.original(a, b) for a, b in self._spans(view.view)]
            for start, end in reversed(spans):
                text = text[:start] + REDACTED + text[end:]
        return _USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text) if "@" in text else text

    def found(self, text: str) -> bool:
        return self.text(text) != text

    def data(self, data: Any) -> Any:
        """JSON-like ``data`` (dicts, lists, strings) with every string redacted; a copy."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.data(value) for key, value in data.items()}
        if isinstance(data, list | tuple):
            return type(data)(self.data(value) for value in data)
        return data
