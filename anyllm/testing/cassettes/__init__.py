"""Cassettes: vcrpy over httpx2, with what conformance recording needs on top.

This package keeps vcrpy's cassette model (record modes, the YAML file, matchers,
per-cassette metadata) and swaps the httpx2 transport stub for one that

* re-delivers a recorded ``text/event-stream`` body in many chunks (event boundaries
  plus deliberately awkward splits: inside ``data:``, between CR and LF, inside a UTF-8
  character), byte for byte (:mod:`.transport`);
* records under a bound (bytes and seconds), raising :class:`RecordingLimitError` rather
  than hanging, and writes nothing of a session in which a live request failed, so a
  timeout never leaves an empty or half cassette behind (:mod:`.transport`, :mod:`.cassette`);
* scrubs secrets before anything is stored, JSON-escaped ones and ones split across
  streamed deltas included (:mod:`.body_secrets`), hands the recording client the scrubbed
  reply, and refuses to write a cassette that still holds the value of any provider key
  variable (:class:`SecretLeakError`), or to replay one that holds it
  (:class:`CassetteSecretError`) (:mod:`.secrets`);
* refuses a cassette it cannot read (:class:`CassetteCorruptError`, naming the file and
  the line) and leaves it as it is: only record mode ``rewrite`` replaces it
  (:mod:`.persistence`);
* refuses YAML aliases ("billion laughs") and bodies stored still content-encoded
  (:mod:`.persistence`), and stores every body decoded, under the size bound however
  much it inflates (:mod:`.encoding`);
* writes cassettes atomically (temporary file + ``os.replace``), so parallel recorders
  and interrupted runs never leave half a file, and sweeps the temporary files of killed
  writers (:mod:`.persistence`);
* matches requests on method, path, query (minus ``key=``) and normalized JSON body, not
  on host or port (the llama.cpp server runs on a random port), and says what differs
  (:mod:`.matchers`);
* blocks every non-loopback connection, datagram and name lookup while replaying, at the
  interpreter's audit hooks (:mod:`.network_guard`), and stamps
  what it records with provenance (:mod:`.provenance`).

:mod:`.cassette` ties them together in :func:`use_cassette`. This module only re-exports.
"""

from __future__ import annotations

from anyllm.testing.cassettes.cassette import RECORD_MODES, AnyllmCassette, CassetteSettings, use_cassette
from anyllm.testing.cassettes.matchers import json_body_matcher
from anyllm.testing.cassettes.network_guard import NetworkBlockedError, block_network
from anyllm.testing.cassettes.persistence import (
    AtomicPersister,
    CassetteCorruptError,
    YamlAliasError,
    load_yaml,
    sweep_stale_temps,
    sweep_tree,
)
from anyllm.testing.cassettes.provenance import cassette_sha256, load_provenance
from anyllm.testing.cassettes.secrets import (
    MIN_SECRET_LENGTH,
    REDACTED,
    SECRET_HEADERS,
    CassetteSecretError,
    SecretLeakError,
    Secrets,
    provider_secrets,
    secret_forms,
)
from anyllm.testing.cassettes.transport import RecordBounds, RecordingLimitError, replay_chunks

__all__ = [
    "MIN_SECRET_LENGTH",
    "RECORD_MODES",
    "REDACTED",
    "SECRET_HEADERS",
    "AnyllmCassette",
    "AtomicPersister",
    "CassetteCorruptError",
    "CassetteSecretError",
    "CassetteSettings",
    "NetworkBlockedError",
    "RecordBounds",
    "RecordingLimitError",
    "SecretLeakError",
    "Secrets",
    "YamlAliasError",
    "block_network",
    "cassette_sha256",
    "json_body_matcher",
    "load_provenance",
    "load_yaml",
    "provider_secrets",
    "replay_chunks",
    "secret_forms",
    "sweep_stale_temps",
    "sweep_tree",
    "use_cassette",
]
