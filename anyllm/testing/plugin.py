"""The anyllm pytest plugin: providers, cassettes, verdicts and the compliance matrix.

Registered through the ``pytest11`` entry point, so it is loaded in every pytest run of an
environment where anyllm is installed; it stays inert until a test asks for one of its
fixtures (``anyllm_provider``, ``anyllm_client``, ``conformance_validator``,
``vcr_cassette``). Replay is the default and blocks the network; ``--record`` records.

Verdicts (one per provider x case): passed, failed (with rule ids, possibly covered by the
provider's reviewed baseline), unsupported (the provider's declared capabilities exclude the
feature, or the library refuses a parameter the provider cannot express) and not recorded
(no cassette and no live access). Unsupported and not-recorded cases are pytest skips whose
reason says so, and every verdict is in the matrix and the report: never a silent skip.

For native Responses providers (protocol ``openresponses`` or ``openai``) the case's
exchanges are judged on the wire as well, after the test body ran and before the verdict:
every request body and every reply (JSON or raw SSE, with its status and Content-Type) the
case played or recorded, including what the library refused to type.

Cassettes are untrusted input: one that cannot be read fails its case with CASSETTE-CORRUPT,
one holding the value of a live key with CASSETTE-SECRET (naming the file and the variable),
and neither is changed (only ``--record-mode=rewrite`` replaces a file). From session start,
log records are scrubbed of key values and ``key=`` query values (:mod:`anyllm.testing.log_scrub`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import time
import urllib.parse
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from anyllm.testing.cases import CASES, DEFAULT_MODELS, CaseInfo, missing_capabilities
from anyllm.testing.cassettes import (
    RECORD_MODES,
    CassetteCorruptError,
    CassetteSecretError,
    CassetteSettings,
    NetworkBlockedError,
    RecordBounds,
    RecordingLimitError,
    SecretLeakError,
    block_network,
    cassette_sha256,
    load_provenance,
    load_yaml,
    use_cassette,
)
from anyllm.testing.harness import NATIVE_PROTOCOLS, CaseValidator, ConformanceClient, Target, WireExchange
from anyllm.testing.log_scrub import Installed
from anyllm.testing.validate import Violation

__all__ = ["AnyllmSettings", "CaseContext", "load_baseline"]
pytest_plugins = ["anyllm.testing.fuzz_plugin"]  # --fuzz and the Hypothesis profiles (issue 6)

VERDICT_PROPERTY = "anyllm_verdict"
REPLAY_API_KEY = "anyllm-replay-placeholder-key"
REPORTED_VIOLATIONS = 50  # per case in the report (the count and the rule list are complete)
# Rule ids the harness itself assigns; the last group is never covered by a baseline.
UNBASELINABLE = frozenset(
    {"CASSETTE-MISMATCH", "NETWORK-BLOCKED", "HARNESS-ERROR", "CASSETTE-SECRET", "CASSETTE-CORRUPT"}
)


# -- options --------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
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
    """The parsed options, resolved once per session."""

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
        requested = _split_list(get("anyllm_providers")) or ["all"]
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
        models = _pairs(_split_list(get("anyllm_models")), "model")
        api_bases = _pairs(_split_list(get("anyllm_api_base")), "api-base")
        for key in [*models, *api_bases]:
            if key != "*" and key not in valid:
                raise pytest.UsageError(
                    f"{key!r} in --model/--api-base is not a provider; valid: {', '.join(valid)}"
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
            rootdir=rootdir,
        )


SETTINGS_KEY = pytest.StashKey[AnyllmSettings]()
STATE_KEY = pytest.StashKey["SessionState"]()
CONTEXT_KEY = pytest.StashKey["CaseContext"]()
LOG_SCRUB_KEY = pytest.StashKey[Installed]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "anyllm_case(case_id, requires=(), official=None, feature=''): an anyllm conformance case",
    )
    config.stash[SETTINGS_KEY] = AnyllmSettings.from_config(config)
    state = SessionState()
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(_VerdictCollector(state), f"anyllm-verdicts-{id(config)}")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Keys out of log records from here on (see :mod:`anyllm.testing.log_scrub`): on the
    request loggers, the root logger's handlers and the handlers pytest's logging plugin
    captures, reports and prints with (they exist once configure is over)."""
    from anyllm.testing.log_scrub import install

    logging_plugin = session.config.pluginmanager.get_plugin("logging-plugin")
    handlers = [
        handler
        for name in ("caplog_handler", "report_handler", "log_cli_handler", "log_file_handler")
        if isinstance(handler := getattr(logging_plugin, name, None), logging.Handler)
    ]
    session.config.stash[LOG_SCRUB_KEY] = install(handlers)


