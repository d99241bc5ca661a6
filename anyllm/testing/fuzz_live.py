"""Live fuzzing: generated requests sent to a running server, every reply judged, each rule
broken shrunk to a minimal request and kept as a cassette (``pytest --fuzz-live``).

The offline fuzz suite (``--fuzz``) checks what the library *sends*; this checks what a
server *answers*. For one column with live access (a target the harness starts, or a
provider with its endpoint and key), Hypothesis draws request bodies valid against the
spec's ``CreateResponseBody`` (:func:`live_bodies`: the project's schema strategies, values
the client checks from :data:`anyllm.params.PARAMS`, half of them streamed), each is sent
through the client the conformance cases use, and everything that comes back is judged by
the same validator: the typed response or every streamed event, and, for native Responses
servers, the raw wire (framing, every event, the request it answers). A body whose reply
breaks an error-level rule (a 5xx is :data:`SERVER_ERROR_RULE`; an untyped failure of the
library, a broken stream, a timeout are the verdict's own rules) is a failure; a body the
library refuses before sending, or the server refuses with a 4xx, is counted, not failed
(its error body is still judged).

Two Hypothesis runs with one seed: generation (every outcome cached, nothing raised, so all
N examples are drawn), then, for each rule broken that the column's baseline does not list,
a shrink run that retraces generation from the cache up to the first body breaking the rule
and shrinks it. The exchange of each smallest body, recorded while it was sent, is saved as
``cassettes/<column>/fuzz-<id>.yaml`` (scrubbed and written like every cassette; ``id``
hashes the body) with the body in its metadata, so the finding replays in CI as a
conformance case of its column and shows in the matrix and report
(``conformance/test_fuzz_live.py``).

Bounded, so it can run in CI: ``--fuzz-live=N`` examples per column, a deadline in seconds
for generation and shrinking together (``--fuzz-live-deadline``; past it no new request is
sent, and shrinking stops where it is), and ``max_output_tokens`` always sent, at most
:data:`LIVE_MAX_TOKENS`. Every body gets one request per session (outcomes are cached by
body), which also keeps a server's nondeterminism from confusing the shrinker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError
from anyllm.testing.cassettes import (
    CassetteSettings,
    RecordBounds,
    RecordingLimitError,
    SecretLeakError,
    load_provenance,
    use_cassette,
)
from anyllm.testing.harness import NATIVE_PROTOCOLS, CaseValidator, ConformanceClient, Target
from anyllm.testing.redact import url_secrets

if TYPE_CHECKING:
    from hypothesis import settings as HypothesisSettings
    from hypothesis.strategies import SearchStrategy

    from anyllm.testing.plugin.options import AnyllmSettings

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_EXAMPLES",
    "FINDING_PREFIX",
    "LIVE_MAX_TOKENS",
    "SERVER_ERROR_RULE",
    "ColumnRun",
    "Finding",
    "LiveFuzzOptions",
    "Outcome",
    "finding_block",
    "finding_id",
    "fuzz_column",
    "live_bodies",
    "send_body",
]

DEFAULT_EXAMPLES = 20
DEFAULT_DEADLINE = 60.0
GENERATION_SHARE = 0.6  # of the deadline; shrinking gets the rest
# max_output_tokens is always sent and at most this (the spec's minimum is 16): a reply of
# SmolLM2-135M on llama-server then takes about 0.8 s, so a column's run fits a minute.
LIVE_MAX_TOKENS = 24
FINDING_PREFIX = "fuzz-"
# A spec-valid request answered with a 5xx: the server failed on it (a 4xx is a refusal).
SERVER_ERROR_RULE = "CASE-SERVER-ERROR"
_MESSAGES = 8  # violation messages kept per finding, one per rule (the rule ids are complete)


@dataclass(frozen=True)
class LiveFuzzOptions:
    """How much one column's run may do."""

    examples: int = DEFAULT_EXAMPLES
    deadline: float = DEFAULT_DEADLINE  # seconds, generation and shrinking together
    max_tokens: int = LIVE_MAX_TOKENS


