# ruff: noqa: SIM117 - nested with blocks show which statement is expected to raise
"""The recorder under attack (issue 13, items 5, 6, 7, 13, 16, 17).

Stacked content codings must not hide a key from the scrubber, a gzip bomb must not
inflate into a cassette, YAML aliases must not expand, a recording that fails must leave
nothing behind (and say which bound ended it), the replay guard must hold below
``socket.socket``, and killed writers' temporary files must be swept. Real httpx2 clients
and the real pytest plugin against real loopback servers (``tests/helpers/faults.py``).
"""

from __future__ import annotations

import _socket
import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpcore2  # noqa: F401 - imported before pytester runs (see tests/test_plugin.py)
import httpx2
import pytest
import yaml

from anyllm.testing.cassettes import (
    REDACTED,
    CassetteCorruptError,
    CassetteSettings,
    NetworkBlockedError,
    RecordBounds,
    RecordingLimitError,
    YamlAliasError,
    block_network,
    load_provenance,
    load_yaml,
    sweep_tree,
    use_cassette,
)
from anyllm.testing.cassettes.persistence import YamlSerializer
from tests.helpers.faults import (
    WIRES,
    Behaviour,
    FaultServer,
    enormous,
    never_answer,
    refused_url,
    reply,
    reset_before_headers,
    sequence,
)

pytest_plugins = ["pytester"]

PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)
KEY = "sk-canary-recorder-0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_inherited_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real keys in the developer's environment must not mix with the canaries."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")):
            monkeypatch.delenv(name, raising=False)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The plugin over ``test_rec.py`` (the suite below) in the pytester directory."""
    return pytester.runpytest(
        *PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", "test_rec.py", *args
    )


def report_row(pytester: pytest.Pytester, case: str) -> dict[str, Any]:
    report = json.loads((pytester.path / "rep.json").read_text())
    return next(r for r in report["results"] if r["case"] == case)


def encode(data: bytes, codings: str) -> bytes:
    """``data`` with ``codings`` applied in the order the header lists them."""
    for coding in (c.strip() for c in codings.split(",")):
        if coding in ("gzip", "x-gzip"):
            data = gzip.compress(data)
        elif coding == "deflate":
            data = zlib.compress(data)
    return data


def encoded_reply(payload: bytes, codings: str) -> Behaviour:
    return reply(
        200, encode(payload, codings), {"content-type": "application/json", "content-encoding": codings}
    )


# -- item 5: stacked codings are undone, so the scrubber sees the key ---------------------------


@pytest.mark.parametrize("codings", ["gzip, gzip", "deflate, gzip", "gzip, identity, x-gzip", "gzip"])
def test_stacked_codings_are_stored_decoded_and_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codings: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    payload = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}).encode()
    path = tmp_path / "c.yaml"
    with FaultServer(encoded_reply(payload, codings)) as server:
        with use_cassette(path, CassetteSettings(record_mode="once")):
            assert httpx2.post(f"{server.url}/v1/responses", json={}).status_code == 200
    text = path.read_text()
    assert KEY not in text and "!!binary" not in text and REDACTED in text
    response = yaml.safe_load(text)["interactions"][0]["response"]
    assert "content-encoding" not in response["headers"]
    with use_cassette(path, CassetteSettings(record_mode="none")):
        replayed = httpx2.post(f"{refused_url()}/v1/responses", json={}).json()
    assert replayed == {"error": {"message": f"Incorrect API key provided: {REDACTED}"}}


def test_a_coding_the_recorder_cannot_undo_is_refused_not_stored(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    behaviour = reply(
        200, b"\x8b\x05\x80opaque", {"content-type": "application/json", "content-encoding": "br"}
    )
    with FaultServer(behaviour) as server:
        with pytest.raises(RecordingLimitError, match="'br' is not one the recorder can undo"):
            with use_cassette(path, CassetteSettings(record_mode="once")):
                httpx2.post(f"{server.url}/v1/responses", json={})
    assert not path.exists()


def test_recording_asks_only_for_codings_it_can_undo(tmp_path: Path) -> None:
    with FaultServer(reply(200, {"ok": True})) as server:
        with use_cassette(tmp_path / "c.yaml", CassetteSettings(record_mode="once")):
            httpx2.post(f"{server.url}/v1/responses", json={}, headers={"accept-encoding": "br, gzip, zstd"})
    assert server.requests[0].headers["accept-encoding"] == "gzip"


def _gzip_gzip_cassette(path: Path) -> None:
    """A cassette as the recorder wrote it before the fix: a doubly gzipped body kept as is."""
    body = encode(json.dumps({"echo": "hidden"}).encode(), "gzip, gzip")
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["application/json"], "content-encoding": ["gzip, gzip"]},
        "body": {"string": body},
    }
    request = {"method": "POST", "uri": "http://127.0.0.1:9/v1/responses", "body": "{}", "headers": {}}
    path.write_text(
        yaml.safe_dump({"version": 1, "interactions": [{"request": request, "response": response}]})
    )


def test_a_cassette_storing_an_encoded_body_is_refused_on_replay(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    _gzip_gzip_cassette(path)
    before = path.read_bytes()
    with pytest.raises(CassetteCorruptError, match=r"c\.yaml interaction 1 .*'gzip, gzip'"):
        with use_cassette(path, CassetteSettings(record_mode="none")):
            httpx2.post(f"{refused_url()}/v1/responses", json={})
    assert path.read_bytes() == before


# -- item 6: a gzip bomb never inflates past the bound ------------------------------------------


@pytest.mark.parametrize("codings", ["gzip", "gzip, gzip", "deflate"])
def test_a_gzip_bomb_is_refused_and_writes_nothing(tmp_path: Path, codings: str) -> None:
    bomb = encode(b"\0" * (100 * 1024 * 1024), codings)  # 100 MiB from about 100 KB
    assert len(bomb) < 200_000
    path = tmp_path / "c.yaml"
    settings = CassetteSettings(record_mode="once", bounds=RecordBounds(max_bytes=1024 * 1024))
    with FaultServer(
        reply(200, bomb, {"content-type": "application/json", "content-encoding": codings})
    ) as server:
        with pytest.raises(RecordingLimitError, match="inflates past 1048576 bytes"):
            with use_cassette(path, settings):
                httpx2.post(f"{server.url}/v1/responses", json={})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_async_recording_refuses_a_bomb_and_names_its_timeout_bound(tmp_path: Path) -> None:
    bomb = encode(b"\0" * (100 * 1024 * 1024), "gzip, gzip")
    headers = {"content-type": "application/json", "content-encoding": "gzip, gzip"}
    settings = CassetteSettings(record_mode="once", bounds=RecordBounds(max_bytes=1024 * 1024, max_seconds=1))

    async def call(url: str) -> None:
        async with httpx2.AsyncClient(timeout=600) as client:
            await client.post(f"{url}/v1/responses", json={})

    with FaultServer(reply(200, bomb, headers)) as server:
        with pytest.raises(RecordingLimitError, match="inflates past 1048576 bytes"):
            with use_cassette(tmp_path / "bomb.yaml", settings):
                asyncio.run(call(server.url))
    with FaultServer(never_answer()) as server:
        with pytest.raises(RecordingLimitError, match="no byte for 1 s"):
            with use_cassette(tmp_path / "silent.yaml", settings):
                asyncio.run(call(server.url))
    assert list(tmp_path.iterdir()) == []


def test_a_body_that_inflates_to_just_the_bound_is_recorded(tmp_path: Path) -> None:
    payload = b'"' + b"x" * (64 * 1024 - 2) + b'"'
    path = tmp_path / "c.yaml"
    settings = CassetteSettings(record_mode="once", bounds=RecordBounds(max_bytes=64 * 1024))
    with FaultServer(encoded_reply(payload, "gzip, gzip")) as server:
        with use_cassette(path, settings):
            assert httpx2.post(f"{server.url}/v1/responses", json={}).content == payload
    assert (
        yaml.safe_load(path.read_text())["interactions"][0]["response"]["body"]["string"] == payload.decode()
    )


# -- item 7: YAML aliases are refused ------------------------------------------------------------

LAUGHS = textwrap.dedent(
    """\
      lol0: &l0 "lol"
      lol1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]
      lol2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]
      lol3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]
      lol4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]
    """
)


def test_load_yaml_refuses_aliases_naming_the_line() -> None:
    with pytest.raises(YamlAliasError, match=r"(?s)alias \*l0 .*line 3, column 14"):
        load_yaml("metadata:\n" + textwrap.indent(LAUGHS, "  "))
    assert load_yaml("a: '&not an anchor'\nb: [1, 2]\n") == {"a": "&not an anchor", "b": [1, 2]}


def test_the_writer_never_emits_an_alias() -> None:
    shared = {"content-type": ["application/json"]}
    data = {"interactions": [{"headers": shared}, {"headers": shared}]}
    text = YamlSerializer.serialize(data)
    assert "&" not in text and "*" not in text
    assert load_yaml(text) == data


def test_a_cassette_with_aliases_fails_its_case_and_reports_small(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=SUITE)
    with FaultServer(reply(200, WIRES["openresponses"].reply)) as server:
        run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}/v1",
            "--record",
            "-k",
            "basic",
        )
    path = pytester.path / "cassettes" / "openresponses" / "rec-basic.yaml"
    text = path.read_text()
    assert "\nmetadata:\n" in text
    path.write_text(text.replace("\nmetadata:\n", "\nmetadata:\n" + textwrap.indent(LAUGHS, "  "), 1))
    before = path.read_bytes()
    result = run(pytester, "--provider=openresponses", "--conformance-report=rep", "-k", "basic")
    row = report_row(pytester, "rec-basic")
    assert row["verdict"] == "failed" and row["rules"] == ["CASSETTE-CORRUPT"], row
    assert "alias" in row["reason"] and "rec-basic.yaml" in row["reason"]
    assert "rec-basic.yaml" in result.stdout.str()
    assert (pytester.path / "rep.json").stat().st_size < 200_000
    assert path.read_bytes() == before
    assert load_provenance(path) == {}


def test_the_validate_command_refuses_aliases_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from anyllm.testing.cli import main

    path = tmp_path / "laughs.yaml"
    interaction = '- request: {method: POST, uri: "http://x/v1/responses", body: "{}"}\n'
    interaction += '  response: {status: {code: 200}, headers: {}, body: {string: "{}"}}\n'
    path.write_text("interactions:\n" + interaction + "metadata:\n" + textwrap.indent(LAUGHS, "  "))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INPUT-MALFORMED" in out and "alias *l0" in out and "line 6" in out


# -- item 13: a failed recording writes nothing and names its bound --------------------------------

SUITE = """
from anyllm.testing.cases import case


