"""``certify``, trustworthy for a server author (issue 15).

Each test runs the real ``anyllm-conformance certify`` (a child process running the packaged
suite) against a real HTTP server on 127.0.0.1:

* a spec-faithful one built from the spec's documented shapes (``tests.test_plugin``), where
  a certificate must come out conformant;
* one answering with what a real non-conformant server answered, byte for byte: the
  committed cassettes of open-responses-server 0.4.1 and of llama-server's native
  ``/v1/responses`` (:mod:`tests.helpers.cassette_server`);
* and, live, open-responses-server itself over llama.cpp's llama-server (``llamacpp`` mark).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from anyllm.testing.certify_areas import SPEC_AREAS, coverage
from anyllm.testing.certify_cert import digest, verify_certificate
from anyllm.testing.findings import deviations, group_violations, normal_message
from anyllm.testing.harness import WireExchange, judge_exchange
from anyllm.testing.validate import validate_stream
from tests.helpers.cassette_server import CassetteServer
from tests.helpers.loopback import LoopbackServer, Reply
from tests.test_plugin import doc_derived_openresponses

REPO = Path(__file__).resolve().parents[1]
ORS = REPO / "cassettes" / "open-responses-server"  # open-responses-server 0.4.1 over llama-server
NATIVE = REPO / "cassettes" / "llama-server-responses"  # llama-server's own /v1/responses
MODEL = "smollm2-135m-instruct"  # what those cassettes were recorded with


def certify(
    workdir: Path, base: str, *args: str, model: str | None = MODEL
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """``anyllm-conformance certify`` against ``base``; its process and certificate (if written)."""
    command = [
        sys.executable, "-m", "anyllm.testing.cli", "certify",
        "--provider=openresponses", f"--api-base={base}", f"--output={workdir / 'out'}", *args,
    ]  # fmt: skip
    if model:
        command.append(f"--model={model}")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    path = workdir / "out" / "certificate.json"
    return proc, json.loads(path.read_text()) if path.is_file() else None


def verify(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "anyllm.testing.cli", "certify", "verify", str(path), *args],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def verdicts(cert: dict[str, Any]) -> dict[str, str]:
    return {r["case"]: r["verdict"] for r in cert["results"]}


@pytest.fixture
def ors() -> Iterator[CassetteServer]:
    with CassetteServer(ORS) as server:
        yield server
    assert server.unmatched == [], "a request the recorded server never answered"


def recorded(directory: Path, case: str, index: int = 0) -> dict[str, Any]:
    """One recorded interaction of a committed cassette."""
    doc = yaml.safe_load((directory / f"{case}.yaml").read_text())
    return dict(doc["interactions"][index])


def sse_events(raw: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[5:])
        for line in raw.splitlines()
        if line.startswith("data:") and line[5:].strip() != "[DONE]"
    ]


# -- client-only checks count for nothing ------------------------------------------------------


def test_client_only_cases_count_for_nothing(tmp_path: Path) -> None:
    with doc_derived_openresponses() as server:
        proc, cert = certify(
            tmp_path, server.url, "-k", "basic_response or error_local_validation", model=None
        )
        alone, alone_cert = certify(
            tmp_path / "alone", server.url, "-k", "error_local_validation", model=None
        )
    assert proc.returncode == 0 and cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    # error-local-validation makes no request (anyllm refuses its arguments): it says
    # nothing about the server, so it is neither a pass nor a failure of it.
    assert verdicts(cert) == {"basic-response": "passed", "error-local-validation": "client-only"}
    assert cert["counts"] == {"passed": 1, "client-only": 1} and cert["verdict"] == "conformant"
    row = next(r for r in cert["results"] if r["case"] == "error-local-validation")
    assert row["requests"] == 0
    assert "1 client-only (no request reached the server; not counted): error-local-validation" in proc.stdout
    # Only client-only cases: nothing about the server was shown, so no certificate of conformance.
    assert alone_cert is not None and alone_cert["verdict"] == "incomplete" and alone.returncode == 1
    assert alone_cert["counts"] == {"client-only": 1}


def test_a_request_anyllm_refuses_before_sending_is_client_only(tmp_path: Path, ors: CassetteServer) -> None:
    """error-bad-parameter: anyllm refuses ``text.format.type: bogus-format`` before the
    network (its recorded cassette holds no interaction), so it counts for nothing."""
    assert yaml.safe_load((ORS / "error-bad-parameter.yaml").read_text())["interactions"] == []
    proc, cert = certify(tmp_path, ors.url, "-k", "error_bad_parameter or system_prompt")
    assert cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert verdicts(cert) == {"error-bad-parameter": "client-only", "system-prompt": "failed"}
    assert cert["counts"] == {"failed": 1, "client-only": 1}


def test_a_request_that_fails_on_the_way_is_no_client_only_case(tmp_path: Path) -> None:
    """No interaction was recorded, but a request was sent: the server cut the connection.
    That is a failure of the server, not a check the client made alone."""
    cut = Reply(200, b"", {"content-type": "application/json"}, chunks=[b'{"id": "resp_1"'], reset_after=0)
    with LoopbackServer(cut) as server:
        proc, cert = certify(tmp_path, server.url, "-k", "basic_response", model=None)
    assert cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    row = next(r for r in cert["results"] if r["case"] == "basic-response")
    assert row["requests"] == 0 and row["verdict"] == "failed", row
    assert cert["verdict"] == "not conformant" and len(server.requests) == 1


# -- the raw wire is judged on its own -------------------------------------------------------


def test_refused_replies_are_judged_on_the_wire_and_knock_ons_are_consequences(
    tmp_path: Path, ors: CassetteServer
) -> None:
    cases = "streaming_response or streaming_text_matches_final or early_stream_cancel or basic_response"
    proc, cert = certify(tmp_path, ors.url, "--capabilities=streaming", "-k", cases)
    assert cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    rules = {d["rule"] for d in cert["deviations"]}
    # anyllm refuses open-responses-server's response.created (event #0): the case checks
    # now run on every event that arrived, and those the server got right pass.
    assert not rules & {"CASE-STREAM-START", "CASE-STREAM-TERMINAL", "CASE-STREAM-DELTAS", "CASE-STREAM-TEXT"}
    streaming = next(r for r in cert["results"] if r["case"] == "streaming-response")
    assert [x["where"] for x in streaming["refusals"]] == ["wire #1, event #0"]
    # What only says "the client failed" is a consequence of what the wire shows, not a finding.
    consequences = {(c["rule"], c["summary"]) for c in cert["consequences"]}
    assert (
        "CASE-STREAM-ERROR",
        "follows from SCHEMA-EVENT, SCHEMA-RESPONSE, SSE-EVENT-NAME-MISSING",
    ) in consequences
    assert ("CASE-ERROR", "follows from SCHEMA-RESPONSE") in consequences  # the JSON body `null`
    assert not rules & {"CASE-ERROR", "CASE-STREAM-ERROR"}
    assert {"SCHEMA-RESPONSE", "SCHEMA-EVENT", "SSE-EVENT-NAME-MISSING", "SSE-DONE-TERMINAL"} <= rules
    # The final text is cut to the first delta (an open-responses-server bug): compared with
    # the deltas although the message was never added or done.
    raw = recorded(ORS, "streaming-response")["response"]["body"]["string"]
    events = sse_events(raw)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    final = events[-1]["response"]["output"][0]["content"][0]["text"]
    assert final != deltas and deltas.startswith(final)
    mismatch = next(d for d in cert["deviations"] if d["rule"] == "TERMINAL-OUTPUT-MATCHES-STREAM")
    assert "streaming-response" in mismatch["cases"]


def test_a_truncated_or_empty_final_text_is_compared_with_the_deltas() -> None:
    """Deltas streamed for an item never added (open-responses-server) or never done: the
    terminal response's text must still be theirs, whether cut short or empty."""
    raw = recorded(ORS, "streaming-response")["response"]["body"]["string"]
    events = sse_events(raw)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    for text in ("", deltas[:3], deltas):
        final = json.loads(json.dumps(events[-1]))
        final["response"]["output"][0]["content"][0]["text"] = text
        found = validate_stream([*events[:-1], final])
        hits = [v for v in found if v.rule == "TERMINAL-OUTPUT-MATCHES-STREAM"]
        assert bool(hits) == (text != deltas), (text, [str(v) for v in hits])


