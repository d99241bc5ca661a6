"""What the Anthropic bridge's modules share: its name, its error helpers, and the
encoding that carries a thinking block's text and signature through ``encrypted_content``
(see "Reasoning round trip" in :mod:`anyllm.translate.anthropic.request`).
"""

from __future__ import annotations

import base64
import binascii
import json

from anyllm.errors import InvalidRequestError, UnsupportedParameterError

__all__ = [
    "PROVIDER",
    "REDACTED_PREFIX",
    "THINKING_PREFIX",
    "decode_thinking",
    "encode_thinking",
    "invalid",
    "unsupported",
]

THINKING_PREFIX = "anthropic.thinking:"
REDACTED_PREFIX = "anthropic.redacted_thinking:"
PROVIDER = "anthropic"


def unsupported(param: str, why: str) -> UnsupportedParameterError:
    return UnsupportedParameterError(
        f"anthropic cannot express {param}: {why}", provider=PROVIDER, param=param
    )


def invalid(param: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {why}", provider=PROVIDER, param=param)


def encode_thinking(thinking: str, signature: str) -> str:
    """A thinking block as a reasoning item's ``encrypted_content`` (text and signature)."""
    packed = json.dumps({"thinking": thinking, "signature": signature}, separators=(",", ":"))
    return THINKING_PREFIX + base64.b64encode(packed.encode("utf-8")).decode("ascii")


def decode_thinking(encrypted: str, where: str = "encrypted_content") -> tuple[str, str]:
    """(thinking text, signature) from :func:`encode_thinking`'s output."""
    try:
        packed = json.loads(base64.b64decode(encrypted[len(THINKING_PREFIX) :], validate=True))
        return str(packed["thinking"]), str(packed["signature"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid(where, f"not an encrypted_content this library produced ({exc})") from exc
