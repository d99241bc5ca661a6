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

__all__ = ["ENV_PROFILE", "FUZZ_MARK", "PROFILES", "fuzz_settings", "register_profiles"]

ENV_PROFILE = "ANYLLM_HYPOTHESIS_PROFILE"
FUZZ_MARK = "anyllm_fuzz"
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("anyllm", "anyllm conformance harness")
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
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is a test extra
        if config.getoption("anyllm_fuzz", False):
            raise pytest.UsageError("--fuzz needs hypothesis: pip install 'anyllm[test]'") from None
        return
    register_profiles()
    chosen = os.environ.get(ENV_PROFILE, "").strip()
    if chosen and not config.getoption("--hypothesis-profile", None):
        if chosen not in PROFILES:
            raise pytest.UsageError(f"${ENV_PROFILE}={chosen!r}: choose one of {', '.join(PROFILES)}")
        settings.load_profile(chosen)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("anyllm_fuzz", False):
        return
    skip = pytest.mark.skip(reason="fuzzing is off: pass --fuzz (with --provider=X) to run it")
    for item in items:
        if item.get_closest_marker(FUZZ_MARK) is not None:
            item.add_marker(skip)
