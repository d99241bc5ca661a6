"""Conformance case declarations: what each case is, what it needs, and how it maps onto
the official compliance tester.

A case is a pytest test marked with :func:`case`. The marker carries the case id (the
cassette's file name and the report's row), the capabilities the provider must declare
(:class:`~anyllm.providers.registry.ProviderMetadata` flags) and, when there is one, the id of
the matching test in the official OpenResponses compliance suite, so the two sets of
results compare directly. The catalogue (:data:`CASES`) lets reports list every case,
including those no provider ran.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

__all__ = [
    "CAPABILITIES",
    "CASES",
    "DEFAULT_MODELS",
    "OFFICIAL_TESTS",
    "CaseInfo",
    "case",
    "missing_capabilities",
]

Capability = Literal[
    "tools",
    "json_schema",
    "json_object",
    "image_input",
    "file_input",
    "reasoning",
    "streaming",
    "websocket",
    "compaction",
]
CAPABILITIES: tuple[Capability, ...] = (
    "tools",
    "json_schema",
    "json_object",
    "image_input",
    "file_input",
    "reasoning",
    "streaming",
    "websocket",
    "compaction",
)

# Test ids of the official compliance suite (openresponses/openresponses src/lib/compliance-tests.ts).
OFFICIAL_TESTS = frozenset(
    {
        "basic-response",
        "assistant-phase",
        "response-output-phase-schema",
        "streaming-response",
        "websocket-response",
        "websocket-sequential-responses",
        "websocket-continuation",
        "websocket-reconnect-store-false-recovery",
        "websocket-previous-response-not-found",
        "websocket-failed-continuation-evicts-cache",
        "websocket-compact-new-chain",
        "system-prompt",
        "tool-calling",
        "image-input",
        "multi-turn",
        "compact-response",
        "compact-missing-model",
    }
)

# Models used when neither --model nor a cassette's provenance names one.
DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-4.1-mini",
    "azureopenai": "gpt-4.1-mini",
    "openrouter": "openai/gpt-4.1-mini",
    "huggingface": "openai/gpt-oss-20b",
    "groq": "openai/gpt-oss-20b",
    "fireworks": "accounts/fireworks/models/gpt-oss-20b",
    "xai": "grok-3-mini",
    "deepseek": "deepseek-chat",
    "ollama": "qwen3:0.6b",
    "vllm": "Qwen/Qwen3-0.6B",
    "lmstudio": "qwen3-0.6b",
    "mistral": "mistral-small-latest",
    "anthropic": "claude-3-5-haiku-latest",
    "gemini": "gemini-2.0-flash",
    "llamacpp": "smollm2-135m-instruct",
    "together": "meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "cerebras": "llama3.1-8b",
    "sambanova": "Meta-Llama-3.1-8B-Instruct",
    "perplexity": "sonar",
    "openai_compatible": "default",
    "openresponses": "default",
}

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """One conformance case."""

    id: str
    requires: tuple[Capability, ...] = ()
    official: str | None = None
    feature: str = ""
    offline: bool = False  # makes no request: needs no cassette

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requires": list(self.requires),
            "official": self.official,
            "feature": self.feature,
        }


CASES: dict[str, CaseInfo] = {}

F = TypeVar("F", bound=Callable[..., Any])


def case(
    case_id: str,
    *,
    requires: tuple[Capability, ...] | list[Capability] = (),
    official: str | None = None,
    feature: str = "",
    offline: bool = False,
) -> Callable[[F], F]:
    """Declare a test as conformance case ``case_id`` (marker ``anyllm_case``).

    ``official`` must be an id of the official compliance suite; ``requires`` names the
    capability flags the provider must declare, otherwise the verdict is "unsupported".
    """
    if not _ID.match(case_id):
        raise ValueError(f"case id {case_id!r} must be lower-case letters, digits and dashes")
    unknown = [c for c in requires if c not in CAPABILITIES]
    if unknown:
        raise ValueError(
            f"case {case_id!r}: unknown capabilities {unknown}; known: {', '.join(CAPABILITIES)}"
        )
    if official is not None and official not in OFFICIAL_TESTS:
        raise ValueError(f"case {case_id!r}: {official!r} is not an official compliance test id")
    info = CaseInfo(case_id, tuple(requires), official, feature, offline)
    existing = CASES.get(case_id)
    if existing is not None and existing != info:
        raise ValueError(f"case id {case_id!r} is declared twice with different settings")
    CASES[case_id] = info

    def mark(function: F) -> F:
        import pytest

        return pytest.mark.anyllm_case(  # type: ignore[no-any-return]
            case_id, requires=info.requires, official=official, feature=feature, offline=offline
        )(function)

    return mark


def missing_capabilities(metadata: Any, requires: tuple[str, ...]) -> list[str]:
    """The required capability flags the provider's metadata does not declare."""
    return [name for name in requires if not getattr(metadata, name, False)]
