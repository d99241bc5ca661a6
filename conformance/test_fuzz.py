"""Fuzzing a provider's request translation, offline: ``pytest conformance --provider=X --fuzz``.

For every generated request (valid against the spec's CreateResponseBody), the body the
library would send to provider X is valid for X's protocol, or the library raises a
documented error (InvalidRequestError / UnsupportedParameterError) that names the field;
never another exception. Nothing touches the network: the translation runs exactly as
``responses()`` runs it before its HTTP call. Size: ``--hypothesis-profile ci|dev|nightly``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anyllm.errors import InvalidRequestError
from anyllm.providers.registry import provider_metadata
from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import FUZZ_MARK, fuzz_settings
from anyllm.testing.wire_checks import offline_wire_body, wire_problems

pytestmark = getattr(pytest.mark, FUZZ_MARK)


def outcome(provider: str, body: dict[str, Any], stream: bool) -> list[str]:
    """The problems of one request (empty when it is fine, or refused with a named field)."""
    try:
        wire = offline_wire_body(provider, body, stream=stream)
    except InvalidRequestError as exc:
        return [] if exc.param else [f"{type(exc).__name__} names no field: {exc}"]
    protocol = provider_metadata(provider).protocol
    return wire_problems(protocol, wire)


@fuzz_settings()
@given(body=S.create_response_bodies(), stream=st.booleans())
def test_translated_request_is_valid_or_refused(
    anyllm_registry_provider: str, body: dict[str, Any], stream: bool
) -> None:
    assert outcome(anyllm_registry_provider, body, stream) == []


@fuzz_settings()
@given(tools=st.lists(S.tools(), min_size=1, max_size=3), choice=S.from_schema("ToolChoiceParam"))
def test_tools_translate_or_are_refused(
    anyllm_registry_provider: str, tools: list[dict], choice: Any
) -> None:
    body = {"model": "fuzz-model", "input": "hi", "tools": tools, "tool_choice": choice}
    assert outcome(anyllm_registry_provider, body, False) == []