# -- capabilities are declared --------------------------------------------------------------


def test_capabilities_are_declared_and_undeclared_ones_are_unsupported(tmp_path: Path) -> None:
    cases = "basic_response or reasoning_items or file_input or tool_calling"
    with doc_derived_openresponses() as server:
        proc, cert = certify(tmp_path, server.url, "--capabilities=streaming", "-k", cases, model=None)
        bad, _ = certify(tmp_path / "bad", server.url, "--capabilities=streaming,telepathy", model=None)
    assert proc.returncode == 0 and cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    # A spec-valid server in front of a model without reasoning or files: conformant for
    # what it declares; the cases needing the rest are unsupported, not failed.
    assert verdicts(cert) == {
        "basic-response": "passed",
        "reasoning-items": "unsupported",
        "file-input": "unsupported",
        "tool-calling": "unsupported",
    }
    assert cert["verdict"] == "conformant"
    assert (
        cert["capabilities"]["declared"] == ["streaming"]
        and cert["capabilities"]["source"] == "--capabilities"
    )
    assert {"reasoning", "file_input", "tools"} <= set(cert["capabilities"]["undeclared"])
    assert bad.returncode == 2 and "--capabilities: unknown telepathy" in bad.stdout


def test_a_target_file_declares_capabilities(tmp_path: Path) -> None:
    with doc_derived_openresponses() as server:
        targets = tmp_path / "targets.yaml"
        targets.write_text(
            yaml.safe_dump(
                {
                    "version": 1,
                    "targets": {
                        "my-gateway": {
                            "provider": "openresponses",
                            "title": "a gateway in front of a model without reasoning",
                            "serves": "url",
                            "api_base": server.url,
                            "model": "m",
                            "capabilities": {"reasoning": False, "file_input": False},
                            "provenance": {"package": "my-gateway"},
                        }
                    },
                }
            )
        )
        command = [
            sys.executable, "-m", "anyllm.testing.cli", "certify", "--target=my-gateway",
            f"--targets-file={targets}", f"--output={tmp_path / 'out'}",
            "-k", "basic_response or reasoning_items",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    cert = json.loads((tmp_path / "out" / "certificate.json").read_text())
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert verdicts(cert) == {"basic-response": "passed", "reasoning-items": "unsupported"}
    assert (
        cert["target"] == "my-gateway"
        and cert["capabilities"]["source"] == "target my-gateway (targets.yaml)"
    )
    assert (tmp_path / "out" / "cassettes" / "my-gateway" / "basic-response.yaml").is_file()


# -- areas covered and not covered -----------------------------------------------------------


def test_every_conformance_case_belongs_to_a_spec_area() -> None:
    """A certificate lists the areas it covered: a case in no area would exercise the spec
    unseen. (The offline argument check and fuzz findings are no spec area.)"""
    declared = set()
    for module in (REPO / "conformance").glob("test_*.py"):
        declared |= set(re.findall(r'@case\(\s*"([a-z0-9-]+)"', module.read_text()))
    assert len(declared) > 40
    listed = {case for area in SPEC_AREAS for case in area.cases}
    assert declared - listed - {"error-local-validation"} == set(), "add the case to certify_areas.SPEC_AREAS"


def test_the_certificate_says_what_it_did_not_exercise() -> None:
    done = coverage(
        ["basic-response"], ["basic-response", "image-input"], {"image-input": "image_input not declared"}
    )
    covered = {a["id"] for a in done["covered"]}
    missing = {a["id"]: a["why"] for a in done["not_covered"]}
    assert covered == {"create-json"}
    assert missing["image-input"] == "unsupported: image_input not declared"
    assert missing["websocket"] == "its cases were not selected in this run"
    assert missing["compact"] == "its cases were not selected in this run"
    assert missing["streaming-sse"] == "its cases were not selected in this run"


# -- the console: a de-duplicated list, then the verdict ---------------------------------------


def _judge_cassette(path: Path) -> set[str]:
    """The rule ids of a recorded cassette judged on the wire, offline."""
    doc = yaml.safe_load(path.read_text())
    rules: set[str] = set()
    for number, inter in enumerate(doc["interactions"], start=1):
        req, resp = inter["request"], inter["response"]
        headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in resp["headers"].items()}
        exchange = WireExchange(
            number, req["method"], urllib.parse.urlsplit(req["uri"]).path,
            req["body"] or b"", resp["status"]["code"], headers, resp["body"]["string"],
        )  # fmt: skip
        rules |= {v.rule for v in judge_exchange(exchange, "openresponses")[0] if v.severity == "error"}
    return rules


