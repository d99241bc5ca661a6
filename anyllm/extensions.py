"""Extension items: output items of a type the spec does not define, typed and kept.

The spec lets an implementation add item types of its own, prefixed with its slug
("Items are extensible": such items "MUST be prefixed with the canonical provider slug";
"Extending Items": "Implementors MAY extend the ``Item`` union with new, non-standard
item types", and "clients SHOULD be prepared to encounter unknown item types [...]
treating them as opaque records"). The translated providers use this for provider-hosted
content the spec has no type for (``anthropic:server_tool_use``,
``gemini:executable_code``, ...; see the bridges' docstrings), so it is carried and sent
back on the next turn instead of being dropped.

openresponses-types' unions hold only the spec's five item types, so a response with such
an item would not validate. :func:`with_extension_items` derives from one of its models
(``ResponseResource``, the ``output_item`` events, the events that carry a response) a
subclass whose item unions also admit :class:`ExtensionItem`: an opaque record that keeps
every field it was given. The subclass is still an instance of the original model, and a
standard item is typed exactly as before (the union is dispatched on ``type``, so a
``message`` is a ``Message``); an unprefixed unknown type is still a validation error.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, create_model

from anyllm.spec import is_extension_type

__all__ = ["EXTENSION_TAG", "ExtensionItem", "is_extension_type", "with_extension_items"]

EXTENSION_TAG = "extension"
# The spec's output item types (ItemField): the unions that get the extension member.
_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning", "compaction"})

M = TypeVar("M", bound=BaseModel)


class ExtensionItem(BaseModel):
    """An output item of an implementor-prefixed type, kept with every field it carried.

    The spec requires ``id``, ``type`` and ``status`` on every item; the bridges always
    set them, and the harness's validator checks them (``EXTENSION-ITEM-FIELDS``). Only
    ``type`` is declared here so that nothing is invented for a server that omits a field:
    the others are read as attributes or from ``model_extra`` and dumped as given.
    """

    model_config = ConfigDict(extra="allow")

    type: str


def _literal_type(model: Any) -> str | None:
    """The ``type`` value a model's ``type`` field is fixed to (``Literal['message']``)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    field = model.model_fields.get("type")
    if field is None:
        return None
    values = get_args(field.annotation)
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


def _members(annotation: Any) -> tuple[list[Any], bool]:
    """The members of a union annotation (``Annotated`` unwrapped) and whether None is one."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in (Union, types.UnionType):
        return [annotation], False
    members = list(get_args(annotation))
    optional = type(None) in members
    return [member for member in members if member is not type(None)], optional


def _tagger(known: frozenset[str]) -> typing.Callable[[Any], str | None]:
    def tag(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        kind = getattr(kind, "value", kind)
        if isinstance(kind, str):
            if kind in known:
                return kind
            if is_extension_type(kind):
                return EXTENSION_TAG
        return None

    return tag


def _item_union(annotation: Any) -> Any | None:
    """The item union with ExtensionItem added (dispatched on ``type``), or None if
    ``annotation`` is not an item union."""
    members, optional = _members(annotation)
    tags = [_literal_type(member) for member in members]
    if len(members) < 2 or any(tag not in _ITEM_TYPES for tag in tags):
        return None
    tagged = [Annotated[member, Tag(str(tag))] for member, tag in zip(members, tags, strict=True)]
    tagged.append(Annotated[ExtensionItem, Tag(EXTENSION_TAG)])
    union: Any = Annotated[Union[tuple(tagged)], Discriminator(_tagger(frozenset(map(str, tags))))]  # noqa: UP007
    return union | None if optional else union


def _extended(annotation: Any) -> Any | None:
    """``annotation`` with every item union admitting extension items, or None if unchanged."""
    if get_origin(annotation) is list:
        inner = _item_union(get_args(annotation)[0])
        return list[inner] if inner is not None else None  # type: ignore[valid-type]
    union = _item_union(annotation)
    if union is not None:
        return union
    members, optional = _members(annotation)
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        model = members[0]
        if "output" in model.model_fields or "item" in model.model_fields:
            extended = with_extension_items(model)
            if extended is not model:
                return extended | None if optional else extended
    return None


@functools.cache
def with_extension_items(model: type[M]) -> type[M]:
    """A subclass of ``model`` whose item unions (``output``, ``item``, and those of a
    ``response`` it holds) also admit :class:`ExtensionItem`; ``model`` itself when it
    holds no item union. Cached: one class per model."""
    overrides: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = _extended(field.annotation)
        if annotation is not None:
            overrides[name] = (annotation, field)
    if not overrides:
        return model
    extended: type[M] = create_model(
        model.__name__, __base__=model, __module__=model.__module__, __doc__=model.__doc__, **overrides
    )
    return extended
