"""Judging a translated provider's recorded traffic: through the library, as a case would.

A cassette of a translated provider (chat completions, Anthropic Messages, Gemini) holds that
provider's own protocol, which the OpenResponses rules do not apply to. What the spec judges
is what anyllm makes of it. So ``anyllm-conformance validate`` replays each recorded exchange
to a real ``anyllm.responses()`` call (vcrpy on the harness's transport, network blocked;
the cassette answers whatever the library sends, so only the method is matched) and
validates the typed response, or every event of the stream, that the library returns: the
same judgement a conformance case makes (:class:`~anyllm.testing.harness.CaseValidator`).
The request is a stand-in (a one-line prompt, the recorded model and stream flag), so the
rules that compare a reply with its request judge it against that stand-in.

What cannot be judged says why (:class:`Replayed` with ``judged=False``): a reply the library
refuses on a 2xx status, a provider the registry does not know, a crash.
"""

from __future__ import annotations

import json
import re
import tempfile
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyllm.testing.rules import Profile
from anyllm.testing.validate import Violation

__all__ = ["BRIDGE_PROTOCOLS", "BridgeCall", "Replayed", "bridge_call", "bridge_protocol", "replay"]

BRIDGE_PROTOCOLS = ("chat", "anthropic", "gemini")
# The provider a cassette without provenance is replayed as, per protocol.
_DEFAULT_PROVIDER = {"chat": "openai_compatible", "anthropic": "anthropic", "gemini": "gemini"}
_GEMINI = re.compile(r"/models/([^/:]+):(stream)?[gG]enerateContent$")
PROMPT = "(replayed from a cassette by anyllm-conformance validate)"
_PLACEHOLDER_BASE = "http://127.0.0.1:9/v1"  # never reached: the cassette answers
_PLACEHOLDER_KEY = "anyllm-validate-placeholder-key"


def bridge_protocol(uri: str) -> str | None:
    """The translated protocol a request URI belongs to, or None."""
    path = urllib.parse.urlsplit(uri).path.rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/messages"):
        return "anthropic"
    if _GEMINI.search(path):
        return "gemini"
    return None


@dataclass(frozen=True)
class BridgeCall:
    """How to replay one interaction: as which provider and model, streaming or not."""

    provider: str
    protocol: str
    model: str
    stream: bool


def _body(request: Mapping[str, Any]) -> dict[str, Any]:
    raw = request.get("body")
    if isinstance(raw, Mapping):
        raw = raw.get("string")
    try:
        value = json.loads(raw) if isinstance(raw, (str, bytes)) and raw else None
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def bridge_call(
    interaction: Mapping[str, Any], metadata: Mapping[str, Any], provider: str | None = None
) -> BridgeCall | str:
    """How to replay ``interaction`` (``provider`` overrides the cassette's), or why it cannot be."""
    from anyllm.providers.registry import list_providers, provider_metadata

    request = interaction.get("request") or {}
    uri = str(request.get("uri", ""))
    protocol = bridge_protocol(uri)
    if protocol is None:
        return f"{uri} is neither a Responses call nor one a bridge translates"
    name = provider or str(metadata.get("provider") or _DEFAULT_PROVIDER[protocol])
    if name not in list_providers():
        return f"provider {name!r} (from the cassette's metadata) is not one anyllm knows"
    if provider_metadata(name).protocol != protocol:
        return f"provider {name!r} speaks {provider_metadata(name).protocol}, the request is {protocol}"
    body = _body(request)
    gemini = _GEMINI.search(urllib.parse.urlsplit(uri).path.rstrip("/"))
    model = str(metadata.get("model") or body.get("model") or (gemini.group(1) if gemini else "default"))
    stream = bool(gemini.group(2)) if gemini else body.get("stream") is True
    return BridgeCall(name, protocol, model, stream)


@dataclass
class Replayed:
    """What the library returned for one recorded exchange, judged (or why not)."""

    kind: str  # "response" | "stream" | "error" (a typed error for an error reply) | "unjudged"
    violations: list[Violation] = field(default_factory=list)
    note: str = ""
    judged: bool = True


def _status(interaction: Mapping[str, Any]) -> int:
    status = (interaction.get("response") or {}).get("status")
    code = status.get("code") if isinstance(status, Mapping) else status
    return int(code) if isinstance(code, int) else 200


def replay(interaction: Mapping[str, Any], call: BridgeCall, profile: Profile) -> Replayed:
    """Replay one recorded exchange through ``anyllm.responses()`` and judge what it returns."""
    import yaml

    from anyllm.errors import AnyLLMError
    from anyllm.providers.factory import clear_backends
    from anyllm.providers.registry import provider_metadata
    from anyllm.testing.cassettes import CassetteSettings, block_network, use_cassette
    from anyllm.testing.cassettes.matchers import method_matcher
    from anyllm.testing.harness import CaseValidator, ConformanceClient, Target

    target = Target(
        call.provider,
        provider_metadata(call.provider),
        call.model,
        _PLACEHOLDER_BASE,
        _PLACEHOLDER_KEY,
        False,
        profile,
    )
    validator = CaseValidator(profile, "validate")
    client = ConformanceClient(target, validator)
    status = _status(interaction)
    via = f"{call.provider} ({call.protocol} bridge), model {call.model}"
    settings = CassetteSettings(record_mode="none", match_on=(method_matcher,))
    with tempfile.TemporaryDirectory(prefix="anyllm-validate-") as tmp:
        path = Path(tmp) / "interaction.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "interactions": [dict(interaction)]}), encoding="utf-8")
        clear_backends()
        try:
            with block_network(), use_cassette(path, settings):
                if call.stream:
                    result = client.stream(PROMPT)
                    note = f"via {via}: the library streamed {len(result.events)} events"
                    if result.events:
                        note += f" ending in {result.events[-1].get('type')}"
                    if result.error is not None:
                        note += f", then raised {type(result.error).__name__}: {result.error}"
                    return Replayed("stream", list(validator.violations), note)
                client.create(PROMPT)
                return Replayed("response", list(validator.violations), f"via {via}")
        except AnyLLMError as exc:  # before any event or response
            raised = f"{type(exc).__name__}: {exc}"
            if status >= 400:  # the library's answer to an error reply: a typed error
                return Replayed("error", [], f"via {via}: HTTP {status}, the library raised {raised}")
            return Replayed(
                "unjudged", [], f"via {via}: the library refused the HTTP {status} reply: {raised}", False
            )
        except Exception as exc:  # anything else: say it, do not judge a half-run
            return Replayed("unjudged", [], f"via {via}: {type(exc).__name__}: {exc}", False)
        finally:
            clear_backends()
