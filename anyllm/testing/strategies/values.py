"""Leaf strategies shared by the others: JSON values, wild arguments, small JSON Schemas.

The text leaves carry multi-byte characters on purpose (chunk boundaries inside UTF-8
sequences are one of the things the SSE properties check); the size bounds here keep every
generated object small enough to shrink well.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["Strategy", "json_values", "wild_values"]

Strategy = st.SearchStrategy[Any]

# Text a JSON document can carry (no lone surrogates), with multi-byte characters on purpose:
# chunk boundaries inside UTF-8 sequences are one of the things the SSE property checks.
_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"])
_MAX_TEXT = 24
_MAX_ITEMS = 3
_MAX_OPTIONAL = 3  # optional properties per generated object


def _text(min_size: int = 0, max_size: int = _MAX_TEXT) -> st.SearchStrategy[str]:
    return st.text(_CHARS, min_size=min_size, max_size=max_size)


_NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,15}", fullmatch=True)
_ID_TAIL = st.text("0123456789abcdef", min_size=8, max_size=16)


def json_values(max_leaves: int = 8) -> Strategy:
    """Any small JSON value (finite numbers, valid strings)."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**31), 2**31)
        | st.floats(allow_nan=False, allow_infinity=False, width=64)
        | _text()
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text(max_size=8), inner, max_size=3),
        max_leaves=max_leaves,
    )


def wild_values() -> Strategy:
    """Values a careless caller might pass for any parameter: wrong types, NaN, huge, empty."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # NaN and infinities included
        _text(max_size=12),
        st.binary(max_size=4),
        st.lists(st.integers() | _text(max_size=4), max_size=3),
        st.dictionaries(_text(max_size=6), st.integers() | _text(max_size=4) | st.none(), max_size=3),
        st.tuples(st.integers()),
        st.just(object()),
    )


def _json_schema_objects() -> Strategy:
    """Small JSON Schemas of the kind tools take as ``parameters``."""
    prop = st.sampled_from(
        [
            {"type": "string"},
            {"type": "integer"},
            {"type": "number", "minimum": 0},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "string", "enum": ["a", "b"]},
        ]
    )
    return st.builds(
        lambda props, strict: {
            "type": "object",
            "properties": props,
            "required": sorted(props),
            **({"additionalProperties": False} if strict else {}),
        },
        st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True), prop, max_size=3),
        st.booleans(),
    )
