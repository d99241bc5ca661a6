"""``output_text``: the text of a response's messages, on every provider.

OpenAI's ``Response`` has an ``output_text`` property; openresponses-types'
``ResponseResource`` has none, so code written against the openai SDK broke on translated
providers. Decision: both.

* Every ``ResponseResource`` anyllm returns (a reply, or the ``response`` of a stream's
  ``response.created`` ... ``response.completed`` events) has an ``output_text`` property:
  the class is the subclass anyllm already derives for spec-valid dumps
  (:mod:`anyllm.spec_dump`), with :class:`OutputText` mixed in, so it is still an
  ``openresponses_types.ResponseResource`` instance, ``model_dump()`` is unchanged (a
  property is not a field), and ``response.output_text`` reads the same on all 21 providers.
* :func:`output_text` is the same as a function for type checkers: the declared return
  type is ``Response | ResponseResource``, and ``ResponseResource`` declares no such
  attribute.

The text is OpenAI's definition: the ``text`` of every ``output_text`` content part of
every ``message`` output item, concatenated in order, ``""`` when there is none (a
refusal, a tool call, reasoning alone).
"""

from __future__ import annotations

from typing import Any

__all__ = ["OutputText", "output_text"]


def _kind(value: Any) -> Any:
    kind = getattr(value, "type", None)
    return getattr(kind, "value", kind)


def output_text(response: Any) -> str:
    """The concatenated ``output_text`` parts of ``response``'s messages (``""`` if none).

    ``response``: a ``ResponseResource`` or an ``openai.types.responses.Response``.
    """
    texts: list[str] = []
    for item in getattr(response, "output", None) or ():
        if _kind(item) != "message":
            continue
        for part in getattr(item, "content", None) or ():
            if _kind(part) == "output_text" and isinstance(getattr(part, "text", None), str):
                texts.append(part.text)
    return "".join(texts)


class OutputText:
    """Mixed into the ResponseResource class anyllm returns: adds no field, only the property
    (a plain class: ``import anyllm`` loads no pydantic)."""

    __slots__ = ()

    @property
    def output_text(self) -> str:
        """The text of the response's messages, as OpenAI's ``Response.output_text``."""
        return output_text(self)
