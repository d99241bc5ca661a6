"""Named targets (issue 15): a column is an implementation, started by the harness itself.

The target file is parsed and checked before anything runs (bad files are usage errors
naming the field); a target is started from its own command (a real process on loopback,
tests/helpers/target_server.py), recorded into ``cassettes/<target>/`` with its provenance
and its per-session key scrubbed, judged against its own baseline, replayed without it, and
stopped with its whole process group. A target that cannot start is "not recorded", naming
why (its log's tail when it died).
"""

from __future__ import annotations

import json
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from anyllm.testing.targets import TargetError, column_metadata, load_targets
from anyllm.testing.validate import validate_response, validate_stream
from tests.helpers import target_server
from tests.test_plugin import report_results, run

pytest_plugins = ["pytester"]

SERVER = Path(target_server.__file__).resolve()

SUITE = """
from anyllm.testing.cases import case


@case("target-basic", official="basic-response")
def test_basic(anyllm_client, conformance_validator):
    r = anyllm_client.create("Say hello", max_output_tokens=16)
    conformance_validator.expect(r["status"] == "completed", "CASE-STATUS", "completed")


@case("target-stream", requires=("streaming",))
def test_stream(anyllm_client, conformance_validator):
    s = anyllm_client.stream("Say hi", max_output_tokens=16)
    conformance_validator.expect(s.terminal == "response.completed", "CASE-TERMINAL", "completed")


@case("target-known")
def test_known(anyllm_client, conformance_validator):
    r = anyllm_client.create("Say bye", max_output_tokens=16)
    conformance_validator.expect(r["output"] == [], "CASE-EMPTY", "an empty output, which no server sends")
"""


def targets_yaml(pidfile: Path, *, command: list[str] | None = None, streaming: bool = True) -> str:
    start = {
        "command": command or ["{python}", str(SERVER), "{port}", str(pidfile)],
        "ready": "http://127.0.0.1:{port}/ready",
        "timeout": 60,
        "env": {"TARGET_KEY": "{secret}"},
    }
    doc = {
        "version": 1,
        "targets": {
            "fake-responses": {
                "provider": "openresponses",
                "title": "a spec-shaped loopback server (tests/helpers/target_server.py)",
                "start": start,
                "api_base": "http://127.0.0.1:{port}/v1",
                "api_key": "{secret}",
                "model": "fake-model",
                "capabilities": {"streaming": streaming},
                "provenance": {"package": "pytest"},
            }
        },
    }
    return yaml.safe_dump(doc)


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def setup_dir(pytester: pytest.Pytester, **kw: object) -> Path:
    pidfile = pytester.path / "child.pid"
    pytester.makefile(".yaml", targets=targets_yaml(pidfile, **kw))  # type: ignore[arg-type]
    pytester.makepyfile(test_suite=SUITE)
    baselines = pytester.path / "conformance" / "baselines"
    baselines.mkdir(parents=True)
    (baselines / "fake-responses.yaml").write_text(
        "cases:\n  target-known:\n    rules: [CASE-EMPTY]\n"
        "    reason: the server answers one message (see the cassette)\n"
    )
    return pidfile


def test_the_helper_server_speaks_the_spec():
    body = {"model": "m", "input": "hi"}
    assert [v for v in validate_response(target_server.response(body)) if v.severity == "error"] == []
    assert [v for v in validate_stream(target_server.stream(body)) if v.severity == "error"] == []