@dataclass(frozen=True)
class Outcome:
    """How one body ended: "answered", "client" (the library refused it before sending) or
    "server" (a 4xx), with a short detail; ``rules`` are the error rules it broke."""

    kind: str
    detail: str = ""
    rules: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    cassette: Path | None = None  # the exchange, recorded in the run's work directory


@dataclass
class Finding:
    """A request that breaks rules: for each rule of ``for_rules``, the smallest body that
    breaks it (shrunk by Hypothesis, or the smallest one sent when it was not shrunk), with
    every rule that body breaks. One body may be the smallest for several rules."""

    id: str
    body: dict[str, Any]
    rules: tuple[str, ...]  # every error rule the body breaks
    messages: tuple[str, ...]
    for_rules: tuple[str, ...] = ()
    shrunk: bool = False  # False: not shrunk (known already, or past the deadline)
    explained: dict[str, str] = field(default_factory=dict)  # rule -> baseline entry listing it
    kept: dict[str, str] = field(default_factory=dict)  # rule -> fuzz cassette saved before
    saved: Path | None = None  # cassettes/<column>/fuzz-<id>.yaml, when written by this run
    problem: str = ""  # why it could not be saved

    @property
    def new_rules(self) -> tuple[str, ...]:
        """The rules it is the example of that no baseline entry of the column lists."""
        return tuple(r for r in self.for_rules if r not in self.explained)


@dataclass
class ColumnRun:
    """What one column's live fuzz run did, for the terminal and the report."""

    column: str
    seed: int = 0  # of both Hypothesis runs (generation, then shrinking retraces it)
    examples: int = 0  # bodies Hypothesis drew (shrinking included)
    judged: int = 0  # distinct bodies tried, each once (refused by the client or sent)
    answered: int = 0
    client_refused: Counter[str] = field(default_factory=Counter)
    server_refused: Counter[str] = field(default_factory=Counter)
    failing: int = 0  # distinct bodies that broke a rule
    rule_counts: Counter[str] = field(default_factory=Counter)  # rule -> bodies breaking it
    late: int = 0  # bodies drawn past the deadline: not tried
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # the run itself went wrong (not a finding)

    @property
    def sent(self) -> int:
        """Requests that went out (one per distinct body the client did not refuse)."""
        return self.judged - sum(self.client_refused.values())

    @property
    def new(self) -> list[Finding]:
        """Findings of a rule that no baseline entry of the column lists."""
        return [f for f in self.findings if f.new_rules]


