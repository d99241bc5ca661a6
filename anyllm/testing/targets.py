"""Named targets: a column of the compliance matrix is an implementation, not only a registry name.

Several servers speak one protocol (an OpenAI-compatible chat server, a Responses gateway,
an Anthropic-compatible server). A target file (``conformance/targets.yaml`` ships with the
suites; ``--targets-file`` names another) gives each a name, and per target: the registry
provider whose client talks to it (its protocol), how the harness starts it on loopback (a
backend it runs over, a command, a readiness URL) or the base URL where it already runs,
the model, the capabilities it declares (what the model behind it can do) and the provenance
written into its cassettes (package and version). ``pytest --target=NAME`` (repeatable,
``all``) runs and records it like a provider, into ``cassettes/<target>/``, judged against
``conformance/baselines/<target>.yaml``, in its own matrix column.

A target named like a registry provider (``llamacpp``) is that provider's column: ``--provider=
llamacpp`` records against the server the target starts. Loading a target file never imports
or starts anything: replaying a column needs none of its software.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from anyllm.providers.registry import ProviderMetadata

__all__ = [
    "BACKEND_KINDS",
    "CAPABILITY_FLAGS",
    "NAME",
    "BackendSpec",
    "StartSpec",
    "TargetError",
    "TargetFile",
    "TargetSpec",
    "column_metadata",
    "column_provider",
    "default_targets_path",
    "load_targets",
]

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # a directory name under cassettes/ and a baseline file
BACKEND_KINDS = ("llama-server",)
# ProviderMetadata flags a target may declare (what the model and server behind it can do).
CAPABILITY_FLAGS = (
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
_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_.-]+))?\}")
PLACEHOLDERS = frozenset(
    {"port", "backend", "backend_root", "model", "secret", "python", "bin", "file", "workdir"}
)


class TargetError(ValueError):
    """A target file that cannot be used, naming the file, the target and the field."""


@dataclass(frozen=True)
class BackendSpec:
    """A server the targets run over, started once per session (``kind`` names the starter)."""

    name: str
    kind: str


@dataclass(frozen=True)
class StartSpec:
    """How the harness starts a target's own process: argv, environment, files, readiness."""

    command: tuple[str, ...]
    ready: str  # a URL that answers 200 once the server serves requests
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)  # name -> text (placeholders expanded)
    modules: tuple[str, ...] = ()  # Python modules the command needs in this interpreter
    timeout: float = 120.0


@dataclass(frozen=True)
class TargetSpec:
    """One named target (see the module doc)."""

    name: str
    provider: str
    title: str
    backend: str | None = None
    serves: str = "start"  # "backend": the backend itself answers; "start": its own process; "url"
    start: StartSpec | None = None
    api_base: str | None = None  # template (placeholders) or a fixed URL for "url"
    api_key: str | None = None  # template: "{secret}" for a key the harness makes up per session
    api_key_env: str | None = None  # "url" targets: the variable holding the key
    model: str = "{model}"
    capabilities: Mapping[str, bool] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)
    require_env: str = "ANYLLM_REQUIRE_TARGETS"
    notes: str = ""

    def placeholders(self) -> set[str]:
        """The placeholder names the target's templates use (``bin``, ``file``, ...)."""
        texts = [self.api_base or "", self.api_key or "", self.model]
        if self.start is not None:
            texts += [
                *self.start.command,
                self.start.ready,
                *self.start.env.values(),
                *self.start.files.values(),
            ]
        return {m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text)}

    def binaries(self) -> list[str]:
        """The ``{bin:NAME}`` executables the start command needs."""
        if self.start is None:
            return []
        return [
            m.group(2)
            for arg in self.start.command
            for m in _PLACEHOLDER.finditer(arg)
            if m.group(1) == "bin"
        ]


@dataclass(frozen=True)
class TargetFile:
    """A parsed target file: its backends and targets, in file order."""

    path: Path
    backends: Mapping[str, BackendSpec]
    targets: Mapping[str, TargetSpec]


def default_targets_path() -> Path:
    """``targets.yaml`` of the installed ``conformance`` package (the suites' own)."""
    import conformance

    return Path(conformance.__file__).resolve().parent / "targets.yaml"


def _text(where: str, value: Any, key: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value).strip() == "":
        raise TargetError(f"{where}: {key!r} must be a non-empty string")
    return str(value)


def _mapping(where: str, value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TargetError(f"{where}: {key!r} must be a mapping")
    return value


def _check_placeholders(where: str, *texts: str) -> None:
    for text in texts:
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) not in PLACEHOLDERS:
                raise TargetError(
                    f"{where}: unknown placeholder {{{m.group(1)}}}; known: {', '.join(sorted(PLACEHOLDERS))}"
                )
            if (m.group(1) in ("bin", "file")) != bool(m.group(2)):
                raise TargetError(f"{where}: {m.group(0)} (only bin: and file: take a name)")


def _start(where: str, raw: Any) -> StartSpec:
    data = _mapping(where, raw, "start")
    command = data.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str | int) for a in command):
        raise TargetError(f"{where}: start.command must be a non-empty list of strings")
    env = {
        str(k): str(_text(where, v, f"start.env.{k}"))
        for k, v in _mapping(where, data.get("env"), "start.env").items()
    }
    files = {
        str(k): str(_text(where, v, f"start.files.{k}"))
        for k, v in _mapping(where, data.get("files"), "start.files").items()
    }
    for name in files:
        if not NAME.match(name.replace(".", "-")):
            raise TargetError(f"{where}: start.files name {name!r} must be a plain file name")
    modules = data.get("modules") or []
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise TargetError(f"{where}: start.modules must be a list of module names")
    ready = str(_text(where, data.get("ready"), "start.ready"))
    try:
        timeout = float(data.get("timeout", 120))
    except (TypeError, ValueError):
        raise TargetError(f"{where}: start.timeout must be a number of seconds") from None
    spec = StartSpec(tuple(str(a) for a in command), ready, env, files, tuple(modules), timeout)
    _check_placeholders(where, *spec.command, spec.ready, *spec.env.values(), *spec.files.values())
    for m in (m for arg in spec.command for m in _PLACEHOLDER.finditer(arg) if m.group(1) == "file"):
        if m.group(2) not in files:
            raise TargetError(f"{where}: {m.group(0)} names no entry of start.files")
    return spec


