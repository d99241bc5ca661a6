"""The plugin's fixtures: the provider, the resolved case, its cassette, validator and client."""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from anyllm.testing.cases import CASES, DEFAULT_MODELS, CaseInfo, missing_capabilities
from anyllm.testing.cassettes import (
    CassetteCorruptError,
    CassetteSecretError,
    CassetteSettings,
    RecordingLimitError,
    SecretLeakError,
    block_network,
    load_provenance,
    use_cassette,
)
from anyllm.testing.harness import NATIVE_PROTOCOLS, CaseValidator, ConformanceClient, Target
from anyllm.testing.local_servers import LOCAL_SERVERS
from anyllm.testing.plugin.live import live_access
from anyllm.testing.plugin.options import SETTINGS_KEY
from anyllm.testing.plugin.session import LOG_SCRUB_KEY, STATE_KEY
from anyllm.testing.plugin.verdicts import CONTEXT_KEY, CaseContext, rule_for

__all__ = [
    "REPLAY_API_KEY",
    "anyllm_case",
    "anyllm_client",
    "anyllm_provider",
    "conformance_validator",
    "vcr_cassette",
]

REPLAY_API_KEY = "anyllm-replay-placeholder-key"


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
        live, why, base = live_access(settings, state, anyllm_provider)
        starter = LOCAL_SERVERS.get(anyllm_provider)
        if not live and starter is not None and os.environ.get(starter.require_env) == "1":
            pytest.fail(f"live {starter.name} recording required but unavailable: {why}")
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
    # Recording against a server the harness started (local_servers): the model it serves.
    server = state.servers.get(anyllm_provider) if live else None
    if server is not None and not explicit_model:
        model = str(server.model)
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
    from anyllm.providers.factory import clear_backends
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
    ctx.verdict, ctx.rules, ctx.reason = "failed", [rule_for(exc)], str(exc)[:500]
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
