"""Calling ``anyllm.responses``/``aresponses`` against a loopback server, as the bridge tests do.

Each bridge test module binds its provider once, e.g.
``call = partial(responses_at, provider="gemini", path="/v1beta", model=MODEL)``.
"""

from __future__ import annotations

from typing import Any

import anyllm
from tests.helpers.loopback import LoopbackServer


def responses_at(
    server: LoopbackServer,
    input_data: Any = "Hello",
    *,
    provider: str,
    path: str = "/v1",
    model: str = "test-model",
    api_key: str = "test-key",
    **kwargs: Any,
) -> Any:
    """``anyllm.responses`` with ``api_base`` at ``server``; ``path`` is the provider's API prefix."""
    return anyllm.responses(
        model, input_data, provider=provider, api_base=f"{server.url}{path}", api_key=api_key, **kwargs
    )


async def aresponses_at(
    server: LoopbackServer,
    input_data: Any = "Hello",
    *,
    provider: str,
    path: str = "/v1",
    model: str = "test-model",
    api_key: str = "test-key",
    **kwargs: Any,
) -> Any:
    """``responses_at`` for ``anyllm.aresponses``."""
    return await anyllm.aresponses(
        model, input_data, provider=provider, api_base=f"{server.url}{path}", api_key=api_key, **kwargs
    )
