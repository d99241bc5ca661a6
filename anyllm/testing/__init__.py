"""The conformance harness: what a provider author uses to check a provider against the spec.

The public surface is ``__all__``: the validator's entry points (:func:`validate_response`,
:func:`validate_request`, :func:`validate_stream`, :class:`StreamValidator`), its findings
(:class:`Violation`, :func:`has_errors`, :data:`Severity`), the profiles (:data:`Profile`)
and the Hypothesis strategies (:mod:`strategies`). The pytest plugin registers itself
through its entry point. Every other module of this package is the harness's own machinery.

Each name is imported on first use, so ``import anyllm.testing`` stays cheap and pulls in
neither the validator, nor Hypothesis, nor pytest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anyllm.testing import strategies
    from anyllm.testing.rules import Profile, Severity
    from anyllm.testing.validate import (
        StreamValidator,
        Violation,
        has_errors,
        validate_request,
        validate_response,
        validate_stream,
    )

__all__ = [
    "Profile",
    "Severity",
    "StreamValidator",
    "Violation",
    "has_errors",
    "strategies",
    "validate_request",
    "validate_response",
    "validate_stream",
]

# public name -> the module defining it ("" for the submodule of that name)
_LAZY: dict[str, str] = {
    "Profile": "anyllm.testing.rules",
    "Severity": "anyllm.testing.rules",
    "StreamValidator": "anyllm.testing.validate",
    "Violation": "anyllm.testing.validate",
    "has_errors": "anyllm.testing.validate",
    "validate_request": "anyllm.testing.validate",
    "validate_response": "anyllm.testing.validate",
    "validate_stream": "anyllm.testing.validate",
    "strategies": "",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first access (PEP 562) and cache it on the package."""
    source = _LAZY.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = (
        importlib.import_module(f"{__name__}.{name}")
        if not source
        else getattr(importlib.import_module(source), name)
    )
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
