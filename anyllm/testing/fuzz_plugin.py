"""Fuzzing options for the anyllm pytest plugin: ``--fuzz`` and the Hypothesis profiles.

Profiles (``--hypothesis-profile NAME``, Hypothesis's own option, or the environment
variable ``ANYLLM_HYPOTHESIS_PROFILE``):

``ci``
    fast and derandomized: the same examples on every run (Hypothesis then keeps no
    database, so a failure found elsewhere is kept as an explicit ``@example``);
``dev``
    random, more examples, failures kept in ``.hypothesis/`` and replayed first;
``nightly``
    long runs.

Live fuzzing (``--fuzz-live[=N]``, :mod:`anyllm.testing.fuzz_live`): for each column with
live access, N generated requests (default 20) sent and judged, failures shrunk and saved as
``cassettes/<column>/fuzz-<id>.yaml``, within ``--fuzz-live-deadline`` seconds per column
(default 60). The saved findings are conformance cases of their column (``anyllm_fuzz_finding``,
parametrized here from the cassette files), replayed like every case.

Why a separate module: the main plugin owns the conformance options; this one only adds
fuzzing. It does not change Hypothesis's global default for other people's tests: the
anyllm property tests take their settings from :func:`fuzz_settings`, which follows an
explicitly chosen anyllm profile and falls back to ``ci``. Hypothesis is imported only
when pytest configures, never by importing the module.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hypothesis import settings as Settings

__all__ = [
    "ENV_PROFILE",
    "FINDING_FIXTURE",
    "FUZZ_LIVE_MARK",
    "FUZZ_MARK",
    "LIVE_RUNS_KEY",
    "PROFILES",
    "fuzz_settings",
    "live_fuzz_options",
    "register_profiles",
]

ENV_PROFILE = "ANYLLM_HYPOTHESIS_PROFILE"
FUZZ_MARK = "anyllm_fuzz"
FUZZ_LIVE_MARK = "anyllm_fuzz_live"
# The argument of the replay case of saved live-fuzz findings: parametrized here, together
# with anyllm_provider, from cassettes/<column>/fuzz-*.yaml (the main plugin leaves it alone).
FINDING_FIXTURE = "anyllm_fuzz_finding"
LIVE_RUNS_KEY = pytest.StashKey[list[Any]]()  # the ColumnRun of each column fuzzed live
PROFILES = ("ci", "dev", "nightly")
DEFAULT_PROFILE = "ci"


def register_profiles() -> None:
    """Register ``ci``, ``dev`` and ``nightly`` (idempotent; replaces Hypothesis's own ``ci``)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    slow = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
    settings.register_profile(
        "ci",
        max_examples=100,
        derandomize=True,
        deadline=None,
        print_blob=True,
        suppress_health_check=slow,
    )
    database = DirectoryBasedExampleDatabase(os.path.join(".hypothesis", "examples"))
    settings.register_profile(
        "dev", max_examples=150, deadline=None, database=database, suppress_health_check=slow
    )
    settings.register_profile(
        "nightly",
        max_examples=3000,
        deadline=None,
        database=database,
        suppress_health_check=[*slow, HealthCheck.data_too_large],
    )


def _active_profile() -> str:
    from hypothesis import settings

    current = settings.get_current_profile_name()
    if current in PROFILES:
        return str(current)
    chosen = os.environ.get(ENV_PROFILE, "").strip()
    return chosen if chosen in PROFILES else DEFAULT_PROFILE


def fuzz_settings(**overrides: Any) -> Settings:
    """Settings for one anyllm property test: the active anyllm profile, plus ``overrides``.

    ``max_examples`` in ``overrides`` is a *fraction* of the profile's when given as a float
    (``max_examples=0.5``), so expensive properties scale with the profile.
    """
    from hypothesis import settings

    register_profiles()
    parent = settings.get_profile(_active_profile())
    scale = overrides.pop("max_examples", None)
    if isinstance(scale, float):
        overrides["max_examples"] = max(3, int(parent.max_examples * scale))
    elif isinstance(scale, int):
        overrides["max_examples"] = scale
    return settings(parent, **overrides)


def _examples(value: str) -> int:
    """``--fuzz-live=N``: a positive number of examples (argparse reports the error)."""
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of examples (write --fuzz-live=N, or put paths before --fuzz-live)"
        ) from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} examples: give at least 1")
    return number


def _seconds(value: str) -> float:
    import argparse
    import math

    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{value}: give a positive number of seconds")
    return number


