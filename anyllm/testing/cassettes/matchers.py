"""Request matching on replay: method, path, query (minus ``key=``) and normalized JSON body.

Not on host or port (the llama.cpp server runs on a random port). A mismatch says what
differs, by JSON path, so a stale cassette is quick to diagnose.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vcr.request import Request as VcrRequest

from anyllm.testing.cassettes.secrets import SECRET_QUERY_PARAMS

__all__ = [
    "MATCH_ON",
    "VOLATILE_BODY_FIELDS",
    "json_body_matcher",
    "method_matcher",
    "path_matcher",
    "query_matcher",
]

# Request fields that may differ between runs without the request meaning anything else.
VOLATILE_BODY_FIELDS = frozenset({"user", "safety_identifier", "prompt_cache_key"})


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in sorted(value.items()) if k not in VOLATILE_BODY_FIELDS}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _body_json(request: VcrRequest) -> Any:
    body = request.body
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return _normalize(json.loads(text))
    except ValueError:
        return text


def _first_difference(new: Any, old: Any, path: str = "$") -> str | None:
    if isinstance(new, dict) and isinstance(old, dict):
        for key in sorted(set(new) | set(old)):
            if key not in old:
                return f"{path}.{key}: sent {_short(new[key])}, not in the recording"
            if key not in new:
                return f"{path}.{key}: recorded {_short(old[key])}, not sent"
            found = _first_difference(new[key], old[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(new, list) and isinstance(old, list):
        for index, (a, b) in enumerate(zip(new, old, strict=False)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(new) != len(old):
            return f"{path}: sent {len(new)} elements, recorded {len(old)}"
        return None
    if new != old:
        return f"{path}: sent {_short(new)}, recorded {_short(old)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def json_body_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    """vcrpy matcher: JSON bodies equal once keys are sorted, 1.0 == 1 and volatile fields dropped.
    The AssertionError names the first difference by JSON path."""
    a, b = _body_json(new), _body_json(recorded)
    if a != b:
        raise AssertionError(f"request body differs at {_first_difference(a, b)}")


def path_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    if new.path.rstrip("/") != recorded.path.rstrip("/"):
        raise AssertionError(f"path {new.path!r} != recorded {recorded.path!r}")


def query_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    def clean(request: VcrRequest) -> list[tuple[str, str]]:
        return sorted((k, v) for k, v in request.query if k.lower() not in SECRET_QUERY_PARAMS)

    if clean(new) != clean(recorded):
        raise AssertionError(f"query {clean(new)} != recorded {clean(recorded)}")


def method_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    if new.method != recorded.method:
        raise AssertionError(f"method {new.method} != recorded {recorded.method}")


MATCH_ON: tuple[Callable[[VcrRequest, VcrRequest], None], ...] = (
    method_matcher,
    path_matcher,
    query_matcher,
    json_body_matcher,
)
