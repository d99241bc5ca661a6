"""The plugin's options and ini keys, and the settings a session resolves from them once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from anyllm.testing.cassettes import RECORD_MODES, RecordBounds
from anyllm.testing.targets import BackendSpec, TargetFile, TargetSpec

if TYPE_CHECKING:
    from anyllm.providers.registry import ProviderMetadata

__all__ = ["SETTINGS_KEY", "AnyllmSettings", "add_options"]


def add_options(parser: pytest.Parser) -> None:
    """The ``--provider``, ``--record``, ... options and their ini keys (see ``--help``)."""
    group = parser.getgroup("anyllm", "anyllm conformance harness")

    def option(*names: str, ini: str, help: str, ini_type: Any = None, **kwargs: Any) -> None:
        try:
            group.addoption(*names, dest=ini, help=help, **kwargs)
        except ValueError:
            # Another plugin (pytest-recording) owns the name: offer an anyllm-prefixed one.
            group.addoption(f"--anyllm-{names[0].lstrip('-')}", dest=ini, help=help, **kwargs)
        parser.addini(ini, help, type=ini_type)

    option(
        "--provider",
        ini="anyllm_providers",
        action="append",
        default=None,
        help="provider(s) to run the suite against: repeatable, comma lists, 'all' (default: all)",
        ini_type="args",
    )
    option(
        "--target",
        ini="anyllm_targets",
        action="append",
        default=None,
        help="named target(s) of the target file to run as columns: repeatable, comma lists, 'all' "
        "(a target is an implementation: a server, its protocol, model and provenance)",
        ini_type="args",
    )
    option(
        "--targets-file",
        ini="anyllm_targets_file",
        default=None,
        help="the target file (default: targets.yaml of the packaged conformance suites)",
    )
    option(
        "--model",
        ini="anyllm_models",
        action="append",
        default=None,
        help="model override: NAME for every provider, or PROVIDER=NAME (repeatable)",
        ini_type="args",
    )
    group.addoption(
        "--record",
        action="store_true",
        dest="anyllm_record",
        default=False,
        help="record live traffic (shorthand for --record-mode=once)",
    )
    option(
        "--record-mode",
        ini="anyllm_record_mode",
        default=None,
        choices=RECORD_MODES,
        help="cassette record mode, as vcrpy/pytest-recording: none (default: replay only), once, "
        "new_episodes, all, rewrite",
    )
    option(
        "--api-base",
        ini="anyllm_api_base",
        action="append",
        default=None,
        help="base URL: URL for every provider, or PROVIDER=URL (repeatable)",
        ini_type="args",
    )
    option(
        "--cassette-dir",
        ini="anyllm_cassette_dir",
        default=None,
        help="cassette directory (default: cassettes)",
    )
    option(
        "--baseline-dir",
        ini="anyllm_baseline_dir",
        default=None,
        help="known-deviation baselines directory (default: conformance/baselines)",
    )
    option(
        "--conformance-report",
        ini="anyllm_conformance_report",
        default=None,
        help="write the compliance report: PATH.json, PATH.md and PATH.html (extension ignored)",
    )
    option(
        "--profile",
        ini="anyllm_profile",
        default=None,
        choices=("auto", "openresponses", "openai"),
        help="validation profile (default auto: 'openai' for OpenAI-protocol providers, "
        "else 'openresponses')",
    )
    option(
        "--record-timeout",
        ini="anyllm_record_timeout",
        default=None,
        help="seconds a recorded response may take before recording gives up (default 120)",
    )
    parser.addini("anyllm_record_max_bytes", "largest body recorded, in bytes (default 8 MiB)")
    group.addoption(
        "--wire-fallback",
        action="store_true",
        dest="anyllm_wire_fallback",
        default=False,
        help="native servers: when anyllm's client refuses a reply, the case goes on with what "
        "arrived on the wire, and 'the client failed' checks count as consequences (certify uses it)",
    )


def _split_list(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def _pairs(values: list[str], what: str) -> dict[str, str]:
    """``NAME`` -> {"*": NAME}; ``provider=NAME`` -> {provider: NAME}."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if sep and "://" not in key:
            if not rest:
                raise pytest.UsageError(f"--{what} {value!r}: nothing after '='")
            out[key.strip().lower()] = rest.strip()
        else:
            out["*"] = value.strip()
    return out


