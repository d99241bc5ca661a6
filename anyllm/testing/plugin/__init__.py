"""The anyllm pytest plugin: providers, cassettes, verdicts and the compliance matrix.

Registered through the ``pytest11`` entry point, so it is loaded in every pytest run of an
environment where anyllm is installed; it stays inert until a test asks for one of its
fixtures (``anyllm_provider``, ``anyllm_client``, ``conformance_validator``,
``vcr_cassette``). Replay is the default and blocks the network; ``--record`` records.

Verdicts (one per provider x case): passed, failed (with rule ids, possibly covered by the
provider's reviewed baseline), unsupported (the provider's declared capabilities exclude the
feature, or the library refuses a parameter the provider cannot express) and not recorded
(no cassette and no live access). Unsupported and not-recorded cases are pytest skips whose
reason says so, reported under their own status (:mod:`.outcome`), and every verdict is in
the matrix and the report: never a silent skip.

For native Responses providers (protocol ``openresponses`` or ``openai``) the case's
exchanges are judged on the wire as well, after the test body ran and before the verdict:
every request body and every reply (JSON or raw SSE, with its status and Content-Type) the
case played or recorded, including what the library refused to type.

Cassettes are untrusted input: one that cannot be read fails its case with CASSETTE-CORRUPT,
one holding the value of a live key with CASSETTE-SECRET (naming the file and the variable),
and neither is changed (only ``--record-mode=rewrite`` replaces a file). From session start,
log records are scrubbed of key values and ``key=`` query values (:mod:`anyllm.testing.log_scrub`).

This package is the module pytest registers (entry point ``anyllm.testing.plugin``): the
hook functions and fixtures below are its attributes, defined in :mod:`.hooks` (the
hooks), :mod:`.front_door` (what ``pytest --provider=X`` collects), :mod:`.outcome` (what
the run prints first and last, its verdict statuses and exit status), :mod:`.options`
(options and settings), :mod:`.fixtures`, :mod:`.verdicts`, :mod:`.baselines`,
:mod:`.live` (where a case can record) and :mod:`.session`.
"""

from __future__ import annotations

from anyllm.testing.plugin.baselines import load_baseline
from anyllm.testing.plugin.fixtures import (
    anyllm_case,
    anyllm_client,
    anyllm_provider,
    anyllm_registry_provider,
    conformance_validator,
    vcr_cassette,
)
from anyllm.testing.plugin.hooks import (
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
    pytest_runtest_makereport,
    pytest_sessionstart,
    pytest_terminal_summary,
    pytest_unconfigure,
)
from anyllm.testing.plugin.options import SETTINGS_KEY, AnyllmSettings
from anyllm.testing.plugin.outcome import (
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_report_collectionfinish,
    pytest_report_header,
    pytest_report_teststatus,
    pytest_sessionfinish,
)
from anyllm.testing.plugin.verdicts import CaseContext

__all__ = [
    "SETTINGS_KEY",
    "AnyllmSettings",
    "CaseContext",
    "anyllm_case",
    "anyllm_client",
    "anyllm_provider",
    "anyllm_registry_provider",
    "conformance_validator",
    "load_baseline",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_collectionfinish",
    "pytest_report_header",
    "pytest_report_teststatus",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "vcr_cassette",
]
pytest_plugins = ["anyllm.testing.fuzz_plugin"]  # --fuzz and the Hypothesis profiles
