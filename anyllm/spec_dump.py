"""Plain ``model_dump()`` / ``model_dump_json()`` of what anyllm returns is spec-valid JSON.

openresponses-types declares the spec's optional fields as ``X | None = None``, and pydantic
dumps every field, so a plain dump of a ResponseResource or event writes ``"phase": null``
on messages, ``"text": {"verbosity": null}`` and ``"obfuscation": null`` on deltas: nulls
the spec's schemas forbid, for fields nobody set. ``exclude_unset=True`` would drop them,
but users (and gateways such as LiteLLM) dump plainly, and ``exclude_none=True`` is wrong
(it drops required nullable fields such as ``error``, ``instructions``, ``completed_at``).

:func:`spec_dumped` derives from a model a subclass that dumps like its parent except:

* an optional field whose default is None and that was never set (not in
  ``model_fields_set``) is left out, as ``exclude_unset=True`` would leave it out; a field
  that was set (to a value or to an explicit null) is dumped as it was given;
* fields are dumped under their wire names (``serialize_by_alias``): ``text.format.schema``,
  not the Python name ``schema_``.

Nested models are derived the same way (the field annotations are rewritten, one class per
model, cached), so ``response.output[0].model_dump()`` and ``event.item.model_dump()`` are
spec-valid too. Validation is unchanged: the subclass has the same fields and validators,
and each instance is still an instance of the openresponses-types class it derives from.
ResponseResource's derived class also has the ``output_text`` property (:mod:`anyllm.output_text`).
"""

from __future__ import annotations

import functools
import threading
import types
import typing
from typing import Annotated, Any, TypeVar, Union, cast, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    RootModel,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    create_model,
    model_serializer,
)

__all__ = ["SpecDump", "spec_dumped"]

M = TypeVar("M", bound=BaseModel)


class SpecDump(BaseModel):
    """The mixin of every derived class: leave out what was never set and is null; wire names."""

    model_config = ConfigDict(serialize_by_alias=True)

    @model_serializer(mode="wrap")
    def _spec_valid(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            unset = self.__pydantic_fields_set__
            for name, alias in _omittable(type(self)):
                if name not in unset and getattr(self, name, None) is None:
                    data.pop(alias, None)
                    data.pop(name, None)
        return data


@functools.cache
def _omittable(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(name, wire name) of the fields that are optional with a None default."""
    return tuple(
        (name, field.serialization_alias or field.alias or name)
        for name, field in model.model_fields.items()
        if not field.is_required() and field.default is None
    )


def _derivable(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and not issubclass(annotation, (RootModel, SpecDump))
    )


def _rewritten(annotation: Any) -> Any:
    """``annotation`` with every model in it replaced by its derived class (or itself)."""
    if _derivable(annotation):
        return spec_dumped(annotation)
    origin = get_origin(annotation)
    if origin is None:
        return annotation
    args = get_args(annotation)
    if origin is Annotated:
        inner = _rewritten(args[0])
        return annotation if inner is args[0] else Annotated[(inner, *args[1:])]
    if origin is typing.Literal:
        return annotation
    new = tuple(_rewritten(arg) for arg in args)
    if all(a is b for a, b in zip(new, args, strict=True)):
        return annotation
    if origin in (Union, types.UnionType):
        return Union[new]  # noqa: UP007
    if origin in (list, tuple, dict, set, frozenset):
        return origin[new]
    return annotation


_BUILDING: set[type[BaseModel]] = set()
_DERIVED: dict[type[BaseModel], type[BaseModel]] = {}
_LOCK = threading.RLock()  # one derived class per model, even when threads type their first results at once


def spec_dumped(model: type[M]) -> type[M]:
    """A subclass of ``model`` (and of its nested models) whose plain dumps are spec-valid.

    Cached: one class per model. A model already derived is returned as it is.
    """
    derived = _DERIVED.get(model)
    if derived is None:
        with _LOCK:
            derived = _DERIVED.get(model)
            if derived is None:
                derived = _DERIVED[model] = _derive(model)
    return cast("type[M]", derived)


def _derive(model: type[BaseModel]) -> type[BaseModel]:
    if issubclass(model, SpecDump) or issubclass(model, RootModel):
        return model
    _BUILDING.add(model)
    try:
        overrides: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            if any(_derivable(m) and m in _BUILDING for m in _models_in(field.annotation)):
                continue  # a recursive reference keeps the original class (none in the spec's types)
            annotation = _rewritten(field.annotation)
            if annotation is not field.annotation:
                overrides[name] = (annotation, field)
        bases: Any = (model, *_conveniences(model), SpecDump)
        derived: type[BaseModel] = create_model(
            model.__name__,
            __base__=bases,
            __module__=model.__module__,
            __doc__=model.__doc__,
            **overrides,
        )
    finally:
        _BUILDING.discard(model)
    return derived


def _conveniences(model: type[BaseModel]) -> tuple[type, ...]:
    """Mixins that add read-only properties, never fields (validation and dumps unchanged):
    ``output_text`` on ResponseResource (:mod:`anyllm.output_text`)."""
    from openresponses_types import ResponseResource

    if issubclass(model, ResponseResource):
        from anyllm.output_text import OutputText

        return (OutputText,)
    return ()


def _models_in(annotation: Any) -> list[Any]:
    if get_origin(annotation) is None:
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]