def test_console_lists_each_deviation_once_with_its_cases_then_the_verdict(
    tmp_path: Path, ors: CassetteServer
) -> None:
    proc, cert = certify(tmp_path, ors.url, "--capabilities=streaming,tools,json_schema")
    assert cert is not None and proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout.splitlines()
    # Every case of the suite ran (tracebacks and all, in pytest.log): the console is short,
    # has no traceback, and ends with the verdict.
    assert len(out) < 70, proc.stdout
    assert not [line for line in out if re.match(r"^(Traceback|E  |\s+def |_{5,})", line)], proc.stdout
    assert out[-1].startswith("verdict: NOT CONFORMANT; certificate: ")
    log = (tmp_path / "out" / "pytest.log").read_text()
    assert "Traceback" in log or "Error" in log
    numbered = [line for line in out if re.match(r"^\s+\d+\. [A-Z]", line)]
    assert len(numbered) == len(cert["deviations"]) == len({line.split(". ", 1)[1] for line in numbered})
    # Each required field missing from events is one line, whatever number of events and cases.
    sequence = [d for d in cert["deviations"] if "`sequence_number`" in d["summary"]]
    assert len(sequence) == 1 and sequence[0]["occurrences"] > len(sequence[0]["cases"])
    # The list matches the raw traffic: every wire deviation is found again in the recorded
    # bytes of the case it names first, judged offline.
    for dev in cert["deviations"]:
        if not dev["rule"].startswith("CASE-"):
            case = dev["example"]["case"]
            assert dev["rule"] in _judge_cassette(
                tmp_path / "out" / "cassettes" / "openresponses" / f"{case}.yaml"
            ), dev


