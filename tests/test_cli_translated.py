"""anyllm-conformance validate on translated providers' cassettes, and the rules listing.

Issue 11 item 4: ``validate cassettes/llamacpp/streaming-response.yaml`` printed ``0 target(s)``
and exited 0. A translated provider's exchange is now replayed through ``anyllm.responses()``
(real vcrpy replay of the recorded bytes, network blocked) and what the library returns is
judged; what cannot be judged says so and exits 2. The cassettes used are the project's real
llama.cpp recordings (chat completions), some cut or altered below to get each outcome.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from anyllm.testing.cli import main

REPO = Path(__file__).resolve().parents[1]
LLAMA = REPO / "cassettes" / "llamacpp"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def altered(tmp_path: Path, name: str, change) -> Path:
    """A copy of a real llama.cpp cassette with its first interaction changed by ``change``."""
    doc = yaml.safe_load((LLAMA / name).read_text())
    interaction = doc["interactions"][0]
    change(interaction)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_translated_stream_is_replayed_through_the_library_and_judged(capsys) -> None:
    code, out = run(capsys, "validate", str(LLAMA / "streaming-response.yaml"))
    assert code == 0, out
    assert "[stream, profile openresponses]: 0 error(s)" in out
    assert "via llamacpp (chat bridge), model smollm2-135m-instruct" in out
    assert "ending in response.completed" in out
    assert out.rstrip().endswith("1 target(s): 0 error(s), 0 warning(s), 0 info")


def test_a_translated_response_is_judged_and_the_json_says_so(capsys) -> None:
    code, out = run(capsys, "validate", str(LLAMA / "basic-response.yaml"), "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    (target,) = doc["targets"]
    assert target["kind"] == "response" and target["judged"] is True and "chat bridge" in target["note"]
    assert doc["summary"]["judged"] == 1 and doc["summary"]["unjudged"] == 0


def test_a_cut_stream_is_judged_as_what_the_library_made_of_it(tmp_path, capsys) -> None:
    def cut(interaction: dict) -> None:
        """Drop the chunk that finishes the choice, the usage chunk and [DONE]: cut short."""

        def keep(frame: str) -> bool:
            data = frame.strip().removeprefix("data:").strip()
            if not data or data == "[DONE]":
                return False
            chunk = json.loads(data)
            finished = any(c.get("finish_reason") for c in chunk.get("choices") or [])
            return not finished and not chunk.get("usage")

        body = interaction["response"]["body"]["string"]
        interaction["response"]["body"]["string"] = "".join(
            frame + "\n\n" for frame in body.split("\n\n") if keep(frame)
        )

    code, out = run(capsys, "validate", str(altered(tmp_path, "streaming-response.yaml", cut)))
    assert code == 0, out  # the library fails the stream the way the spec says: judged, conformant
    assert "ending in response.failed, then raised StreamError" in out


def test_an_error_reply_is_judged_as_the_typed_error_the_library_raises(tmp_path, capsys) -> None:
    def not_found(interaction: dict) -> None:
        interaction["response"]["status"] = {"code": 404, "message": "Not Found"}
        interaction["response"]["body"]["string"] = json.dumps(
            {"error": {"message": "model 'nope' not found", "type": "invalid_request_error", "code": 404}}
        )

    code, out = run(capsys, "validate", str(altered(tmp_path, "basic-response.yaml", not_found)))
    assert code == 0, out
    assert "[error, profile openresponses]" in out and "HTTP 404, the library raised NotFoundError" in out


def test_a_reply_the_library_refuses_cannot_be_judged_and_exits_2(tmp_path, capsys) -> None:
    def no_choices(interaction: dict) -> None:
        body = json.loads(interaction["response"]["body"]["string"])
        interaction["response"]["body"]["string"] = json.dumps({**body, "choices": []})

    code, out = run(capsys, "validate", str(altered(tmp_path, "basic-response.yaml", no_choices)))
    assert code == 2, out
    assert "CANNOT JUDGE" in out and "the library refused the HTTP 200 reply: ProviderError" in out
    assert "0 target(s)" in out and "1 cannot be judged; nothing was judged" in out


def test_a_cassette_with_no_interaction_is_never_zero_targets_with_exit_0(capsys) -> None:
    code, out = run(capsys, "validate", str(LLAMA / "error-bad-parameter.yaml"))
    assert code == 2, out
    assert "CANNOT JUDGE: the cassette holds no interaction" in out


def test_a_request_no_bridge_translates_cannot_be_judged(tmp_path, capsys) -> None:
    def embeddings(interaction: dict) -> None:
        interaction["request"]["uri"] = "http://127.0.0.1:37243/v1/embeddings"

    code, out = run(capsys, "validate", str(altered(tmp_path, "basic-response.yaml", embeddings)))
    assert code == 2, out
    assert "/v1/embeddings: CANNOT JUDGE: neither a Responses call nor one a bridge translates" in out


def test_every_translated_cassette_of_the_project_is_judged(capsys) -> None:
    paths = sorted(str(p) for p in LLAMA.glob("*.yaml"))
    code, out = run(capsys, "validate", "--format", "json", *paths)
    doc = json.loads(out)
    unjudged = [t["source"] for t in doc["targets"] if not t["judged"]]
    assert unjudged == [str(LLAMA / "error-bad-parameter.yaml")]  # the one that sent nothing
    exchanges = sum(len(yaml.safe_load(Path(p).read_text())["interactions"]) for p in paths)
    assert doc["summary"]["judged"] == exchanges  # every recorded exchange, each judged
    assert code == 2


def test_rules_prints_a_header_and_json(capsys) -> None:
    code, out = run(capsys, "rules")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header[:4] == ["RULE", "SEVERITY", "OPENAI", "SUMMARY"]
    code, out = run(capsys, "rules", "--format", "json")
    assert code == 0 and {"id", "severity", "openai_severity", "section", "summary"} <= set(
        json.loads(out)[0]
    )


def test_validate_keeps_the_cassette_untouched(tmp_path, capsys) -> None:
    path = altered(tmp_path, "streaming-response.yaml", lambda interaction: None)
    before = path.read_bytes()
    run(capsys, "validate", str(path))
    assert path.read_bytes() == before
    assert copy.deepcopy(yaml.safe_load(before))["interactions"]
