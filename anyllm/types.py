"""Typed results for OpenResponses providers: ResponseResource and the 24 stream events.

The models are openresponses-types' own (no hand-written copies). That package takes
about 0.3 s to import, so it is imported on first use, never by ``import anyllm``.
Wire JSON is validated in strict mode (no "123" -> 123 coercion); the library's own
translated events are dicts it built itself and are validated in lax mode, because strict
mode refuses plain strings for the models' enum fields.

Every model returned is a subclass from :func:`anyllm.spec_dump.spec_dumped`, so a plain
``model_dump()`` / ``model_dump_json()`` is spec-valid JSON (no null for a field nobody set,
wire names such as ``schema``), nested items and parts included.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict

from anyllm.extensions import with_extension_items
from anyllm.spec_dump import SpecDump, spec_dumped

if TYPE_CHECKING:
    from openresponses_types import ResponseResource as SpecResponseResource

    class ResponseResource(SpecResponseResource):
        """What anyllm returns for a ResponseResource: openresponses-types' own class (each
        result is an instance of it) with ``output_text`` (:mod:`anyllm.output_text`). At run
        time ``anyllm.types.ResponseResource`` is that class (see ``__getattr__``)."""

        @property
        def output_text(self) -> str: ...


__all__ = [
    "ExtensionEvent",
    "ResponseResource",
    "StreamEvent",
    "event_from_dict",
    "event_from_json",
    "response_from_dict",
    "response_from_json",
]


class ExtensionEvent(SpecDump):
    """An event type the spec does not define (e.g. ``acme:trace``): kept, never dropped.

    The spec requires clients to be able to ignore such events; the harness still needs
    to see them, so they are passed through with every field they carried (and dumped with
    exactly those: an absent ``sequence_number`` is not dumped as null).
    """

    model_config = ConfigDict(extra="allow")

    type: str
    sequence_number: int | None = None


StreamEvent = BaseModel
"""Any stream event: an openresponses-types event model or an ExtensionEvent."""


@functools.cache
def _event_models() -> dict[str, type[BaseModel]]:
    import openresponses_types as ort

    models: dict[str, type[BaseModel]] = {}
    for name in dir(ort):
        model = getattr(ort, name)
        if not (name.endswith("StreamingEvent") and isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        default = model.model_fields["type"].default
        value = getattr(default, "value", default)
        model = spec_dumped(with_extension_items(model))  # extension items kept; plain dumps spec-valid
        if isinstance(value, str):
            models[value] = model
            continue
        annotation = model.model_fields["type"].annotation
        for member in getattr(annotation, "__members__", {}).values():
            models[str(member.value)] = model
    return models


def _without_output_schema(response: Any) -> Any:
    """Spec bug SPEC-BUG-TEXT-FORMAT-SCHEMA: the output-side JsonSchemaResponseFormat (and so
    openresponses-types' model) admits only a null ``schema``, yet servers echo the schema
    they were given. The echo cannot be typed, so the typed object carries null there; the
    caller has the schema it sent, and the validator reports the echo as info."""
    text = response.get("text") if isinstance(response, dict) else None
    fmt = text.get("format") if isinstance(text, dict) else None
    echoed = isinstance(fmt, dict) and fmt.get("type") == "json_schema" and fmt.get("schema") is not None
    if echoed and isinstance(text, dict) and isinstance(fmt, dict):
        return {**response, "text": {**text, "format": {**fmt, "schema": None}}}
    return response


def event_from_dict(event: dict[str, Any]) -> BaseModel:
    """Type one event dict built by the library (lax mode)."""
    model = _event_models().get(event.get("type", ""))
    if model is None:
        return ExtensionEvent.model_validate(event)
    if "response" in event:
        event = {**event, "response": _without_output_schema(event["response"])}
    return model.model_validate(event)


def event_from_json(data: str | bytes, event_type: str | None = None) -> BaseModel:
    """Type one event received on the wire (strict mode).

    ``event_type`` (the SSE ``event:`` name) picks the model without decoding twice; when
    it is absent, unknown or disagrees with the body, the body's own ``type`` decides.
    """
    from pydantic import ValidationError

    models = _event_models()
    model = models.get(event_type) if event_type else None
    if model is not None:
        try:
            return model.model_validate_json(data, strict=True)
        except ValidationError:
            pass
    decoded = json.loads(data)
    body_type = decoded.get("type", "") if isinstance(decoded, dict) else ""
    body_model = models.get(body_type) if isinstance(body_type, str) else None
    if body_model is None:
        return ExtensionEvent.model_validate(decoded)
    if isinstance(decoded.get("response"), dict):
        nulled = _without_output_schema(decoded["response"])
        if nulled is not decoded["response"]:
            data = json.dumps({**decoded, "response": nulled})
    return body_model.model_validate_json(data, strict=True)


def _response_model() -> type[ResponseResource]:
    """ResponseResource whose ``output`` also admits extension items (:mod:`anyllm.extensions`),
    dumps spec-valid and has ``output_text`` (:mod:`anyllm.spec_dump`)."""
    from openresponses_types import ResponseResource as Spec

    return cast("type[ResponseResource]", spec_dumped(with_extension_items(Spec)))


def __getattr__(name: str) -> Any:
    """``anyllm.types.ResponseResource``: the class of every ResponseResource anyllm returns,
    built on first use (``import anyllm`` does not load openresponses-types)."""
    if name == "ResponseResource":
        return _response_model()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def response_from_dict(response: dict[str, Any]) -> ResponseResource:
    return _response_model().model_validate(_without_output_schema(response))


def response_from_json(data: str | bytes) -> ResponseResource:
    from pydantic import ValidationError

    model = _response_model()
    try:
        return model.model_validate_json(data, strict=True)
    except ValidationError:
        decoded = json.loads(data)
        nulled = _without_output_schema(decoded)
        if nulled is decoded:
            raise
        return model.model_validate_json(json.dumps(nulled), strict=True)