def pytest_addoption(parser: pytest.Parser) -> None:
    from anyllm.testing.fuzz_live import DEFAULT_DEADLINE, DEFAULT_EXAMPLES

    group = parser.getgroup("anyllm", "anyllm conformance harness")
    group.addoption(
        "--fuzz-live",
        nargs="?",
        const=DEFAULT_EXAMPLES,
        default=None,
        type=_examples,
        dest="anyllm_fuzz_live",
        metavar="N",
        help="fuzz each --target/--provider column with live access: N generated requests "
        f"(default {DEFAULT_EXAMPLES}) sent and judged, failures shrunk and saved as "
        "cassettes/<column>/fuzz-<id>.yaml (conformance/test_fuzz_live.py)",
    )
    group.addoption(
        "--fuzz-live-deadline",
        default=DEFAULT_DEADLINE,
        type=_seconds,
        dest="anyllm_fuzz_live_deadline",
        metavar="SECONDS",
        help="wall-clock bound of --fuzz-live per column, generation and shrinking together "
        f"(default {DEFAULT_DEADLINE:g})",
    )
    group.addoption(
        "--fuzz",
        action="store_true",
        dest="anyllm_fuzz",
        default=False,
        help="run the property-based fuzz suite (conformance/test_fuzz.py) against --provider; "
        f"choose its size with --hypothesis-profile {'|'.join(PROFILES)} or ${ENV_PROFILE}",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Profiles exist before Hypothesis's own plugin loads ``--hypothesis-profile``."""
    config.addinivalue_line(
        "markers", f"{FUZZ_MARK}: a property-based fuzz test of the anyllm suite (runs with --fuzz)"
    )
    config.addinivalue_line(
        "markers", f"{FUZZ_LIVE_MARK}: the live fuzz run of a column (runs with --fuzz-live)"
    )
    config.stash[LIVE_RUNS_KEY] = []
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is a test extra
        if config.getoption("anyllm_fuzz", False) or config.getoption("anyllm_fuzz_live", None):
            raise pytest.UsageError("--fuzz needs hypothesis: pip install 'anyllm[test]'") from None
        return
    register_profiles()
    chosen = os.environ.get(ENV_PROFILE, "").strip()
    if chosen and not config.getoption("--hypothesis-profile", None):
        if chosen not in PROFILES:
            raise pytest.UsageError(f"${ENV_PROFILE}={chosen!r}: choose one of {', '.join(PROFILES)}")
        settings.load_profile(chosen)


def live_fuzz_options(config: pytest.Config) -> Any:
    """The :class:`~anyllm.testing.fuzz_live.LiveFuzzOptions` of ``--fuzz-live``, or None (off)."""
    from anyllm.testing.fuzz_live import LiveFuzzOptions

    examples = config.getoption("anyllm_fuzz_live", None)
    if not examples:
        return None
    deadline = float(config.getoption("anyllm_fuzz_live_deadline"))
    return LiveFuzzOptions(examples=int(examples), deadline=deadline)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The replay case of saved findings: one item per ``fuzz-*.yaml`` of each column, its
    case id the file's name (so its verdict, baseline entry and report row are its own)."""
    if FINDING_FIXTURE not in metafunc.fixturenames:
        return
    from anyllm.testing.fuzz_live import FINDING_PREFIX
    from anyllm.testing.plugin.options import SETTINGS_KEY

    settings = metafunc.config.stash[SETTINGS_KEY]
    params = [
        pytest.param(
            column,
            path.stem,
            id=f"{column}-{path.stem}",
            marks=pytest.mark.anyllm_case(path.stem, feature="live fuzz finding"),
        )
        for column in settings.providers
        for path in sorted((settings.cassette_dir / column).glob(f"{FINDING_PREFIX}*.yaml"))
    ]
    metafunc.parametrize(("anyllm_provider", FINDING_FIXTURE), params, indirect=["anyllm_provider"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # No saved finding in the columns run: the replay case has nothing to replay.
    empty = [item for item in items if _empty_findings(item)]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]
    if not config.getoption("anyllm_fuzz_live", None):
        skip = pytest.mark.skip(
            reason="live fuzzing is off: pass --fuzz-live[=N] (with --target/--provider) to run it"
        )
        for item in items:
            if item.get_closest_marker(FUZZ_LIVE_MARK) is not None:
                item.add_marker(skip)
    if config.getoption("anyllm_fuzz", False):
        return
    skip = pytest.mark.skip(reason="fuzzing is off: pass --fuzz (with --provider=X) to run it")
    for item in items:
        if item.get_closest_marker(FUZZ_MARK) is not None:
            item.add_marker(skip)


def _empty_findings(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if FINDING_FIXTURE not in getattr(item, "fixturenames", ()) or callspec is None:
        return False
    return not isinstance(callspec.params.get(FINDING_FIXTURE), str)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """What each column's live fuzz run did: requests, outcomes, and the shrunk failures."""
    runs = config.stash.get(LIVE_RUNS_KEY, [])
    if not runs:
        return
    from anyllm.testing.fuzz_live_session import summary_lines

    terminalreporter.section("anyllm live fuzz")
    verbose = int(config.getoption("verbose", 0) or 0)
    for run in runs:
        for text, markup in summary_lines(run, config.rootpath, verbose=verbose):
            terminalreporter.write_line(text, **markup)
