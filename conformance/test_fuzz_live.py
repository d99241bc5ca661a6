"""Live fuzzing of a running server, and the replay of what it found.

``pytest conformance --target=NAME --fuzz-live[=N] -k fuzz_live`` sends N generated requests
(valid against the spec's CreateResponseBody) to each column with live access, judges every
reply and stream with the validator, shrinks each distinct failure to a minimal request and
saves its exchange as ``cassettes/<column>/fuzz-<id>.yaml`` (:mod:`anyllm.testing.fuzz_live`).
The run fails on a failure the column's baseline does not explain; the terminal section
"anyllm live fuzz" lists what was sent, every rule broken and each shrunk request.

Each saved finding is then a conformance case of its column (``fuzz-<id>``): replayed from
its cassette with the network blocked, judged like every case, listed in the matrix and the
report, and covered by a baseline entry once reviewed. Recording it again
(``--record-mode=rewrite``) sends the same body to the live server.
"""

from __future__ import annotations

import os

import pytest

from anyllm.testing.fuzz_live import finding_block, send_body
from anyllm.testing.fuzz_live_session import run_live_fuzz


@pytest.mark.anyllm_fuzz_live
def test_fuzz_live(anyllm_provider, request, tmp_path_factory):
    run = run_live_fuzz(request.config, anyllm_provider, tmp_path_factory.mktemp("fuzz-live"))
    if isinstance(run, str):
        from anyllm.testing.plugin.session import STATE_KEY

        starter = request.config.stash[STATE_KEY].starters.get(anyllm_provider)
        if starter is not None and os.environ.get(starter.require_env) == "1":
            pytest.fail(f"live fuzzing of {anyllm_provider} required but unavailable: {run}")
        pytest.skip(f"no live access to {anyllm_provider}: {run}")
    new = run.new
    assert not new, (
        f"{len(new)} failure(s) of {anyllm_provider} that its baseline does not explain, shrunk "
        "(see 'anyllm live fuzz' below; review each cassette, then add a baseline entry): "
        + "; ".join(f"{f.id} [{', '.join(f.rules)}]" for f in new)
    )


def test_fuzz_finding(anyllm_fuzz_finding, anyllm_case, vcr_cassette, anyllm_client):
    """Replay (or record again) the minimal request of a saved live-fuzz finding."""
    block = finding_block(anyllm_case.cassette)
    assert block is not None, f"{anyllm_case.cassette.name} holds no fuzz body in its metadata"
    if anyllm_case.mode != "none":  # recording again: the new cassette keeps the body
        vcr_cassette.provenance = {**vcr_cassette.provenance, "fuzz": block}
    send_body(anyllm_client, {**block["body"], "model": anyllm_client.model}, vcr_cassette)