def finding_id(body: dict[str, Any]) -> str:
    """``fuzz-`` and a hash of the body as sent (stable across runs for the same body)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return FINDING_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# Parameters whose schema says less than the client checks (the spec gives temperature's range
# only in prose, instructions may be ""): a live body draws them from anyllm.params instead,
# so no request is spent on a value the library refuses before sending.
_FROM_PARAMS = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "max_tool_calls",
    "instructions",
    "safety_identifier",
    "prompt_cache_key",
)


def live_bodies(model: str, max_tokens: int = LIVE_MAX_TOKENS) -> SearchStrategy[dict[str, Any]]:
    """Bodies valid against ``CreateResponseBody`` for ``model`` that the client sends.

    The parameters of :data:`_FROM_PARAMS` take values from :data:`anyllm.params.PARAMS` (a
    null stays null); ``max_output_tokens`` is always set and at most ``max_tokens`` (smaller
    generated values are kept, so they shrink); ``stream`` is drawn on its own, true for about
    half of them: left to the schema it would be one optional member among 25 (about 3 bodies
    in 100 would stream), while what the spec says about streams is most of what a server can
    get wrong."""
    from hypothesis import strategies as st

    from anyllm.testing.strategies import create_response_bodies, parameter_values

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out = {k: v for k, v in draw(create_response_bodies(model=model)).items() if k != "stream"}
        for name in _FROM_PARAMS:
            if out.get(name) is not None:
                out[name] = draw(parameter_values(name))
        tokens = out.get("max_output_tokens")
        usable = isinstance(tokens, int) and not isinstance(tokens, bool)
        out["max_output_tokens"] = min(tokens, max_tokens) if usable else max_tokens  # type: ignore[type-var]
        if draw(st.booleans()):
            out["stream"] = True
        return out

    return build()


def send_body(client: ConformanceClient, body: dict[str, Any], cassette: Any) -> Outcome:
    """Send one generated body through the conformance client (which judges the reply) and
    say how it ended. A 5xx is a violation of :data:`SERVER_ERROR_RULE`; any other failure
    the verdict must count is raised: an untyped exception, a typed one after a request went
    out other than a 4xx (a broken stream, a timeout, a reply the library cannot read).
    ``cassette`` tells whether anything went out: a typed error with nothing sent is the
    library refusing the body (its own tests check that the refusal names the field)."""
    input_data = body["input"]
    params = {k: v for k, v in body.items() if k not in ("model", "input", "stream")}
    try:
        if body.get("stream") is True:
            result = client.stream(input_data, **params)
            if result.error is not None:
                raise result.error
        else:
            client.create(input_data, **params)
    except AnyLLMError as exc:
        if not cassette.used_interactions():
            return Outcome("client", f"{type(exc).__name__}({exc.param or ''})")
        status = exc.status_code
        if status is not None and 400 <= status < 500:
            return Outcome("server", f"HTTP {status}")
        if status is not None and status >= 500:  # a crash, not a refusal: its own rule
            said = " ".join(str(exc).split())[:200]  # one line: the matrix's fix-first list shows it
            message = f"HTTP {status} for a request valid against CreateResponseBody: {said}"
            client.validator.expect(False, SERVER_ERROR_RULE, message)
            return Outcome("server", f"HTTP {status}")
        raise
    return Outcome("answered")


def finding_block(path: Path) -> dict[str, Any] | None:
    """The ``fuzz`` metadata of a saved finding (its body, the rules it broke), or None."""
    block = load_provenance(path).get("fuzz")
    if isinstance(block, dict) and isinstance(block.get("body"), dict):
        return block
    return None


class _Hit(Exception):
    """Raised for a body breaking the rule one shrink run is after (not an error: a hit)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("the failure being shrunk")
        self.body = body


class _Fuzzer:
    """Sends each distinct body once, records its exchange, judges it."""

    def __init__(
        self,
        target: Target,
        run: ColumnRun,
        workdir: Path,
        provenance: dict[str, Any],
        bounds: RecordBounds,
        stop_at: float,
    ) -> None:
        self.target, self.run, self.workdir = target, run, workdir
        self.provenance, self.bounds, self.stop_at = provenance, bounds, stop_at
        self.cache: dict[str, Outcome] = {}
        self.first: dict[str, dict[str, Any]] = {}  # rule -> the first body that broke it
        self.bodies: dict[str, dict[str, Any]] = {}  # id -> body, of every body sent
        self.secrets = tuple(s for s in (target.api_key, *url_secrets(target.api_base)) if s)

    def outcome(self, body: dict[str, Any]) -> Outcome | None:
        """The outcome of ``body``: sent once (before ``stop_at``), then from the cache;
        None for a body drawn past the deadline (it counts as passing)."""
        self.run.examples += 1
        case_id = finding_id(body)
        outcome = self.cache.get(case_id)
        if outcome is None:
            if time.monotonic() > self.stop_at:
                self.run.late += 1
                return None
            outcome = self.cache[case_id] = self.send(case_id, body)
            self.bodies[case_id] = body
            for rule in outcome.rules:
                self.first.setdefault(rule, body)
        return outcome

    def smallest(self, rule: str) -> dict[str, Any]:
        """The shortest body sent (as JSON) that broke ``rule``."""
        bodies = [self.bodies[i] for i, outcome in self.cache.items() if rule in outcome.rules]
        return min(bodies, key=lambda body: (len(json.dumps(body, ensure_ascii=False)), finding_id(body)))

    def send(self, case_id: str, body: dict[str, Any]) -> Outcome:
        from anyllm.testing.plugin.verdicts import rule_for, wire_exchanges

        self.run.judged += 1
        validator = CaseValidator(self.target.profile, case_id)
        validator.wire_judged = self.target.metadata.protocol in NATIVE_PROTOCOLS
        client = ConformanceClient(self.target, validator)
        path = self.workdir / f"{case_id}.yaml"
        block = {"body": body, "found_by": "pytest --fuzz-live", "seed": self.run.seed}
        settings = CassetteSettings(
            record_mode="rewrite",
            provenance={**self.provenance, "case": case_id, "fuzz": block},
            extra_secrets=self.secrets,
            bounds=self.bounds,
        )
        raised: BaseException | None = None
        outcome = Outcome("answered")
        found: list[Any] = []  # the validator's errors
        rules: set[str] = set()
        try:
            with use_cassette(path, settings) as cassette:
                try:
                    outcome = send_body(client, body, cassette)
                except Exception as exc:  # the verdict's rule for it (CASE-ERROR, HARNESS-ERROR, ...)
                    raised = exc
                if validator.wire_judged:
                    validator.check_wire(wire_exchanges(cassette))
                raised = raised or cassette.failure
                found = list(validator.errors())
                rules = {v.rule for v in found} | ({rule_for(raised)} if raised is not None else set())
                if rules:  # the saved cassette says what it shows
                    stamp = {**block, "rules": sorted(rules)}
                    cassette.provenance = {**cassette.provenance, "fuzz": stamp}
                    cassette._metadata = {**cassette._metadata, "fuzz": stamp}
        except (SecretLeakError, RecordingLimitError) as exc:  # refused to write: no cassette
            raised = raised or exc
            rules.add(rule_for(exc))
        messages = _messages(found, raised)
        kept = path if path.is_file() and rules else None
        if outcome.kind == "answered":
            self.run.answered += 1
        elif outcome.kind == "client":
            self.run.client_refused[outcome.detail] += 1
        else:
            self.run.server_refused[outcome.detail] += 1
        if rules:
            self.run.failing += 1
            self.run.rule_counts.update(rules)
        return Outcome(outcome.kind, outcome.detail, tuple(sorted(rules)), tuple(messages), kept)