def test_verbose_shows_pytest_output(tmp_path: Path, ors: CassetteServer) -> None:
    proc, _ = certify(tmp_path, ors.url, "-v", "-k", "basic_response")
    assert (
        "test_basic_response[openresponses]" in proc.stdout and not (tmp_path / "out" / "pytest.log").exists()
    )
    assert proc.stdout.rstrip().splitlines()[-1].startswith("verdict: NOT CONFORMANT")


# -- a stream without output_index / content_index -------------------------------------------


def _indexless(case: str) -> list[dict[str, Any]]:
    """llama-server's native stream for ``case``: its events carry item_id but no
    output_index, content_index or sequence_number (removed again, should a later build add them)."""
    raw = recorded(NATIVE, case)["response"]["body"]["string"]
    events = sse_events(raw)
    for event in events:
        for key in ("output_index", "content_index", "sequence_number"):
            event.pop(key, None)
    return events


def test_a_stream_without_indexes_is_matched_by_item_id() -> None:
    events = _indexless("streaming-response")
    added = [e["type"] for e in events if e["type"].endswith(".added")]
    assert added == ["response.output_item.added", "response.content_part.added"]
    found = validate_stream(events)
    rules = {v.rule for v in found if v.severity == "error"}
    # The missing fields (the schema says so), the incomplete snapshots; nothing about order:
    # added and done come in order and the deltas are the final text.
    assert rules <= {"SCHEMA-EVENT", "SCHEMA-RESPONSE", "SCHEMA-CONTENT"}, sorted(rules)
    assert {"output_index", "content_index"} <= {
        name
        for v in found
        if v.rule == "SCHEMA-EVENT"
        for name in re.findall(r"[a-z_]+", v.message.split(":")[-1])
    }
    # Matched by item_id, the stream is still judged: a done text unlike its deltas is caught.
    broken = json.loads(json.dumps(events))
    done = next(e for e in broken if e["type"] == "response.output_text.done")
    done["text"] += " (changed)"
    assert "DELTA-DONE-MATCHES" in {v.rule for v in validate_stream(broken)}


