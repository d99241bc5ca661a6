"""``--fuzz-live`` in a pytest session: the column's live target, the run, its summary.

The engine is :mod:`anyllm.testing.fuzz_live`; this module resolves where a column answers
(as the conformance cases do when they record) and says what each run did.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anyllm.testing.cases import DEFAULT_MODELS
from anyllm.testing.fuzz_live import ColumnRun, fuzz_column
from anyllm.testing.harness import Target

if TYPE_CHECKING:
    from anyllm.testing.plugin.options import AnyllmSettings
    from anyllm.testing.plugin.session import SessionState

__all__ = ["live_target", "run_live_fuzz", "summary_lines"]


def live_target(
    settings: AnyllmSettings, state: SessionState, column: str
) -> tuple[Target | None, str, dict[str, Any]]:
    """(target, why not, provenance) to fuzz ``column`` live: its local server started if it
    has one, the model it serves (or ``--model``), its key. As the conformance cases resolve
    a recording target (:func:`anyllm.testing.plugin.fixtures.anyllm_case`)."""
    from anyllm.testing.plugin.live import live_access

    live, why, base = live_access(settings, state, column)
    if not live or base is None:
        return None, why, {}
    meta = settings.metadata(column)
    server = state.servers.get(column)
    explicit = settings.models.get(column) or settings.models.get("*")
    model = explicit or (str(server.model) if server is not None else DEFAULT_MODELS.get(column, "default"))
    key = os.environ.get(meta.api_key_env) if meta.api_key_env else None
    if server is not None and getattr(server, "api_key", None):
        key = str(server.api_key)
    profile = settings.profile
    if profile == "auto":
        profile = "openai" if meta.protocol == "openai" else "openresponses"
    provider = settings.provider_of(column)
    target = Target(provider, meta, model, base, key, True, profile)  # type: ignore[arg-type]
    provenance: dict[str, Any] = {
        "provider": provider,
        "protocol": meta.protocol,
        "model": model,
        "official_test": None,
        "profile": profile,
        "api_base_path": urllib.parse.urlsplit(base).path.rstrip("/") or "",
        "record_mode": "rewrite",
    }
    if server is not None:
        provenance.update(getattr(server, "provenance", None) or {})
    elif column != provider:
        provenance["target"] = column
    return target, "", provenance


def run_live_fuzz(config: Any, column: str, workdir: Path) -> ColumnRun | str:
    """The live fuzz run of ``column`` in a pytest session (``--fuzz-live``), or why it cannot
    run (no live access). The local response store (``store``, ``previous_response_id`` on
    stateless providers) lives in ``workdir`` for the run."""
    from anyllm.providers.factory import clear_backends
    from anyllm.store import STORE_PATH_ENV
    from anyllm.testing.fuzz_plugin import LIVE_RUNS_KEY, live_fuzz_options
    from anyllm.testing.plugin.options import SETTINGS_KEY
    from anyllm.testing.plugin.session import STATE_KEY

    settings, state = config.stash[SETTINGS_KEY], config.stash[STATE_KEY]
    target, why, provenance = live_target(settings, state, column)
    if target is None:
        return why
    old_store = os.environ.get(STORE_PATH_ENV)
    os.environ[STORE_PATH_ENV] = str(workdir / "responses.sqlite3")
    clear_backends()
    try:
        run = fuzz_column(settings, target, column, provenance, live_fuzz_options(config), workdir)
    finally:
        clear_backends()
        if old_store is None:
            os.environ.pop(STORE_PATH_ENV, None)
        else:
            os.environ[STORE_PATH_ENV] = old_store
    config.stash[LIVE_RUNS_KEY].append(run)
    return run


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counter.most_common())


def _where(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def summary_lines(run: ColumnRun, root: Path, *, verbose: int = 0) -> list[tuple[str, dict[str, bool]]]:
    """The terminal lines of one column's run: what was sent and how it ended, every rule
    broken with the number of bodies breaking it, then each distinct failure, shrunk."""
    refused_client = sum(run.client_refused.values())
    refused_server = sum(run.server_refused.values())
    head = (
        f"{run.column}: {run.sent} requests sent in {run.seconds:.1f} s, "
        f"{run.judged} distinct bodies judged of {run.examples} drawn ({run.late} past the deadline): "
        f"{run.answered} answered, {refused_server} refused by the server, {refused_client} by the "
        f"client before sending; {run.failing} broke a rule (seed {run.seed})"
    )
    out: list[tuple[str, dict[str, bool]]] = [(head, {"bold": True})]
    if run.error:
        out.append((f"  the run failed: {run.error}", {"red": True}))
    if refused_client and verbose:
        out.append((f"  refused by the client: {_counts(run.client_refused)}", {}))
    if refused_server:
        out.append((f"  refused by the server: {_counts(run.server_refused)}", {}))
    if run.rule_counts:
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted(run.rule_counts.items()))
        out.append((f"  rules broken (bodies): {rules}", {}))
    if run.findings:
        out.append(
            (f"  {len(run.findings)} requests, each the smallest found breaking the rules it is for:", {})
        )
    for found in run.findings:
        out.extend(_finding_lines(found, root, verbose))
    return out


def _finding_lines(found: Any, root: Path, verbose: int) -> list[tuple[str, dict[str, bool]]]:
    """One finding: its id and rules, for which rules it is the example and whether they are
    known (a baseline entry lists them) or new, where it was saved, the body, what broke."""
    states = []
    for rule in found.for_rules:
        if rule in found.explained:
            states.append(f"{rule} (known: baseline entry {found.explained[rule]})")
        elif rule in found.kept:
            states.append(f"{rule} (NEW, kept before as {found.kept[rule]}, no baseline entry yet)")
        else:
            states.append(f"{rule} (NEW)")
    new = bool(found.new_rules)
    markup = {"red": True} if new else {}
    where = ""
    if found.saved is not None:
        where = f"; saved {_where(found.saved, root)}"
    elif found.problem:
        where = f"; not saved: {found.problem}"
    out = [(f"  - {found.id} [{', '.join(found.rules)}] for {', '.join(states)}{where}", markup)]
    body = json.dumps(found.body, ensure_ascii=False)
    what = "shrunk to" if found.shrunk else "not shrunk, smallest body sent"
    out.append((f"      {what}: {body if verbose or len(body) <= 300 else body[:300] + ' ...'}", {}))
    for message in found.messages[: None if verbose else 2]:
        out.append((f"      {message[: None if verbose else 240]}", {}))
    return out