@case("rec-basic")
def test_basic(anyllm_client):
    anyllm_client.create("hello", max_output_tokens=16)


@case("rec-twice")
def test_twice(anyllm_client):
    anyllm_client.create("first", max_output_tokens=16)
    anyllm_client.create("second", max_output_tokens=16)


@case("rec-expects-error")
def test_expects_error(anyllm_client):
    assert anyllm_client.expect_error("hello", max_output_tokens=16) is not None
"""

PROTOCOLS = {"openresponses": "openresponses", "openai": "openai", "anthropic": "anthropic"}


def _record(pytester: pytest.Pytester, provider: str, url: str, *args: str) -> pytest.RunResult:
    wire = WIRES[PROTOCOLS[provider]]
    return run(
        pytester,
        f"--provider={provider}",
        f"--api-base={provider}={url}{wire.base_path}",
        "--conformance-report=rep",
        *args,
    )


@pytest.mark.parametrize("provider", list(PROTOCOLS))
def test_a_recording_timeout_writes_nothing_and_names_the_bound(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    from anyllm.providers.registry import provider_metadata

    env = provider_metadata(provider).api_key_env
    if env:
        monkeypatch.setenv(env, KEY)
    pytester.makepyfile(test_rec=SUITE)
    path = pytester.path / "cassettes" / provider / "rec-basic.yaml"
    with FaultServer(never_answer()) as server:
        result = _record(pytester, provider, server.url, "--record", "--record-timeout=1", "-k", "basic")
    row = report_row(pytester, "rec-basic")
    assert row["verdict"] == "failed" and "RECORDING-LIMIT" in row["rules"], row
    assert "no byte for 1 s" in row["reason"] and "600" not in row["reason"], row["reason"]
    assert "no byte for 1 s" in result.stdout.str()
    assert not path.exists(), path.read_text()
    # The next --record goes live again, and records.
    wire = WIRES[PROTOCOLS[provider]]
    with FaultServer(reply(200, wire.reply)) as server:
        _record(pytester, provider, server.url, "--record", "-k", "basic")
        assert len(server.requests) == 1
    assert report_row(pytester, "rec-basic")["verdict"] == "passed"
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 1
    assert KEY not in path.read_text()


def test_a_reset_connection_while_recording_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=SUITE)
    with FaultServer(reset_before_headers()) as server:
        result = _record(pytester, "openresponses", server.url, "--record", "-k", "basic or expects_error")
        assert len(server.requests) == 2
    assert not (pytester.path / "cassettes" / "openresponses").exists() or not list(
        (pytester.path / "cassettes" / "openresponses").iterdir()
    )
    # The case that expects an error swallowed the connection error: its verdict still
    # says nothing was recorded.
    row = report_row(pytester, "rec-expects-error")
    assert row["verdict"] == "failed" and row["rules"] == ["RECORDING-LIMIT"], row
    assert "nothing was written" in row["reason"]
    assert report_row(pytester, "rec-basic")["verdict"] == "failed"
    result.assert_outcomes(failed=1, passed=1, errors=1)


def test_a_case_half_recorded_leaves_the_old_cassette_as_it_was(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=SUITE)
    pytester.makeini("[pytest]\nanyllm_record_max_bytes = 100000\n")
    ok = reply(200, WIRES["openresponses"].reply)
    with FaultServer(ok) as server:
        _record(pytester, "openresponses", server.url, "--record", "-k", "twice")
    path = pytester.path / "cassettes" / "openresponses" / "rec-twice.yaml"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert len(yaml.safe_load(before)["interactions"]) == 2
    with FaultServer(sequence(ok, enormous(10**6))) as server:
        _record(pytester, "openresponses", server.url, "--record-mode=rewrite", "-k", "twice")
        assert len(server.requests) == 2
    row = report_row(pytester, "rec-twice")
    assert row["verdict"] == "failed" and "RECORDING-LIMIT" in row["rules"], row
    assert "100000 bytes" in row["reason"]
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == ["rec-twice.yaml"]


# -- item 16: the replay guard holds below socket.socket -------------------------------------------

BLOCKED = "192.0.2.1"  # TEST-NET-1 (RFC 5737): never routed


def test_the_guard_blocks_the_raw_socket_type() -> None:
    sock = _socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # socket.socket's C base, unpatchable
    try:
        sock.settimeout(0.5)
        with block_network():
            with pytest.raises(NetworkBlockedError, match=r"connection to 192\.0\.2\.1:443"):
                sock.connect((BLOCKED, 443))
            with pytest.raises(NetworkBlockedError):
                sock.connect_ex((BLOCKED, 443))
    finally:
        sock.close()


def test_the_guard_blocks_every_name_lookup() -> None:
    with block_network():
        with pytest.raises(NetworkBlockedError, match=r"'example\.com' refused \(gethostbyname\)"):
            socket.gethostbyname("example.com")
        with pytest.raises(NetworkBlockedError, match="example"):
            socket.gethostbyname_ex("example.com")
        with pytest.raises(NetworkBlockedError, match="gethostbyaddr"):
            socket.gethostbyaddr("8.8.8.8")
        with pytest.raises(NetworkBlockedError, match="getnameinfo"):
            socket.getnameinfo(("8.8.8.8", 53), 0)
        with pytest.raises(NetworkBlockedError, match="getaddrinfo"):
            _socket.getaddrinfo("example.com", 443)
        assert socket.gethostbyname("localhost").startswith("127.")


def test_the_guard_blocks_datagrams_but_not_loopback() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        receiver.bind(("127.0.0.1", 0))
        with block_network():
            with pytest.raises(NetworkBlockedError, match=r"datagram to 192\.0\.2\.1:53"):
                sender.sendto(b"query", (BLOCKED, 53))
            with pytest.raises(NetworkBlockedError, match="message to"):
                sender.sendmsg([b"query"], [], 0, (BLOCKED, 53))
            sender.sendto(b"loopback", receiver.getsockname())
            assert receiver.recv(64) == b"loopback"


def test_the_guard_lets_loopback_through_and_lifts_after_the_block() -> None:
    with FaultServer(reply(200, {"ok": True})) as server:
        host, port = server.url.removeprefix("http://").split(":")
        sock = _socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with block_network():
                sock.connect((host, int(port)))
                assert httpx2.get(f"{server.url}/v1/x").json() == {"ok": True}
        finally:
            sock.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        try:
            sender.sendto(b"x", (BLOCKED, 9))
        except NetworkBlockedError:  # pragma: no cover - the failure this checks for
            pytest.fail("the guard stayed on after its block")
        except OSError:
            pass  # no route in this sandbox: not the guard


# -- item 17: killed writers' temporary files are swept --------------------------------------------

WRITER = """
import os, signal, sys, time
from anyllm.testing.cassettes.persistence import AtomicPersister, YamlSerializer

