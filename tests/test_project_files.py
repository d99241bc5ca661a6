"""The project's own set-up and CI files say what they do (issue 11, items 5 and 6).

These read the checked-in files as data: the workflow, the set-up script and pyproject.
Each check names a way the files went wrong before: an extra that did not exist (pip only
warns and goes on), record jobs for 8 of 21 providers, a license table that warns on every
install, and a main job that compiled llama.cpp before replaying anything.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from anyllm.providers.registry import list_providers, provider_metadata

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _extras() -> set[str]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return set(project["optional-dependencies"])


def test_every_extra_the_scripts_and_workflow_install_exists() -> None:
    used: set[str] = set()
    for path in [WORKFLOW, *sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci" / "run"]:
        used |= set(re.findall(r"\.\[([a-z0-9_-]+)\]", path.read_text()))
    assert used, "no extra found: the pattern no longer matches how extras are installed"
    assert used <= _extras(), f"extras installed but not defined in pyproject.toml: {used - _extras()}"


def test_every_provider_with_a_key_variable_has_a_record_plan_line() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    plan = workflow["jobs"]["plan"]["steps"][0]["env"]["KEYS"]
    planned = {line.split("=", 1)[0] for line in plan.splitlines() if line.strip()}
    keyed = {name for name in list_providers() if provider_metadata(name).key_required}
    assert keyed, "the registry lists no provider that needs a key"
    assert keyed <= planned, f"providers with a key variable but no record job: {sorted(keyed - planned)}"
    for name in keyed:
        variable = provider_metadata(name).api_key_env
        assert f"{name}={variable}=" in plan, f"{name}'s plan line does not test its secret {variable}"


def test_a_missing_secret_is_announced_not_recorded_green() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    script = workflow["jobs"]["plan"]["steps"][0]["run"]
    assert "::warning" in script and "not recorded" in script
    record = workflow["jobs"]["record"]
    assert "needs.plan.outputs.record" in str(record["strategy"]["matrix"]["provider"])


def test_push_runs_what_ci_runs() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["check"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)


def test_license_is_an_spdx_string_so_installs_do_not_warn() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert isinstance(project["license"], str)


def test_the_replay_level_installs_no_compiled_provider() -> None:
    script = (ROOT / "scripts" / "setup.sh").read_text()
    replay_branch = script[script.index('if [ "$LEVEL" = replay ]') :]
    replay_branch = replay_branch[: replay_branch.index("fi\n")]
    assert "exit 0" in replay_branch
    assert "cmake" not in replay_branch and "llama" not in replay_branch
    conformance = (ROOT / "scripts" / "conformance.sh").read_text()
    assert "setup.sh replay" in conformance


def test_setup_refuses_an_unknown_level() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "everything"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
    )
    assert result.returncode == 2
    assert "usage: scripts/setup.sh [replay|live" in result.stderr