def _messages(found: list[Any], raised: BaseException | None) -> tuple[str, ...]:
    """What went wrong, short: the exception that ended the exchange, then the first
    violation of each rule."""
    out = [f"{type(raised).__name__}: {str(raised)[:300]}"] if raised is not None else []
    seen: set[str] = set()
    for violation in found:
        if violation.rule not in seen and len(seen) < _MESSAGES:
            seen.add(violation.rule)
            out.append(str(violation)[:500])
    return tuple(out)


def _settings(options: LiveFuzzOptions, **changes: Any) -> HypothesisSettings:
    """Hypothesis settings of a live run: the active profile's, bounded, quiet, no database
    (a live server's answers are this session's), no health check (a request takes a while)."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    from anyllm.testing.fuzz_plugin import fuzz_settings

    return settings(
        fuzz_settings(),
        max_examples=options.examples,
        deadline=None,
        database=None,
        derandomize=False,  # the explicit seed decides (see _explore)
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
        **changes,
    )


def _explore(fuzzer: _Fuzzer, strategy: Any, options: LiveFuzzOptions, seed: int) -> None:
    """Generation: ``options.examples`` bodies, every outcome cached, nothing raised, so
    Hypothesis never cuts generation short after a first failure."""
    from hypothesis import given
    from hypothesis import seed as seeded

    @seeded(seed)
    @_settings(options)
    @given(body=strategy)
    def explore(body: dict[str, Any]) -> None:
        fuzzer.outcome(body)

    explore()


def _shrink(
    fuzzer: _Fuzzer, strategy: Any, options: LiveFuzzOptions, seed: int, rule: str
) -> dict[str, Any] | None:
    """The smallest body Hypothesis finds that breaks ``rule``. With the seed of the
    generation run it first retraces that run from the cache (no request) up to the first
    such body, then shrinks it, sending only the candidates it has not seen. None when the
    retrace never meets one (a rule first broken by a candidate of another shrink)."""
    from hypothesis import given
    from hypothesis import seed as seeded

    @seeded(seed)
    @_settings(options, report_multiple_bugs=False)
    @given(body=strategy)
    def shrink(body: dict[str, Any]) -> None:
        outcome = fuzzer.outcome(body)
        if outcome is not None and rule in outcome.rules:
            raise _Hit(body)

    try:
        shrink()
    except _Hit as hit:
        return hit.body
    return None


def _kept(directory: Path) -> dict[str, str]:
    """Rule -> the column's saved finding (case id) whose metadata lists it."""
    out: dict[str, str] = {}
    for path in sorted(directory.glob(f"{FINDING_PREFIX}*.yaml")):
        block = finding_block(path) or {}
        for rule in block.get("rules") or []:
            out.setdefault(str(rule), path.stem)
    return out