mode = sys.argv[2]
real_replace = os.replace


def replace(src, dst):
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # killed between writing the file and renaming it
    print("written", flush=True)
    sys.stdin.readline()  # hold the lock until told
    real_replace(src, dst)


os.replace = replace
cassette = {"requests": [], "responses": [], "metadata": {"writer": mode}}
AtomicPersister({}).save_cassette(sys.argv[1], cassette, YamlSerializer())
"""


def _writer(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def _reaped(process: subprocess.Popen[str]) -> int:
    """``process``'s exit status, its pipes closed (an open pipe is a ResourceWarning)."""
    process.communicate(timeout=30)
    return process.returncode


def _temps(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".tmp"))


def _age(path: Path, seconds: float = 60.0) -> None:
    """Pretend ``seconds`` passed since the file was last written."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_killed_writers_temporary_file_is_swept_by_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    killed = _writer(path, "kill")
    assert _reaped(killed) == -signal.SIGKILL
    (leftover,) = _temps(tmp_path)
    assert leftover.name.startswith(".c.yaml.")
    _age(leftover)
    with FaultServer(reply(200, {"ok": True})) as server:
        with use_cassette(path, CassetteSettings(record_mode="once")):
            httpx2.post(f"{server.url}/v1/responses", json={})
    assert _temps(tmp_path) == []
    assert yaml.safe_load(path.read_text())["interactions"]


def test_a_recording_session_sweeps_the_whole_cassette_directory(pytester: pytest.Pytester) -> None:
    directory = pytester.path / "cassettes" / "openresponses"
    directory.mkdir(parents=True)
    killed = _writer(directory / "other-case.yaml", "kill")
    assert _reaped(killed) == -signal.SIGKILL
    (leftover,) = _temps(directory)
    _age(leftover)
    pytester.makepyfile(test_rec=SUITE)
    with FaultServer(reply(200, WIRES["openresponses"].reply)) as server:
        _record(pytester, "openresponses", server.url, "--record", "-k", "basic")
    assert _temps(directory) == []
    assert sorted(p.name for p in directory.iterdir()) == ["rec-basic.yaml"]


def test_a_live_writers_temporary_file_is_never_swept(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    writer = _writer(path, "hold")
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        (held,) = _temps(tmp_path)
        _age(held, 3600 * 24)
        assert sweep_tree(tmp_path) == []
        assert held.exists()
    finally:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    assert _reaped(writer) == 0
    assert _temps(tmp_path) == []
    assert yaml.safe_load(path.read_text())["metadata"] == {"writer": "hold"}


def test_a_fresh_temporary_file_is_left_to_its_writer(tmp_path: Path) -> None:
    # Between creating its file and locking it a writer holds no lock: age protects it.
    fresh = tmp_path / ".c.yaml.abcd1234.tmp"
    fresh.write_text("being written")
    assert sweep_tree(tmp_path) == []
    _age(fresh)
    assert sweep_tree(tmp_path) == [fresh]