@dataclass
class AnyllmSettings:
    """The parsed options, resolved once per session. ``providers`` are the matrix's columns:
    registry providers and named targets (``targets``: every target of the target file, a
    column or not, since a provider's column may be served by the target of its name)."""

    providers: list[str]
    models: dict[str, str]
    record_mode: str
    api_bases: dict[str, str]
    cassette_dir: Path
    baseline_dir: Path
    report_path: Path | None
    profile: str
    bounds: RecordBounds
    rootdir: Path
    targets: Mapping[str, TargetSpec] = field(default_factory=dict)
    wire_fallback: bool = False  # --wire-fallback (anyllm.testing.wire_view)
    backends: Mapping[str, BackendSpec] = field(default_factory=dict)  # what targets run over

    def provider_of(self, column: str) -> str:
        """The registry provider whose client a column's cases use."""
        from anyllm.testing.targets import column_provider

        return column_provider(column, self.targets)

    def metadata(self, column: str) -> ProviderMetadata:
        """A column's provider metadata, with the capabilities its target declares."""
        from anyllm.testing.targets import column_metadata

        return column_metadata(column, self.targets)

    @classmethod
    def from_config(cls, config: pytest.Config) -> AnyllmSettings:
        from anyllm.providers.registry import list_providers

        def get(name: str) -> Any:
            value = config.getoption(name, default=None)
            if value is None or value == []:
                value = config.getini(name)
            return value

        rootdir = Path(str(config.rootpath))
        valid = list_providers()
        target_file = _target_file(get("anyllm_targets_file"), rootdir)
        targets = dict(target_file.targets)
        requested_targets = _split_list(get("anyllm_targets"))
        requested = _split_list(get("anyllm_providers")) or ([] if requested_targets else ["all"])
        providers: list[str] = []
        for name in requested:
            chosen = valid if name.lower() == "all" else [name.lower()]
            for item in chosen:
                if item not in valid:
                    raise pytest.UsageError(
                        f"--provider {name!r} is not a provider; valid: all, {', '.join(valid)}"
                    )
                if item not in providers:
                    providers.append(item)
        for name in requested_targets:
            chosen = list(targets) if name.lower() == "all" else [name.lower()]
            for item in chosen:
                if item not in targets:
                    raise pytest.UsageError(
                        f"--target {name!r} is not a target of {target_file.path}; "
                        f"valid: all, {', '.join(targets) or '(none)'}"
                    )
                if item not in providers:
                    providers.append(item)
        models = _pairs(_split_list(get("anyllm_models")), "model")
        api_bases = _pairs(_split_list(get("anyllm_api_base")), "api-base")
        for key in [*models, *api_bases]:
            if key != "*" and key not in valid and key not in targets:
                raise pytest.UsageError(
                    f"{key!r} in --model/--api-base is not a provider or target; "
                    f"valid: {', '.join([*valid, *(t for t in targets if t not in valid)])}"
                )
        mode = get("anyllm_record_mode") or ("once" if config.getoption("anyllm_record", False) else "none")
        if mode not in RECORD_MODES:
            raise pytest.UsageError(f"record mode {mode!r} is not one of {', '.join(RECORD_MODES)}")
        cassette_dir = Path(get("anyllm_cassette_dir") or "cassettes")
        baseline_dir = Path(get("anyllm_baseline_dir") or "conformance/baselines")
        report = get("anyllm_conformance_report")
        profile = get("anyllm_profile") or "auto"
        if profile not in ("auto", "openresponses", "openai"):
            raise pytest.UsageError(f"--profile must be auto, openresponses or openai, got {profile!r}")
        try:
            timeout = float(get("anyllm_record_timeout") or 120.0)
            max_bytes = int(config.getini("anyllm_record_max_bytes") or 8 * 1024 * 1024)
        except ValueError as exc:
            raise pytest.UsageError(f"anyllm recording bound: {exc}") from None
        return cls(
            providers=providers,
            models=models,
            record_mode=str(mode),
            api_bases=api_bases,
            cassette_dir=cassette_dir if cassette_dir.is_absolute() else rootdir / cassette_dir,
            baseline_dir=baseline_dir if baseline_dir.is_absolute() else rootdir / baseline_dir,
            report_path=(Path(report) if Path(report).is_absolute() else rootdir / report)
            if report
            else None,
            profile=str(profile),
            bounds=RecordBounds(max_bytes=max_bytes, max_seconds=timeout),
            wire_fallback=bool(config.getoption("anyllm_wire_fallback", False)),
            rootdir=rootdir,
            targets=targets,
            backends=dict(target_file.backends),
        )


def _target_file(value: Any, rootdir: Path) -> TargetFile:
    """The target file (``--targets-file``, else the suites' own), or a usage error naming the problem."""
    from anyllm.testing.targets import TargetError, load_targets

    path = None
    if value:
        path = Path(str(value))
        path = path if path.is_absolute() else rootdir / path
    try:
        return load_targets(path)
    except TargetError as exc:
        raise pytest.UsageError(f"anyllm targets: {exc}") from None


SETTINGS_KEY = pytest.StashKey[AnyllmSettings]()