def _explained(baseline: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Rule -> the first baseline entry (case id) listing it."""
    out: dict[str, str] = {}
    for case_id, entry in sorted(baseline.items()):
        for rule in entry["rules"]:
            out.setdefault(rule, case_id)
    return out


def _save(source: Path, destination: Path) -> None:
    """Copy a recorded cassette into place atomically (temporary file + ``os.replace``)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _seed(column: str) -> int:
    """Fixed per column when the active profile is derandomized (``ci``), else random."""
    import random
    import zlib

    from anyllm.testing.fuzz_plugin import fuzz_settings

    return zlib.crc32(column.encode()) if fuzz_settings().derandomize else random.getrandbits(32)


def fuzz_column(
    settings: AnyllmSettings,
    target: Target,
    column: str,
    provenance: dict[str, Any],
    options: LiveFuzzOptions,
    workdir: Path,
) -> ColumnRun:
    """Fuzz one column live; then, for each rule broken that no entry of the column's baseline
    lists, shrink to the smallest body breaking it and save that exchange as
    ``fuzz-<id>.yaml`` in the column's cassette directory.

    A rule a saved fuzz cassette of the column already shows is not shrunk nor saved again
    (it stays new until its baseline entry is written). Generation may use
    :data:`GENERATION_SHARE` of the deadline, shrinking the rest; a rule the deadline leaves
    unshrunk is reported (and saved) with the smallest body that broke it."""
    from anyllm.testing.plugin.baselines import load_baseline

    run = ColumnRun(column, seed=_seed(column))
    started = time.monotonic()
    bounds = RecordBounds(settings.bounds.max_bytes, min(settings.bounds.max_seconds, options.deadline))
    stop_generating = started + options.deadline * GENERATION_SHARE
    fuzzer = _Fuzzer(target, run, workdir, provenance, bounds, stop_generating)
    strategy = live_bodies(target.model, options.max_tokens)
    directory = settings.cassette_dir / column
    kept = _kept(directory)
    explained = _explained(load_baseline(settings.baseline_dir, column))
    shrunk: dict[str, dict[str, Any] | None] = {}
    try:
        _explore(fuzzer, strategy, options, run.seed)
        fuzzer.stop_at = started + options.deadline
        while time.monotonic() < fuzzer.stop_at:  # rules first broken while shrinking join the queue
            todo = [r for r in fuzzer.first if r not in shrunk and r not in kept and r not in explained]
            if not todo:
                break
            shrunk[todo[0]] = _shrink(fuzzer, strategy, options, run.seed, todo[0])
    finally:
        run.seconds = time.monotonic() - started
    findings: dict[str, Finding] = {}
    for rule in sorted(fuzzer.first):
        body = shrunk.get(rule) or fuzzer.smallest(rule)
        outcome = fuzzer.cache[finding_id(body)]
        found = findings.setdefault(
            finding_id(body), Finding(finding_id(body), body, outcome.rules, outcome.messages)
        )
        found.for_rules += (rule,)
        found.shrunk = found.shrunk or shrunk.get(rule) is not None
        if rule in explained:
            found.explained[rule] = explained[rule]
        if rule in kept:
            found.kept[rule] = kept[rule]
    for found in findings.values():
        if any(r not in found.explained and r not in found.kept for r in found.for_rules):
            cassette = fuzzer.cache[found.id].cassette
            if cassette is None:
                found.problem = "its exchange could not be recorded (see the messages)"
            else:
                found.saved = directory / f"{found.id}.yaml"
                _save(cassette, found.saved)
        run.findings.append(found)
    return run