def test_missing_index_fields_are_one_deviation_each() -> None:
    rows = []
    for case in ("streaming-response", "streaming-usage", "streaming-unicode"):
        found = [v.to_dict() for v in validate_stream(_indexless(case))]
        rows.append({"case": case, "violations": group_violations(found)})
    devs, consequences = deviations(rows)
    about = {
        field: [d for d in devs if field in d.fields]
        for field in ("output_index", "content_index", "sequence_number")
    }
    assert {field: len(found) for field, found in about.items()} == {
        "output_index": 1,
        "content_index": 1,
        "sequence_number": 1,
    }
    assert about["output_index"][0].cases == ["streaming-response", "streaming-usage", "streaming-unicode"]
    assert consequences == []


# -- no finding dropped ----------------------------------------------------------------------


def test_no_finding_of_a_long_stream_is_dropped(tmp_path: Path) -> None:
    from anyllm.testing.cases import CaseInfo
    from anyllm.testing.harness import CaseValidator
    from anyllm.testing.plugin.options import AnyllmSettings
    from anyllm.testing.plugin.verdicts import CaseContext
    from anyllm.testing.report import build_report, render_markdown

    events = _indexless("streaming-response")
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    at = events.index(delta)
    events[at:at] = [dict(delta, delta="") for _ in range(80)]  # a long stream: 80 more events
    validator = CaseValidator("openresponses", "long")
    validator.violations = validate_stream(events)
    last = len(events) - 1  # the streamed response.completed: no completed_at, among others
    assert len(validator.violations) > 80
    assert any(v.path == f"$[{last}].response" and "completed_at" in v.message for v in validator.violations)
    ctx = CaseContext(CaseInfo("long"), "openresponses", tmp_path / "none.yaml", "none", validator=validator)
    settings = AnyllmSettings.__new__(AnyllmSettings)
    settings.rootdir = tmp_path
    row = ctx.to_dict(settings, "node")
    kept = row["violations"]
    assert sum(v["count"] for v in kept) == row["violation_count"] == len(validator.violations)
    assert any(v["path"] == f"$[{last}].response" and "completed_at" in v["message"] for v in kept)
    assert len(kept) < 20  # grouped: each distinct finding once, counted
    row.update(verdict="failed", rules=sorted({v["rule"] for v in kept}))
    md = render_markdown(build_report([row], providers=["openresponses"], record_mode="none"))
    assert f"at `$[{last}].response`" in md


def test_findings_group_repetitions_and_keep_distinct_ones() -> None:
    message = "[wire #2 POST /v1/responses -> 200, SSE] item 'msg_1' at output_index 3 said \"it's\" here"
    assert normal_message(message) == "item '…' at output_index N said '…' here"
    one = {"rule": "R", "severity": "error", "path": "$[1]", "message": "x 'a'", "section": "s"}
    groups = group_violations([one, {**one, "path": "$[7]", "message": "x 'b'"}, {**one, "message": "y"}])
    assert [(g["path"], g["message"], g["count"]) for g in groups] == [("$[1]", "x 'a'", 2), ("$[1]", "y", 1)]


