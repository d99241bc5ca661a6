"""Hypothesis strategies for the OpenResponses API, built from ``schemas/``.

Why our own generator rather than hypothesis-jsonschema: that package breaks on current
Hypothesis, and it builds ``oneOf`` by filtering, which is far too slow for the spec's
unions. The spec's schemas use a small part of JSON Schema, so a small generator covers
them: ``$ref`` to sibling files, ``type``, ``enum``/``const``, ``properties``/``required``,
``items``, ``anyOf``/``oneOf`` (choose a branch), ``allOf`` (merged), nullable unions,
``additionalProperties`` and the few length/range/pattern bounds. Objects are *sparse*:
required fields always, a handful of optional ones, so a generated request exercises a
few parameters at a time and shrinks to the one that matters.

Hand-tuned strategies cover what a schema cannot say: whole conforming event streams
(scripts of text, refusal, reasoning and tool-call steps played through the library's
own ``ResponseStreamBuilder``), raw SSE bytes with random framing, provider-native
chunk streams for the chat, Anthropic and Gemini bridges, and wild values for every
``responses()`` parameter.

Importing this module does no work: schemas are read and strategies built on first use.

The strategies live in five modules: ``values`` (leaves), ``schema`` (the schema-driven
generator), ``streams`` (scripts, event streams, SSE framing), ``native_streams`` (the
bridges' provider streams) and ``arguments`` (``responses()`` arguments); this package
re-exports them all.
"""

from __future__ import annotations

from anyllm.testing.strategies.arguments import FUZZED_PARAMS, parameter_values, responses_arguments
from anyllm.testing.strategies.native_streams import (
    ChunkStream,
    anthropic_events,
    anthropic_streams,
    chat_events,
    chat_streams,
    gemini_events,
    gemini_streams,
)
from anyllm.testing.strategies.schema import (
    SchemaStrategies,
    create_response_bodies,
    from_schema,
    input_items,
    response_resources,
    tools,
)
from anyllm.testing.strategies.streams import (
    Script,
    Step,
    chunked,
    event_streams,
    play_script,
    scripts,
    sse_streams,
)
from anyllm.testing.strategies.values import Strategy, json_values, wild_values

__all__ = [
    "FUZZED_PARAMS",
    "ChunkStream",
    "SchemaStrategies",
    "Script",
    "Step",
    "Strategy",
    "anthropic_events",
    "anthropic_streams",
    "chat_events",
    "chat_streams",
    "chunked",
    "create_response_bodies",
    "event_streams",
    "from_schema",
    "gemini_events",
    "gemini_streams",
    "input_items",
    "json_values",
    "parameter_values",
    "play_script",
    "response_resources",
    "responses_arguments",
    "scripts",
    "sse_streams",
    "tools",
    "wild_values",
]
