"""A reply of an unexpected shape is the provider's fault, and says so with a typed error.

The bridges and parsers read provider JSON with checks where the protocol leaves room
(missing members, optional blocks), but a server can put any JSON type anywhere:
``"candidates": 3``, an SSE ``"index": "x"``, a usage count of ``"many"``. Checking every
member by hand is how such cases were missed; so each backend also reads replies under
:func:`unexpected_shape`, which turns the exceptions Python raises on a value of the wrong
type (``TypeError``, ``ValueError``, ``LookupError``, ``AttributeError``, ``ArithmeticError``)
into ProviderError (a whole reply) or StreamError (a stream event), the original chained
as the cause. Errors the library raised itself (``AnyLLMError``) pass through unchanged.
"""

from __future__ import annotations

from anyllm.errors import AnyLLMError, ProviderError, StreamError

__all__ = ["READ_ERRORS", "SHAPE_ERRORS", "unexpected_shape"]

SHAPE_ERRORS: tuple[type[Exception], ...] = (
    TypeError,
    ValueError,
    LookupError,
    AttributeError,
    ArithmeticError,
)
"""What reading a value of the wrong type raises (pydantic's ValidationError is a ValueError)."""

READ_ERRORS: tuple[type[Exception], ...] = (AnyLLMError, *SHAPE_ERRORS)
"""What reading a reply may raise: the library's own typed errors and SHAPE_ERRORS."""


def unexpected_shape(exc: Exception, provider: str, *, streaming: bool) -> AnyLLMError:
    """The typed error for ``exc``, raised while reading ``provider``'s reply or stream."""
    if isinstance(exc, AnyLLMError):
        return exc
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = "a stream event" if streaming else "a reply"
    kind = StreamError if streaming else ProviderError
    return kind(
        f"{provider} sent {what} of an unexpected shape ({type(exc).__name__}: {first})",
        provider=provider,
    )