def pytest_unconfigure(config: pytest.Config) -> None:
    installed = config.stash.get(LOG_SCRUB_KEY, None)
    if installed is not None:
        installed.remove()
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "anyllm_provider" in metafunc.fixturenames:
        providers = metafunc.config.stash[SETTINGS_KEY].providers
        metafunc.parametrize("anyllm_provider", providers, ids=providers, indirect=True)


# -- session state: the lazily started llama.cpp server, verdicts -------------------------------


@dataclass
class SessionState:
    llama: Any = None
    llama_error: str | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    probes: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def llama_server(self) -> Any:
        """Started on first need (recording the llamacpp row), stopped at the end of the session."""
        if self.llama is None and self.llama_error is None:
            from anyllm.testing.llama_server import LlamaServerUnavailable, start_llama_server

            try:
                self.llama = start_llama_server()
            except LlamaServerUnavailable as exc:
                self.llama_error = str(exc)
        return self.llama

    def stop(self) -> None:
        if self.llama is not None:
            self.llama.stop()
            self.llama = None


def _port_open(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _is_loopback_url(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


# -- baselines ------------------------------------------------------------------------------


def load_baseline(directory: Path, provider: str) -> dict[str, dict[str, Any]]:
    """``<dir>/<provider>.yaml``: ``cases: {case id: {rules: [...], reason: ...}}``.
    Every entry must give its reason: a baseline is a reviewed decision, not a mute button.

    Read once per file version (path, inode, mtime, size; it is consulted for every case),
    handed out as a copy."""
    path = directory / f"{provider}.yaml"
    try:
        stat = path.stat()
    except OSError:
        return {}
    if not path.is_file():
        return {}
    cached = _read_baseline(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return {case: {"rules": list(e["rules"]), "reason": e["reason"]} for case, e in cached.items()}


@functools.cache
def _read_baseline(name: str, inode: int, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    import yaml

    path = Path(name)
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise pytest.UsageError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"{path}: a baseline is a mapping with a 'cases' key")
    cases = data.get("cases") or {}
    if not isinstance(cases, dict):
        raise pytest.UsageError(f"{path}: 'cases' must map case ids to {{rules, reason}}")
    out: dict[str, dict[str, Any]] = {}
    for case_id, entry in cases.items():
        if (
            not isinstance(entry, dict)
            or not entry.get("rules")
            or not str(entry.get("reason") or "").strip()
        ):
            raise pytest.UsageError(f"{path}: case {case_id!r} needs a non-empty 'rules' list and a 'reason'")
        out[str(case_id)] = {
            "rules": sorted({str(r) for r in entry["rules"]}),
            "reason": str(entry["reason"]).strip(),
        }
    return out


# -- per-case context -------------------------------------------------------------------------


@dataclass
class CaseContext:
    """Everything the plugin knows about one provider x case run."""

    info: CaseInfo
    provider: str
    cassette: Path
    mode: str  # effective record mode ("none" = replay only)
    target: Target | None = None
    validator: CaseValidator | None = None
    verdict: str | None = None
    reason: str = ""
    rules: list[str] = field(default_factory=list)
    baselined: bool = False
    baseline_reason: str = ""
    stale_baseline: bool = False
    teardown_error: BaseException | None = None
    recorded: int = 0
    live_cassette: Any = None  # the active AnyllmCassette while the case runs
    started: float = field(default_factory=time.perf_counter)
    duration: float = 0.0

    def to_dict(self, settings: AnyllmSettings, nodeid: str) -> dict[str, Any]:
        provenance = load_provenance(self.cassette)
        violations = self.validator.violations if self.validator else []
        try:
            cassette = str(self.cassette.relative_to(settings.rootdir))
        except ValueError:
            cassette = str(self.cassette)
        exists = self.cassette.is_file()
        return {
            "provider": self.provider,
            "case": self.info.id,
            "official": self.info.official,
            "feature": self.info.feature,
            "requires": list(self.info.requires),
            "verdict": self.verdict or "failed",
            "baselined": self.baselined,
            "baseline_reason": self.baseline_reason,
            "stale_baseline": self.stale_baseline,
            "rules": self.rules,
            "reason": self.reason,
            "violations": [v.to_dict() for v in _sample(violations, REPORTED_VIOLATIONS)],
            "violation_count": len(violations),
            "warnings": sorted({v.rule for v in violations if v.severity != "error"}),
            "cassette": cassette if exists else None,
            "cassette_sha256": cassette_sha256(self.cassette) if exists else None,
            "model": self.target.model if self.target else provenance.get("model"),
            "profile": self.target.profile if self.target else None,
            "recorded_at": provenance.get("recorded_at"),
            "mode": "record" if self.recorded else "replay",
            "responses": self.validator.responses if self.validator else 0,
            "events": self.validator.events if self.validator else 0,
            "wire_judged": bool(self.validator and self.validator.wire_judged),
            "wire_exchanges": self.validator.exchanges if self.validator else 0,
            "wire_events": self.validator.wire_events if self.validator else 0,
            "duration": round(self.duration, 4),
            "nodeid": nodeid,
        }


def _sample(violations: list[Violation], limit: int) -> list[Violation]:
    """At most ``limit`` violations, in order, with the first of every rule among them: a
    stream with 60 broken deltas must not push its one framing problem out of the report."""
    if len(violations) <= limit:
        return violations
    keep: set[int] = set()
    rules: set[str] = set()
    for index, v in enumerate(violations):
        if v.rule not in rules:
            rules.add(v.rule)
            keep.add(index)
    for index in range(len(violations)):
        if len(keep) >= limit:
            break
        keep.add(index)
    return [v for index, v in enumerate(violations) if index in keep]


def _case_info(item: pytest.Item) -> CaseInfo:
    marker = item.get_closest_marker("anyllm_case")
    if marker is not None and marker.args:
        case_id = str(marker.args[0])
        return CASES.get(case_id) or CaseInfo(
            case_id,
            tuple(marker.kwargs.get("requires", ())),
            marker.kwargs.get("official"),
            str(marker.kwargs.get("feature", "")),
            bool(marker.kwargs.get("offline", False)),
        )
    name = getattr(item, "originalname", item.name).removeprefix("test_").replace("_", "-").lower()
    return CaseInfo(name)


def _skip(ctx: CaseContext, verdict: str, reason: str) -> None:
    ctx.verdict, ctx.reason = verdict, reason
    pytest.skip(f"anyllm {verdict.replace('_', ' ')}: {reason}")


def _live_access(
    settings: AnyllmSettings, state: SessionState, provider: str
) -> tuple[bool, str, str | None]:
    """(live?, why not, base URL) for recording ``provider``. Never touches a non-loopback host."""
    from anyllm.providers.registry import provider_metadata

    meta = provider_metadata(provider)
    explicit = settings.api_bases.get(provider) or settings.api_bases.get("*")
    if provider == "llamacpp" and not explicit:
        server = state.llama_server()
        if server is None:
            return False, f"the llama.cpp server could not start: {state.llama_error}", None
        return True, "", str(server.base_url)
    base = (
        explicit
        or (os.environ.get(meta.base_url_env) if meta.base_url_env else None)
        or meta.default_base_url
    )
    if not base:
        hint = f" or set {meta.base_url_env}" if meta.base_url_env else ""
        return False, f"no endpoint (pass --api-base{hint})", None
    if meta.key_required and not (meta.api_key_env and os.environ.get(meta.api_key_env)):
        return False, f"no key ({meta.api_key_env} is not set)", base
    if _is_loopback_url(base):
        if base not in state.probes:
            state.probes[base] = (_port_open(base), f"nothing listens at {base}")
        ok, why = state.probes[base]
        if not ok:
            return False, why, base
    return True, "", base


@pytest.fixture
def anyllm_provider(request: pytest.FixtureRequest) -> str:
    """The provider this test runs against (the suite is parameterized by --provider)."""
    return str(getattr(request, "param", None) or request.config.stash[SETTINGS_KEY].providers[0])


@pytest.fixture
def anyllm_case(request: pytest.FixtureRequest, anyllm_provider: str) -> CaseContext:
    """Resolve the case: capabilities, cassette, live access, model; skip with a verdict if it cannot run."""
    from anyllm.providers.registry import provider_metadata

    settings = request.config.stash[SETTINGS_KEY]
    state = request.config.stash[STATE_KEY]
    info = _case_info(request.node)
    meta = provider_metadata(anyllm_provider)
    path = settings.cassette_dir / anyllm_provider / f"{info.id}.yaml"
    ctx = CaseContext(info=info, provider=anyllm_provider, cassette=path, mode=settings.record_mode)
    request.node.stash[CONTEXT_KEY] = ctx
    missing = missing_capabilities(meta, info.requires)
    if missing:
        _skip(ctx, "unsupported", f"{anyllm_provider} does not declare {', '.join(missing)}")
    exists = path.is_file() or info.offline
    wants_live = not info.offline and (
        ctx.mode in ("new_episodes", "all", "rewrite") or (ctx.mode == "once" and not exists)
    )
    live, why, base = (False, "replay mode (--record to record)", None)
    if wants_live:
        live, why, base = _live_access(settings, state, anyllm_provider)
        if not live and os.environ.get("ANYLLM_REQUIRE_LLAMA") == "1" and anyllm_provider == "llamacpp":
            pytest.fail(f"live llama.cpp recording required but unavailable: {why}")
    if not live:
        ctx.mode = "none"
        if not exists:
            _skip(
                ctx,
                "not_recorded",
                f"no cassette {path.name} for {anyllm_provider} and no live access: {why}",
            )
    provenance = load_provenance(path) if path.is_file() else {}
    explicit_model = settings.models.get(anyllm_provider) or settings.models.get("*")
    if live and anyllm_provider == "llamacpp" and state.llama is not None and not explicit_model:
        model = str(state.llama.model)
    elif explicit_model:
        model = explicit_model
    elif not live and provenance.get("model"):
        model = str(provenance["model"])
    else:
        model = DEFAULT_MODELS.get(anyllm_provider, "default")
    if live:
        api_base = str(base)
        key = os.environ.get(meta.api_key_env) if meta.api_key_env else None
    else:
        explicit = settings.api_bases.get(anyllm_provider) or settings.api_bases.get("*")
        # Host and port are not matched on replay: a loopback placeholder with the recorded path.
        # "" is a recorded path too (a server serving /responses at its root): only a missing
        # one falls back to /v1.
        recorded_path = provenance.get("api_base_path")
        api_base = explicit or "http://127.0.0.1:9" + ("/v1" if recorded_path is None else str(recorded_path))
        key = (os.environ.get(meta.api_key_env) if meta.api_key_env else None) or (
            REPLAY_API_KEY if meta.key_required else None
        )
    profile = settings.profile
    if profile == "auto":
        profile = "openai" if meta.protocol == "openai" else "openresponses"
    ctx.target = Target(anyllm_provider, meta, model, api_base, key, live, profile)  # type: ignore[arg-type]
    ctx.validator = CaseValidator(ctx.target.profile, info.id)
    ctx.validator.wire_judged = meta.protocol in NATIVE_PROTOCOLS
    return ctx


@pytest.fixture
def vcr_cassette(
    request: pytest.FixtureRequest, anyllm_case: CaseContext, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The case's cassette, active for the test: replay (network blocked) or record."""
    from anyllm.providers.base import clear_backends
    from anyllm.store import STORE_PATH_ENV

    ctx = anyllm_case
    assert ctx.target is not None
    provenance = {
        "provider": ctx.provider,
        "protocol": ctx.target.metadata.protocol,
        "model": ctx.target.model,
        "case": ctx.info.id,
        "official_test": ctx.info.official,
        "profile": ctx.target.profile,
        "api_base_path": urllib.parse.urlsplit(ctx.target.api_base).path.rstrip("/") or "",
        "record_mode": ctx.mode,
    }
    settings = CassetteSettings(
        record_mode=ctx.mode,
        provenance=provenance,
        extra_secrets=tuple(k for k in (ctx.target.api_key,) if k and k != REPLAY_API_KEY),
        bounds=request.config.stash[SETTINGS_KEY].bounds,
    )
    installed = request.config.stash.get(LOG_SCRUB_KEY, None)
    if installed is not None:
        installed.filter.add(ctx.target.api_key)
    # The local response store (previous_response_id on stateless providers) is per test.
    store = tmp_path_factory.mktemp("anyllm-store") / "responses.sqlite3"
    old_store = os.environ.get(STORE_PATH_ENV)
    os.environ[STORE_PATH_ENV] = str(store)
    clear_backends()
    try:
        with contextlib.ExitStack() as stack:
            if ctx.mode == "none":
                stack.enter_context(block_network())
            refused: Exception | None = None
            try:
                cassette = stack.enter_context(use_cassette(ctx.cassette, settings))
            except (CassetteCorruptError, CassetteSecretError) as exc:
                refused = exc
            if refused is not None:  # outside the except: no chained traceback either
                _refuse_cassette(ctx, refused)
            ctx.live_cassette = cassette
            try:
                yield cassette
            finally:
                ctx.recorded = cassette.recorded_now
                ctx.live_cassette = None
    except (SecretLeakError, RecordingLimitError) as exc:
        ctx.teardown_error = exc
        raise
    finally:
        clear_backends()
        if old_store is None:
            os.environ.pop(STORE_PATH_ENV, None)
        else:
            os.environ[STORE_PATH_ENV] = old_store


def _refuse_cassette(ctx: CaseContext, exc: Exception) -> NoReturn:
    """A cassette that cannot be replayed (unreadable, or holding a live key) fails the case
    with its own rule. The message names the file and the problem (never a key); no
    traceback, whose frames would show the arguments, the cassette text among them."""
    ctx.verdict, ctx.rules, ctx.reason = "failed", [_rule_for(exc)], str(exc)[:500]
    pytest.fail(f"anyllm: {exc}", pytrace=False)


@pytest.fixture
def conformance_validator(anyllm_case: CaseContext) -> CaseValidator:
    """The case's violation collector; its findings decide the verdict."""
    assert anyllm_case.validator is not None
    return anyllm_case.validator


@pytest.fixture
def anyllm_client(
    anyllm_case: CaseContext, vcr_cassette: Any, conformance_validator: CaseValidator
) -> ConformanceClient:
    """``anyllm.responses()`` bound to the provider under test, through the cassette, validating."""
    assert anyllm_case.target is not None
    return ConformanceClient(anyllm_case.target, conformance_validator)


# -- verdicts ---------------------------------------------------------------------------------


def _rule_for(exc: BaseException) -> str:
    from vcr.errors import CannotOverwriteExistingCassetteException

    from anyllm.errors import AnyLLMError

    if isinstance(exc, CannotOverwriteExistingCassetteException):
        return "CASSETTE-MISMATCH"
    if isinstance(exc, NetworkBlockedError):
        return "NETWORK-BLOCKED"
    if isinstance(exc, RecordingLimitError):
        return "RECORDING-LIMIT"
    if isinstance(exc, SecretLeakError):
        return "CASSETTE-SECRET"
    if isinstance(exc, CassetteCorruptError):
        return "CASSETTE-CORRUPT"
    if isinstance(exc, AssertionError):
        return "CASE-CHECK"
    if isinstance(exc, AnyLLMError):
        return "CASE-ERROR"
    return "HARNESS-ERROR"


def wire_exchanges(cassette: Any) -> list[WireExchange]:
    """The interactions the case used, in order, as the harness's wire exchanges."""
    out: list[WireExchange] = []
    for number, (request, response) in enumerate(cassette.used_interactions(), start=1):
        headers = {
            str(name).lower(): ", ".join(str(v) for v in (values if isinstance(values, list) else [values]))
            for name, values in (response.get("headers") or {}).items()
        }
        out.append(
            WireExchange(
                number=number,
                method=str(request.method),
                path=urllib.parse.urlsplit(str(request.uri)).path,
                request_body=request.body or b"",
                status=int(response["status"]["code"]),
                headers=headers,
                body=(response.get("body") or {}).get("string") or b"",
            )
        )
    return out


def _check_wire(ctx: CaseContext) -> None:
    """Native providers: judge what crossed the wire (see the module docstring)."""
    validator, cassette = ctx.validator, ctx.live_cassette
    if validator is None or cassette is None or not validator.wire_judged:
        return
    try:
        validator.check_wire(wire_exchanges(cassette))
    except Exception as exc:  # a harness bug must show as one, not as a pytest internal error
        validator.violations.append(
            Violation("HARNESS-ERROR", "error", "$", f"wire validation failed: {exc!r}", "harness")
        )


def _judge(ctx: CaseContext, settings: AnyllmSettings, exc: BaseException | None) -> None:
    from anyllm.errors import UnsupportedParameterError

    if isinstance(exc, UnsupportedParameterError):
        ctx.verdict, ctx.reason = "unsupported", str(exc)
        return
    rules = sorted({v.rule for v in (ctx.validator.errors() if ctx.validator else [])})
    if exc is not None:
        rules = sorted({*rules, _rule_for(exc)})
        ctx.reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
    ctx.rules = rules
    baseline = load_baseline(settings.baseline_dir, ctx.provider).get(ctx.info.id)
    if not rules:
        ctx.verdict = "passed"
        ctx.stale_baseline = baseline is not None
        return
    ctx.verdict = "failed"
    if baseline is not None and not (set(rules) & UNBASELINABLE) and set(rules) <= set(baseline["rules"]):
        ctx.baselined = True
        ctx.baseline_reason = baseline["reason"]


def _describe(ctx: CaseContext) -> str:
    lines = [f"anyllm conformance: {ctx.provider} x {ctx.info.id} failed: {', '.join(ctx.rules)}"]
    if ctx.reason:
        lines.append(f"  {ctx.reason}")
    for v in (ctx.validator.errors() if ctx.validator else [])[:20]:
        lines.append(f"  {v}")
    lines.append(f"  cassette: {ctx.cassette}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    ctx = item.stash.get(CONTEXT_KEY, None)
    if ctx is None:
        return report
    settings = item.config.stash[SETTINGS_KEY]
    if call.when == "call":
        ctx.duration = time.perf_counter() - ctx.started
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, pytest.skip.Exception):
            ctx.verdict = ctx.verdict or "unsupported"
            ctx.reason = ctx.reason or str(exc)
            return report
        _check_wire(ctx)
        _judge(ctx, settings, exc)
        if ctx.verdict == "unsupported":
            report.outcome = "skipped"
            reason = f"Skipped: anyllm unsupported: {ctx.reason}"
            report.longrepr = (str(item.path), item.location[1] or 0, reason)
        elif ctx.verdict == "failed" and ctx.baselined:
            report.outcome = "skipped"
            report.wasxfail = f"known deviation ({', '.join(ctx.rules)}): {ctx.baseline_reason}"
        elif ctx.verdict == "failed" and report.outcome == "passed":
            report.outcome = "failed"
            report.longrepr = _describe(ctx)
        elif ctx.verdict == "failed" and call.excinfo is not None:
            report.sections.append(("anyllm verdict", _describe(ctx)))
    elif call.when == "setup" and call.excinfo is not None and ctx.verdict is None:
        exc = call.excinfo.value
        if not isinstance(exc, pytest.skip.Exception):
            ctx.verdict, ctx.rules = "failed", [_rule_for(exc)]
            ctx.reason = f"setup: {type(exc).__name__}: {exc}"[:500]
    elif call.when == "teardown":
        if ctx.teardown_error is not None:
            ctx.verdict, ctx.baselined = "failed", False
            ctx.rules = sorted({*ctx.rules, _rule_for(ctx.teardown_error)})
            ctx.reason = f"{type(ctx.teardown_error).__name__}: {ctx.teardown_error}"[:500]
        report.user_properties.append((VERDICT_PROPERTY, json.dumps(ctx.to_dict(settings, item.nodeid))))
    return report


class _VerdictCollector:
    """Gathers verdicts from teardown reports (they travel in user_properties, so this also
    works on the controller of a pytest-xdist run). Registered per session."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == VERDICT_PROPERTY:
                self.state.verdicts.append(json.loads(value) if isinstance(value, str) else dict(value))  # type: ignore[call-overload]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> Generator[None, None, None]:
    """Outermost wrapper: the matrix comes after pytest's own summaries (-ra lists), right
    above the final counts, where a reader looks."""
    yield
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.verdicts:
        return
    from anyllm.testing.report import build_report, terminal_matrix

    settings = config.stash[SETTINGS_KEY]
    report = build_report(state.verdicts, providers=settings.providers, record_mode=settings.record_mode)
    terminalreporter.section("anyllm compliance matrix")
    for text, markup in terminal_matrix(report):
        terminalreporter.write(text, **markup)
    if settings.report_path is not None and not hasattr(config, "workerinput"):
        from anyllm.testing.report import write_reports

        paths = write_reports(report, settings.report_path, root=settings.rootdir)
        terminalreporter.write_line("anyllm report: " + ", ".join(str(p) for p in paths))
