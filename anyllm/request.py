"""The one typed request that travels from ``responses()`` to every backend and bridge.

``api.py`` checks the caller's arguments once and wraps the result here; from then on the
request is read, never rebuilt by hand. ``stream`` is a flag of its own, not a key of the
body, so no layer has to pop it or put it back: :meth:`ResponsesRequest.wire_body` adds
it to the JSON exactly when the call streams, and the bridges read :attr:`stream`.
This module imports nothing from anyllm, so every layer may use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["ResponsesRequest"]


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A checked Responses request body (without ``stream``) and whether to stream it."""

    body: Mapping[str, Any]
    stream: bool = False

    def __post_init__(self) -> None:
        if "stream" in self.body:
            raise ValueError("ResponsesRequest.body must not carry 'stream': pass stream=... instead")
        # A read-only view of a private copy: no layer can change what another one reads.
        object.__setattr__(self, "body", MappingProxyType(dict(self.body)))

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def wire_body(self) -> dict[str, Any]:
        """A fresh JSON-ready dict of the body, with ``"stream": True`` exactly when streaming."""
        body = dict(self.body)
        if self.stream:
            body["stream"] = True
        return body

    def with_body(self, body: Mapping[str, Any]) -> ResponsesRequest:
        """The same call with another body (e.g. the stored context prepended to ``input``)."""
        return dataclasses.replace(self, body=body)
