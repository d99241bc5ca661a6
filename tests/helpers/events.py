"""Turning the library's responses and stream events into the JSON dicts tests assert on."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any, Protocol

from anyllm.errors import AnyLLMError


class Dumpable(Protocol):
    """A pydantic model of any origin: openai's, openresponses-types' or anyllm's own."""

    def model_dump(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...


def dump(model: Dumpable) -> dict[str, Any]:
    """The wire shape of one response or event: JSON mode, set fields only, wire names (``schema``)."""
    result: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return result


def collect(stream: Iterable[Dumpable]) -> tuple[list[dict[str, Any]], AnyLLMError | None]:
    """Every event a stream yields, and the library error that ended it (``None`` if it ended cleanly).

    Only ``AnyLLMError`` is caught: any other exception is a bug and fails the test.
    """
    events: list[dict[str, Any]] = []
    try:
        for event in stream:
            events.append(dump(event))
    except AnyLLMError as error:
        return events, error
    return events, None


async def acollect(stream: AsyncIterable[Dumpable]) -> tuple[list[dict[str, Any]], AnyLLMError | None]:
    """``collect`` for an async stream."""
    events: list[dict[str, Any]] = []
    try:
        async for event in stream:
            events.append(dump(event))
    except AnyLLMError as error:
        return events, error
    return events, None
