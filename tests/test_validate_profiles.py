"""The openai profile's tolerances stay in step with OpenAI's own types and the spec."""

from __future__ import annotations

import json
from pathlib import Path

from anyllm.testing.rules import OPENAI_EVENT_TYPES, OPENAI_INCLUDE_VALUES, OPENAI_RELAXED_FIELDS

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_relaxed_response_fields_are_optional_in_the_openai_sdk() -> None:
    from openai.types.responses import Response

    spec_required = json.loads((SCHEMAS / "ResponseResource.json").read_text())["required"]
    relaxed = OPENAI_RELAXED_FIELDS["ResponseResource"]
    assert relaxed <= set(spec_required)
    for name in spec_required:
        field = Response.model_fields.get(name)
        sdk_optional = field is None or not field.is_required()
        assert sdk_optional == (name in relaxed), name


def test_openai_event_types_are_not_spec_events() -> None:
    spec_events = set(json.loads((SCHEMAS / "index.json").read_text())["events"])
    assert not (OPENAI_EVENT_TYPES & spec_events)


def test_openai_include_values_are_the_sdks_beyond_the_spec() -> None:
    from typing import get_args

    from openai.types.responses.response_includable import ResponseIncludable

    spec = set(json.loads((SCHEMAS / "IncludeEnum.json").read_text())["enum"])
    assert set(OPENAI_INCLUDE_VALUES) == set(get_args(ResponseIncludable)) - spec