# -- certify verify --------------------------------------------------------------------------


def test_verify_rechecks_a_certificate_against_its_cassettes(tmp_path: Path) -> None:
    with doc_derived_openresponses() as server:
        proc, cert = certify(tmp_path, server.url, "-k", "basic_response or streaming_response", model=None)
    assert proc.returncode == 0 and cert is not None and cert["verdict"] == "conformant", proc.stdout[-3000:]
    path = tmp_path / "out" / "certificate.json"
    ok = verify(path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (
        "digest ok, 2 cassette(s) unchanged; 2 case(s) replayed with the certified verdicts and rules"
        in ok.stdout
    )
    # An edited cassette.
    cassette = tmp_path / "out" / "cassettes" / "openresponses" / "basic-response.yaml"
    original = cassette.read_text()
    cassette.write_text(
        original.replace('"status": "completed"', '"status": "complete"', 1).replace(
            '\\"status\\": \\"completed\\"', '\\"status\\": \\"complete\\"', 1
        )
    )
    assert cassette.read_text() != original
    changed = verify(path)
    assert (
        changed.returncode == 1
        and "basic-response: cassette cassettes/openresponses/basic-response.yaml was changed"
        in changed.stdout
    )
    # A forger updates the hash and the digest too: replaying the cassettes tells the truth.
    forged = json.loads(path.read_text())
    for row in forged["results"]:
        if row["case"] == "basic-response":
            row["cassette_sha256"] = hashlib.sha256(cassette.read_bytes()).hexdigest()
    forged["digest"] = digest({k: v for k, v in forged.items() if k != "digest"})
    assert verify_certificate(forged)
    path.write_text(json.dumps(forged))
    lie = verify(path)
    assert lie.returncode == 1, lie.stdout
    assert re.search(r"basic-response: certified passed \[\], replayed failed \[.*CASE-STATUS", lie.stdout), (
        lie.stdout
    )
    # An edited verdict without a new digest.
    cassette.write_text(original)
    forged["verdict"] = "not conformant"
    path.write_text(json.dumps(forged))
    edited = verify(path, "--no-replay")
    assert edited.returncode == 1 and "the digest does not match the content" in edited.stdout
    assert verify(tmp_path / "nothing.json").returncode == 2


# -- live: open-responses-server over llama.cpp's llama-server -------------------------------


@pytest.mark.llamacpp
def test_certify_on_open_responses_server_is_short_and_matches_the_wire(tmp_path: Path, llama: Any) -> None:
    from anyllm.testing.open_responses_server import OpenResponsesServerUnavailable, open_responses_server

    try:
        with open_responses_server(llama) as url:
            proc, cert = certify(
                tmp_path, url, "--capabilities=streaming,tools,json_schema", model=llama.model
            )
    except OpenResponsesServerUnavailable as exc:
        if os.environ.get("ANYLLM_REQUIRE_LLAMA") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    assert cert is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout.splitlines()
    assert len(out) < 70 and not [line for line in out if line.startswith("Traceback")], proc.stdout
    assert cert["verdict"] == "not conformant" and 5 <= len(cert["deviations"]) <= 30, proc.stdout
    assert cert["counts"].get("client-only") and not cert["counts"].get("passed")
    for dev in cert["deviations"]:
        if not dev["rule"].startswith("CASE-"):
            case = dev["example"]["case"]
            assert dev["rule"] in _judge_cassette(
                tmp_path / "out" / "cassettes" / "openresponses" / f"{case}.yaml"
            ), dev
    assert {c["rule"] for c in cert["consequences"]} <= {"CASE-ERROR", "CASE-STREAM-ERROR"}
    held = verify(tmp_path / "out" / "certificate.json")
    assert held.returncode == 0, held.stdout
