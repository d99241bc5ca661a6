"""What the Gemini bridge's modules share: its name, its error helpers, and the prefix of
the reasoning items that carry Gemini's thought signatures (see the request decisions in
:mod:`anyllm.translate.gemini.request`).
"""

from __future__ import annotations

from anyllm.errors import InvalidRequestError, UnsupportedParameterError

__all__ = ["PROVIDER", "SIGNATURE_PREFIX", "invalid", "unsupported"]

PROVIDER = "gemini"
SIGNATURE_PREFIX = "gemini:"


def unsupported(param: str, why: str) -> UnsupportedParameterError:
    return UnsupportedParameterError(f"gemini cannot express {param}: {why}", provider=PROVIDER, param=param)


def invalid(param: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {why}", provider=PROVIDER, param=param)