def _target(where: str, name: str, raw: Any, backends: Mapping[str, BackendSpec]) -> TargetSpec:
    from anyllm.providers.registry import list_providers

    data = _mapping(where, raw, name)
    provider = str(_text(where, data.get("provider"), "provider"))
    if provider not in list_providers():
        raise TargetError(f"{where}: provider {provider!r} is not a registry provider")
    backend = _text(where, data.get("backend"), "backend", required=False)
    if backend is not None and backend not in backends:
        raise TargetError(f"{where}: backend {backend!r} is not declared under 'backends'")
    serves = str(data.get("serves") or ("start" if data.get("start") is not None else "url"))
    if serves not in ("backend", "start", "url"):
        raise TargetError(f"{where}: serves must be backend, start or url, got {serves!r}")
    if serves == "backend" and backend is None:
        raise TargetError(f"{where}: serves: backend needs a backend")
    start = _start(where, data.get("start")) if serves == "start" else None
    api_base = _text(where, data.get("api_base"), "api_base", required=serves != "backend")
    caps = _mapping(where, data.get("capabilities"), "capabilities")
    for flag, value in caps.items():
        if flag not in CAPABILITY_FLAGS or not isinstance(value, bool):
            raise TargetError(
                f"{where}: capabilities.{flag} must be one of {', '.join(CAPABILITY_FLAGS)} set to true/false"
            )
    provenance = {
        str(k): str(_text(where, v, f"provenance.{k}"))
        for k, v in _mapping(where, data.get("provenance"), "provenance").items()
    }
    if "package" not in provenance:
        raise TargetError(f"{where}: provenance.package (the software that answers) is required")
    spec = TargetSpec(
        name=name,
        provider=provider,
        title=str(_text(where, data.get("title"), "title")),
        backend=backend,
        serves=serves,
        start=start,
        api_base=api_base,
        api_key=_text(where, data.get("api_key"), "api_key", required=False),
        api_key_env=_text(where, data.get("api_key_env"), "api_key_env", required=False),
        model=str(_text(where, data.get("model", "{model}"), "model")),
        capabilities=MappingProxyType(dict(caps)),
        provenance=MappingProxyType(provenance),
        require_env=str(_text(where, data.get("require_env", "ANYLLM_REQUIRE_TARGETS"), "require_env")),
        notes=str(data.get("notes") or "").strip(),
    )
    _check_placeholders(where, spec.api_base or "", spec.api_key or "", spec.model)
    if serves == "url" and spec.placeholders() - {"secret"}:
        raise TargetError(f"{where}: a target at a fixed URL takes no placeholders but {{secret}}")
    return spec


def load_targets(path: Path | None = None) -> TargetFile:
    """Parse and check a target file (default: the suites' own). Raises TargetError naming
    what is wrong; a missing default file is an empty target list."""
    from anyllm.testing.cassettes import load_yaml

    chosen = path or default_targets_path()
    if not chosen.is_file():
        if path is None:
            return TargetFile(chosen, MappingProxyType({}), MappingProxyType({}))
        raise TargetError(f"{chosen}: no such target file")
    try:
        data = load_yaml(chosen.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # YAML errors, undecodable bytes: named, not a traceback
        raise TargetError(f"{chosen}: not a readable YAML file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise TargetError(f"{chosen}: a target file is a mapping with a 'targets' mapping")
    backends: dict[str, BackendSpec] = {}
    for name, raw in _mapping(str(chosen), data.get("backends"), "backends").items():
        kind = _mapping(f"{chosen}: backend {name!r}", raw, str(name)).get("kind")
        if kind not in BACKEND_KINDS:
            raise TargetError(f"{chosen}: backend {name!r}: kind must be one of {', '.join(BACKEND_KINDS)}")
        backends[str(name)] = BackendSpec(str(name), str(kind))
    targets: dict[str, TargetSpec] = {}
    for name, raw in data["targets"].items():
        if not isinstance(name, str) or not NAME.match(name) or name == "all":
            raise TargetError(f"{chosen}: target name {name!r} must be lower-case letters, digits, - and _")
        targets[name] = _target(f"{chosen}: target {name!r}", name, raw, backends)
    return TargetFile(chosen, MappingProxyType(backends), MappingProxyType(targets))


def column_provider(column: str, targets: Mapping[str, TargetSpec]) -> str:
    """The registry provider whose client a column's cases use."""
    spec = targets.get(column)
    return spec.provider if spec is not None else column


def column_metadata(column: str, targets: Mapping[str, TargetSpec]) -> ProviderMetadata:
    """A column's provider metadata, with the capabilities its target declares."""
    from anyllm.providers.registry import provider_metadata

    spec = targets.get(column)
    meta = provider_metadata(column_provider(column, targets))
    if spec is None:
        return meta
    changes: dict[str, Any] = dict(spec.capabilities)
    if spec.api_key is not None or spec.api_key_env is not None:
        # The target's own key (made up per session, or its variable): never the vendor's.
        changes["key_required"] = True
        changes["api_key_env"] = spec.api_key_env
    return dataclasses.replace(meta, **changes) if changes else meta
