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
from anyllm.testing.plugin.live import live_access
from anyllm.testing.plugin.options import SETTINGS_KEY
from anyllm.testing.plugin.session import LOG_SCRUB_KEY, STATE_KEY
from anyllm.testing.plugin.verdicts import CONTEXT_KEY, CaseContext, rule_for, wire_exchanges
from anyllm.testing.redact import url_secrets

__all__ = [
    "REPLAY_API_KEY",
    "anyllm_case",
    "anyllm_client",
    "anyllm_provider",
    "anyllm_registry_provider",
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
    """The column this test runs against (the suite is parameterized by --provider and
    --target): a registry provider, or a named target (its provider: ``settings.provider_of``)."""
    return str(getattr(request, "param", None) or request.config.stash[SETTINGS_KEY].providers[0])


@pytest.fixture
def anyllm_registry_provider(request: pytest.FixtureRequest, anyllm_provider: str) -> str:
    """The registry provider whose client the column's cases use: the column itself, or the
    ``provider`` of the named target (``llama-server-responses`` -> ``openresponses``)."""
    return request.config.stash[SETTINGS_KEY].provider_of(anyllm_provider)


@pytest.fixture
def anyllm_case(request: pytest.FixtureRequest, anyllm_provider: str) -> CaseContext:
    """Resolve the case: capabilities, cassette, live access, model; skip with a verdict if it cannot run."""
    settings = request.config.stash[SETTINGS_KEY]
    state = request.config.stash[STATE_KEY]
    info = _case_info(request.node)
    meta = settings.metadata(anyllm_provider)  # a target's declared capabilities included
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
        starter = state.starters.get(anyllm_provider)
        if not live and starter is not None and os.environ.get(starter.require_env) == "1":
            pytest.fail(f"live {starter.name} recording required but unavailable: {why}")
        if not live:
            ctx.record_problem = why
    elif settings.record_mode != "none":
        # Asked to record, and this case replays anyway: could the provider have recorded?
        # A run asked to record fails at its end if not (see plugin.outcome).
        could, could_not, _base = live_access(settings, state, anyllm_provider, start=False)
        ctx.record_problem = "" if could else could_not
    if not live and ctx.mode in ("all", "rewrite") and not info.offline:
        # These modes re-record: replaying the old cassette instead would pass off old
        # traffic as what was asked for.
        kept = f"; {path.name} is kept, not replayed" if path.is_file() else ""
        _skip(ctx, "not_recorded", f"cannot record {anyllm_provider} (--record-mode={ctx.mode}): {why}{kept}")
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
        if server is not None and getattr(server, "api_key", None):
            key = str(server.api_key)  # the target's own key (made up for this session)
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
    provider = settings.provider_of(anyllm_provider)
    ctx.target = Target(provider, meta, model, api_base, key, live, profile)  # type: ignore[arg-type]
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
    state = request.config.stash[STATE_KEY]
    provenance: dict[str, Any] = {
        "provider": ctx.target.provider,
        "protocol": ctx.target.metadata.protocol,
        "model": ctx.target.model,
        "case": ctx.info.id,
        "official_test": ctx.info.official,
        "profile": ctx.target.profile,
        "api_base_path": urllib.parse.urlsplit(ctx.target.api_base).path.rstrip("/") or "",
        "record_mode": ctx.mode,
    }
    server = state.servers.get(ctx.provider) if ctx.target.live else None
    if server is not None:  # what answered: the target, its software and version, its backend
        provenance.update(getattr(server, "provenance", None) or {})
    elif ctx.provider != ctx.target.provider:
        provenance["target"] = ctx.provider
    # The key, and a password or key= value in the base URL: scrubbed by value wherever echoed.
    configured = (ctx.target.api_key, *url_secrets(ctx.target.api_base))
    settings = CassetteSettings(
        record_mode=ctx.mode,
        provenance=provenance,
        extra_secrets=tuple(k for k in configured if k and k != REPLAY_API_KEY),
        bounds=request.config.stash[SETTINGS_KEY].bounds,
    )
    installed = request.config.stash.get(LOG_SCRUB_KEY, None)
    if installed is not None:
        for value in configured:
            installed.filter.add(value)
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
            ctx.used_cassette = True
            try:
                yield cassette
            finally:
                ctx.recorded = cassette.recorded_now
                # HTTP exchanges, and WebSocket connections (anyllm.testing.ws_client): both reach the server
                ctx.requests = len(cassette.used_interactions()) + cassette.websocket.used
                ctx.live_failure = repr(cassette.failure)[:300] if cassette.failure is not None else ""
                ctx.live_cassette = None
            _recording_failed(ctx, cassette.failure)
    except (SecretLeakError, RecordingLimitError) as exc:
        ctx.teardown_error = exc
        raise
    finally:
        clear_backends()
        if old_store is None:
            os.environ.pop(STORE_PATH_ENV, None)
        else:
            os.environ[STORE_PATH_ENV] = old_store


def _recording_failed(ctx: CaseContext, failure: BaseException | None) -> None:
    """A request failed while recording, so the cassette wrote nothing (see AnyllmCassette).
    The case's verdict says so: a recording bound by its own message (it names the bound);
    any other failure the case swallowed (an expected-error case, say) as a teardown error,
    so a run that recorded nothing never looks passed."""
    if failure is None:
        return
    if isinstance(failure, RecordingLimitError):
        ctx.teardown_error = failure
        if ctx.verdict == "failed":
            return
        raise failure
    if ctx.verdict != "failed":
        raise RecordingLimitError(
            f"recording {ctx.cassette.name} failed ({type(failure).__name__}: {str(failure)[:200]}); "
            "nothing was written"
        )


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
    request: pytest.FixtureRequest,
    anyllm_case: CaseContext,
    vcr_cassette: Any,
    conformance_validator: CaseValidator,
) -> ConformanceClient:
    """``anyllm.responses()`` bound to the provider under test, through the cassette, validating."""
    assert anyllm_case.target is not None
    settings = request.config.stash[SETTINGS_KEY]
    if conformance_validator.wire_judged and settings.wire_fallback:  # a refused reply: the wire's
        conformance_validator.wire_source = lambda: wire_exchanges(vcr_cassette)
    return ConformanceClient(anyllm_case.target, conformance_validator)
