"""What ``pytest --provider=X`` runs: the packaged conformance suites, wherever pytest is started.

The suites ship with the distribution (the ``conformance`` package), so a provider author's
repository has no ``conformance/`` directory, and the project's own root points ``testpaths``
at its unit tests. When ``--provider``, ``--record`` or ``--record-mode`` is on the command
line and no path is, the run collects the packaged suites instead of ``testpaths`` or the
current directory (pytest does the same for any path given as an argument). An explicit
path wins: ``pytest my_cases.py --provider=X`` runs those cases, and ``--pyargs conformance``
adds the packaged suites to other paths.

Those options only mean something to conformance cases (tests that take the
``anyllm_provider`` fixture). A run given them that collects none ends with a usage error
saying so, instead of running something else and ignoring the options without a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = [
    "SUITES_KEY",
    "check_cases_collected",
    "count_cases",
    "harness_options_given",
    "is_conformance_item",
    "packaged_suites",
    "use_packaged_suites",
]

SUITES_KEY = pytest.StashKey[Path]()  # set when the run collects the packaged suites
_CASES_BEFORE_KEY = pytest.StashKey[int]()  # conformance items before -k/-m deselection


def harness_options_given(config: pytest.Config) -> list[str]:
    """The front-door options given on the command line (ini values do not count: an ini
    file configures runs of whatever paths it names)."""
    given = []
    if config.getoption("anyllm_providers", default=None):
        given.append("--provider")
    if config.getoption("anyllm_targets", default=None):
        given.append("--target")
    if config.getoption("anyllm_record", default=False):
        given.append("--record")
    if config.getoption("anyllm_record_mode", default=None):
        given.append("--record-mode")
    return given


def packaged_suites() -> Path:
    """The directory of the installed ``conformance`` package."""
    import conformance

    return Path(conformance.__file__).resolve().parent


def _distributing(config: pytest.Config) -> bool:
    """An xdist controller (collects nothing itself) or worker (gets its paths from the controller)."""
    return hasattr(config, "workerinput") or config.pluginmanager.hasplugin("dsession")


def use_packaged_suites(config: pytest.Config) -> None:
    """No path on the command line, a front-door option given: collect the packaged suites.
    xdist workers parse the same command line and decide the same way."""
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    if not harness_options_given(config):
        return
    suites = packaged_suites()
    config.args = [str(suites)]
    config.args_source = pytest.Config.ArgsSource.ARGS
    config.stash[SUITES_KEY] = suites


def is_conformance_item(item: pytest.Item) -> bool:
    return "anyllm_provider" in getattr(item, "fixturenames", ())


def count_cases(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember how many conformance cases were collected before -k/-m deselected any."""
    config.stash[_CASES_BEFORE_KEY] = sum(1 for item in items if is_conformance_item(item))


def check_cases_collected(session: pytest.Session) -> None:
    """A usage error when the front-door options were given and no conformance case runs."""
    config = session.config
    given = harness_options_given(config)
    if not given or _distributing(config) or any(is_conformance_item(item) for item in session.items):
        return
    if session.testsfailed:  # collection errors: pytest reports them (a broken suite is no usage error)
        return
    before = config.stash.get(_CASES_BEFORE_KEY, 0)
    where = " ".join(str(arg) for arg in config.args)
    if before:
        why = f"-k/-m deselected all {before} conformance cases collected from {where}"
    else:
        why = f"no conformance case was collected from {where}"
    raise pytest.UsageError(
        f"anyllm: {'/'.join(given)} given, but {why}. These options apply to conformance cases "
        "(tests that take the anyllm_provider fixture). Run `pytest --provider=NAME` with no path "
        "for the packaged suites, or add `--pyargs conformance` next to your own paths."
    )