def test_the_shipped_target_file_names_six_columns_over_one_model():
    shipped = load_targets()
    assert list(shipped.targets) == [
        "llamacpp",
        "llama-server-responses",
        "litellm-responses",
        "litellm-messages",
        "open-responses-server",
        "llama-cpp-python-chat",
    ]
    # llama-cpp-python's server loads the same GGUF itself; every other column runs over llama-server.
    backends = {name: s.backend for name, s in shipped.targets.items()}
    assert backends.pop("llama-cpp-python-chat") is None
    assert set(backends.values()) == {"llama-server"}
    assert shipped.backends["llama-server"].kind == "llama-server"
    providers = {name: spec.provider for name, spec in shipped.targets.items()}
    assert providers == {
        "llamacpp": "llamacpp",
        "llama-server-responses": "openresponses",
        "litellm-responses": "openresponses",
        "litellm-messages": "anthropic",
        "open-responses-server": "openresponses",
        "llama-cpp-python-chat": "llamacpp",
    }
    # The Anthropic column is named and titled so that no one takes it for Anthropic's API.
    assert "not Anthropic's API" in shipped.targets["litellm-messages"].title
    # LiteLLM bridges /v1/responses to a chat backend only when told to.
    config = shipped.targets["litellm-responses"].start.files["config.yaml"]  # type: ignore[union-attr]
    assert "use_chat_completions_api: true" in config and "master_key" in config
    # A SmolLM2 server declares no reasoning: those cases are unsupported, not failed.
    native = column_metadata("llama-server-responses", shipped.targets)
    assert native.protocol == "openresponses" and not native.reasoning and not native.file_input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("provenance"), "provenance.package"),
        (lambda t: t.update(provider="nope"), "'nope' is not a registry provider"),
        (lambda t: t["start"].update(command=["{python}", "{nope}"]), "unknown placeholder {nope}"),
        (lambda t: t["start"].update(command=["{file:absent.yaml}"]), "names no entry of start.files"),
        (lambda t: t.update(capabilities={"telepathy": True}), "capabilities.telepathy"),
        (lambda t: t.update(backend="elsewhere"), "backend 'elsewhere' is not declared"),
        (lambda t: t["start"].pop("ready"), "'start.ready' must be a non-empty string"),
    ],
)
def test_a_bad_target_file_is_refused_naming_the_field(tmp_path, change, message):
    doc = yaml.safe_load(targets_yaml(tmp_path / "pid"))
    change(doc["targets"]["fake-responses"])
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(TargetError, match="fake-responses") as info:
        load_targets(path)
    assert message in str(info.value)


def test_a_target_is_started_recorded_with_provenance_and_replayed_as_its_own_column(pytester):
    pidfile = setup_dir(pytester)
    recorded = run(
        pytester, "--targets-file=targets.yaml", "--target=all", "--record", "--conformance-report=rep"
    )
    assert recorded.parseoutcomes() == {"passed": 2, "baselined": 1}  # the known deviation of its baseline
    assert gone(int(pidfile.read_text())), "the target's worker outlived the session"
    directory = pytester.path / "cassettes" / "fake-responses"
    assert sorted(p.name for p in directory.glob("*.yaml")) == [
        "target-basic.yaml",
        "target-known.yaml",
        "target-stream.yaml",
    ]
    text = (directory / "target-basic.yaml").read_text()
    meta = yaml.safe_load(text)["metadata"]
    assert meta["target"] == "fake-responses" and meta["provider"] == "openresponses"
    assert meta["implementation"] == {"package": "pytest", "version": version("pytest")}
    assert meta["model"] == "fake-model"
    assert "sk-anyllm-" not in text  # the per-session key went out, and is scrubbed
    rows = report_results(pytester.path / "rep.json")
    assert rows[("fake-responses", "target-basic")]["mode"] == "record"
    assert rows[("fake-responses", "target-known")]["baseline_reason"].startswith("the server answers")
    # Replay: nothing started, the network blocked; the same verdicts, in the target's column.
    replayed = run(
        pytester, "--targets-file=targets.yaml", "--target=fake-responses", "--conformance-report=rep2"
    )
    assert replayed.parseoutcomes() == {"passed": 2, "baselined": 1}
    rows = report_results(pytester.path / "rep2.json")
    assert {row["mode"] for row in rows.values()} == {"replay"}
    assert rows[("fake-responses", "target-basic")]["implementation"] == f"pytest {version('pytest')}"
    assert "fake-responses" in replayed.stdout.str()  # its matrix column


def test_declared_capabilities_decide_what_is_unsupported(pytester):
    setup_dir(pytester, streaming=False)
    result = run(
        pytester,
        "--targets-file=targets.yaml",
        "--target=fake-responses",
        "-k",
        "stream",
        "--conformance-report=r",
    )
    assert result.parseoutcomes()["unsupported"] == 1
    row = report_results(pytester.path / "r.json")[("fake-responses", "target-stream")]
    assert row["verdict"] == "unsupported" and row["reason"] == "fake-responses does not declare streaming"


def test_an_unknown_target_is_a_usage_error_naming_the_valid_ones(pytester):
    setup_dir(pytester)
    result = run(pytester, "--targets-file=targets.yaml", "--target=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--target 'nope' is not a target" in "\n".join(result.errlines)
    assert "valid: all, fake-responses" in "\n".join(result.errlines)


def test_a_target_whose_software_is_missing_is_not_recorded_and_the_run_fails(pytester):
    setup_dir(pytester, command=["{bin:anyllm-no-such-server}", "{port}"])
    result = run(
        pytester, "--targets-file=targets.yaml", "--target=fake-responses", "--record", "-k", "basic"
    )
    out = result.stdout.str()
    assert "anyllm-no-such-server is not installed" in out
    assert result.ret != 0  # asked to record, recorded nothing: never a green run


def test_a_target_that_dies_at_start_shows_its_log(pytester):
    setup_dir(pytester, command=["{python}", "-c", "import sys; print('no config, giving up'); sys.exit(3)"])
    result = run(
        pytester,
        "--targets-file=targets.yaml",
        "--target=fake-responses",
        "--record",
        "-k",
        "basic",
        "--conformance-report=rep",
    )
    assert result.ret != 0
    row = report_results(pytester.path / "rep.json")[("fake-responses", "target-basic")]
    assert row["verdict"] == "not_recorded"
    assert "exited with 3" in row["reason"] and "no config, giving up" in row["reason"]


def test_a_target_that_must_record_fails_instead(pytester, monkeypatch):
    setup_dir(pytester, command=["{bin:anyllm-no-such-server}"])
    monkeypatch.setenv("ANYLLM_REQUIRE_TARGETS", "1")
    result = run(
        pytester, "--targets-file=targets.yaml", "--target=fake-responses", "--record", "-k", "basic"
    )
    result.assert_outcomes(errors=1)
    assert "live fake-responses recording required but unavailable" in result.stdout.str()


def test_the_python_of_a_console_script_tells_its_package_version(tmp_path):
    from anyllm.testing.target_servers import package_version

    script = tmp_path / "tool"
    script.write_text(f"#!{sys.executable}\nprint('hi')\n")
    # Not installed here under that name, found through the script's interpreter instead.
    assert package_version("anyllm-not-a-package") is None
    assert package_version("pytest", script) == version("pytest")
    assert json.loads(json.dumps(package_version("pytest")))  # a plain string


ERROR_SUITE = """
from anyllm.testing.cases import case


@case("anthropic-error")
def test_error(anyllm_client, conformance_validator):
    exc = anyllm_client.expect_error("Say hi.", model="no-such-model", max_output_tokens=16)
    conformance_validator.expect(exc is not None and exc.status_code == 400, "CASE-ERROR-STATUS", "a 400")
"""


def test_an_anthropic_protocol_error_is_not_judged_as_a_responses_error_body(pytester, monkeypatch):
    """The litellm-messages column's first recording: a 400 in Anthropic's own error shape
    (LiteLLM's /v1/messages, as its cassette holds it) was judged against the spec's
    ErrorPayload and failed SCHEMA-ERROR for lacking code and param. The spec judges what a
    Responses server sends; a translated provider's error body is in its own protocol."""
    from tests.helpers.loopback import LoopbackServer, Reply

    anthropic_error = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid model name passed in model=no-such-model",
        },
    }
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-for-loopback")
    pytester.makepyfile(test_suite=ERROR_SUITE)
    with LoopbackServer(Reply.json(anthropic_error, status=400)) as server:
        result = run(
            pytester,
            "--provider=anthropic",
            f"--api-base=anthropic={server.url}/v1",
            "--record",
            "--conformance-report=rep",
        )
    result.assert_outcomes(passed=1)
    row = report_results(pytester.path / "rep.json")[("anthropic", "anthropic-error")]
    assert row["rules"] == [] and row["violation_count"] == 0
