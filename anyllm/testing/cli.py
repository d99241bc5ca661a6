"""``anyllm-conformance``: command-line front end of the conformance tools.

Subcommands are registered in :data:`COMMANDS` (name -> (add_arguments, run)), so a new one
(``certify``) is one function pair and one entry. ``validate`` reads JSON response bodies,
raw SSE captures, JSONL event logs, recorded WebSocket exchanges (frames as JSONL, one
record per line: :mod:`anyllm.testing.validate.ws_records`) and cassettes (their HTTP
interactions, ``/responses/compact`` replies and ``websocket`` section), prints the
violations and exits 1 when any is an error. Broken input is reported as a violation with
its position, never as a traceback.

A cassette of a translated provider (chat completions, Anthropic, Gemini) is judged by what
the library makes of it: each exchange is replayed through ``anyllm.responses()`` and the
typed result validated (:mod:`anyllm.testing.bridge_replay`). What cannot be judged (no
interaction at all, a request no bridge translates, a reply the library refuses) is listed
as such and the exit status is 2; a run never reports ``0 target(s)`` with status 0. Calls
that are not model calls (``GET /models``) are listed as skipped.

Exit status: 0 every target judged and conforming; 1 an error-severity violation; 2 nothing
judged, or something that could not be judged.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from anyllm.testing import rules as R
from anyllm.testing.certify import CERTIFY_COMMAND
from anyllm.testing.validate import (
    Violation,
    has_errors,
    validate_compact,
    validate_request,
    validate_response,
    validate_stream,
    validate_websocket,
)
from anyllm.testing.validate.compact_rules import is_compact_path

__all__ = ["COMMANDS", "Target", "build_parser", "load_targets", "main"]


@dataclass
class Target:
    """One thing to judge: a response body, a stream or a request, and where it came from."""

    source: str
    # "response" | "stream" | "request" | "input" | "websocket" (records) | "compact" (a
    # /responses/compact reply); a translated provider's exchange is
    # "bridge" until replayed, then "response" | "stream" | "error" (the library's typed error
    # for an error reply); "unjudged" (cannot be judged: exit 2) | "skipped" (not a model call)
    kind: str
    payload: Any = None
    content_type: str | None = None
    status: int | None = None
    request: Any = None
    violations: list[Violation] = field(default_factory=list)
    note: str = ""  # what was done, or why not judged
    metadata: dict[str, Any] = field(default_factory=dict)  # the cassette's (provenance)


def _malformed(source: str, message: str, line: int | None = None) -> Target:
    rule = R.RULES["INPUT-MALFORMED"]
    return Target(
        source, "input", violations=[Violation(rule.id, rule.severity, "$", message, rule.section, line)]
    )


def _binary_problem(raw: bytes) -> str | None:
    nul = raw.find(b"\x00")
    if nul >= 0:
        return f"binary data (NUL byte at byte {nul})"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    return None


def _looks_like_sse(text: str) -> bool:
    return any(line.startswith(("data:", "event:", "id:", "retry:", ":")) for line in text.splitlines()[:20])


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            if isinstance(value, list):
                return str(value[0]) if value else None
            return str(value)
    return None


def _decode_body(raw: Any, encoding: str | None) -> tuple[bytes | None, str | None]:
    """Body bytes of a cassette response, undoing gzip/deflate; or an error message."""
    if isinstance(raw, dict):
        raw = raw.get("string", "")
    if raw is None:
        raw = b""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    enc = (encoding or "").lower()
    try:
        if enc == "gzip" or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif enc == "deflate":
            data = zlib.decompress(data)
        elif enc in ("br", "zstd"):
            return None, f"body is {enc}-compressed; cannot decode it here"
    except (OSError, zlib.error, EOFError) as exc:
        return None, f"body claims {enc or 'gzip'} encoding but does not decode: {exc}"
    return data, None


def _body_target(
    source: str, data: bytes, content_type: str | None, status: int | None, request: Any
) -> Target:
    problem = _binary_problem(data)
    if problem is not None:
        return _malformed(source, problem)
    text = data.decode("utf-8")
    is_stream = (content_type or "").lower().startswith("text/event-stream") or (
        not text.lstrip().startswith(("{", "[")) and _looks_like_sse(text)
    )
    if is_stream:
        return Target(source, "stream", text, content_type, status, request)
    return Target(source, "response", text, content_type, status, request)


def _load_cassette(path: Path, text: str) -> list[Target]:
    import yaml

    from anyllm.testing.cassettes import load_yaml

    try:
        doc = load_yaml(text)  # safe, and refusing aliases (a billion laughs expands when walked)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [_malformed(str(path), f"not a YAML cassette: {getattr(exc, 'problem', exc)}", line)]
    interactions = doc.get("interactions") if isinstance(doc, dict) else None
    if not isinstance(interactions, list):
        return [_malformed(str(path), "YAML without an `interactions` list: not a vcrpy cassette")]
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    websocket = _websocket_target(path, doc.get("websocket"), interactions)
    if not interactions and websocket is not None:
        return [websocket]
    if not interactions:
        sent = " (its metadata says the library refused the request before sending it)"
        note = "the cassette holds no interaction: nothing to judge" + (
            sent if metadata.get("interactions") == 0 else ""
        )
        return [Target(str(path), "unjudged", note=note)]
    targets: list[Target] = []
    for i, inter in enumerate(interactions):
        if not isinstance(inter, dict):
            targets.append(_malformed(f"{path}#interaction{i}", "interaction is not a mapping"))
            continue
        req = inter.get("request") or {}
        uri = str(req.get("uri", ""))
        source = f"{path}#interaction{i} {req.get('method', '')} {uri}".rstrip()
        compact = is_compact_path(uri.split("?", 1)[0])
        if not compact and not uri.split("?", 1)[0].rstrip("/").endswith("/responses"):
            targets.append(_other_call(source, inter, metadata))
            continue
        request: Any = None
        req_body = req.get("body")
        if isinstance(req_body, dict):
            req_body = req_body.get("string")
        if isinstance(req_body, (str, bytes)) and req_body:
            try:
                request = json.loads(req_body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                request = None
        if isinstance(request, dict) and not compact:
            targets.append(Target(source + " (request)", "request", request))
        resp = inter.get("response") or {}
        status_obj = resp.get("status")
        status = status_obj.get("code") if isinstance(status_obj, dict) else status_obj
        headers = resp.get("headers")
        data, problem = _decode_body(resp.get("body"), _header(headers, "content-encoding"))
        if data is None:
            targets.append(_malformed(source, problem or "undecodable body"))
            continue
        content_type = _header(headers, "content-type")
        code = status if isinstance(status, int) else None
        if compact:
            problem = _binary_problem(data)
            targets.append(
                _malformed(source, problem)
                if problem
                else Target(source, "compact", data.decode("utf-8"), content_type, code)
            )
            continue
        targets.append(_body_target(source, data, content_type, code, request))
    return [*targets, *([websocket] if websocket is not None else [])]


def _websocket_target(path: Path, section: Any, interactions: list[Any]) -> Target | None:
    """The cassette's ``websocket`` section as one target (every connection, in order),
    judged with the compacted windows its /responses/compact replies returned."""
    from anyllm.testing.cassettes.websocket import parse_section
    from anyllm.testing.validate.ws_records import RecordError

    if section is None:
        return None
    source = f"{path}#websocket"
    try:
        connections = parse_section(section)
    except RecordError as exc:
        return _malformed(source, f"not a WebSocket section: {exc}")
    windows = []
    for inter in interactions:
        req = inter.get("request") if isinstance(inter, dict) else None
        if not isinstance(req, dict) or not is_compact_path(str(req.get("uri", "")).split("?", 1)[0]):
            continue
        data, _problem = _decode_body((inter.get("response") or {}).get("body"), None)
        try:
            output = json.loads(data or b"").get("output")
        except (ValueError, AttributeError):
            continue
        if isinstance(output, list):
            windows.append(output)
    records = [record for connection in connections for record in connection.records()]
    return Target(source, "websocket", records, request=windows)


def _other_call(source: str, interaction: dict[str, Any], metadata: dict[str, Any]) -> Target:
    """An interaction that is not a Responses call: a translated provider's model call (to
    replay through the library), a call that is no model call (skipped), or neither (unjudged)."""
    from anyllm.testing.bridge_replay import bridge_protocol

    request = interaction.get("request") or {}
    if bridge_protocol(str(request.get("uri", ""))) is not None:
        return Target(source, "bridge", interaction, metadata=metadata)
    if str(request.get("method", "")).upper() != "POST":
        return Target(source, "skipped", note="not a model call")
    return Target(source, "unjudged", note="neither a Responses call nor one a bridge translates")


def _load_jsonl(path: Path, text: str) -> list[Target]:
    from anyllm.testing.validate.ws_records import is_record_log, parse_jsonl

    first = text.lstrip().split("\n", 1)[0]
    try:
        is_records = is_record_log(json.loads(first))
    except json.JSONDecodeError:
        is_records = False
    if is_records:  # a recorded WebSocket exchange: frames (and open/close) as JSONL
        records, problems = parse_jsonl(text)
        target = Target(str(path), "websocket", records, request=[])
        rule = R.RULES["INPUT-MALFORMED"]
        for number, problem in problems:
            target.violations.append(Violation(rule.id, rule.severity, "$", problem, rule.section, number))
        return [target]
    events: list[Any] = []
    bad: list[Violation] = []
    rule = R.RULES["INPUT-MALFORMED"]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as exc:
            bad.append(
                Violation(
                    rule.id,
                    rule.severity,
                    "$",
                    f"line is not JSON: {exc.msg} (column {exc.colno})",
                    rule.section,
                    number,
                )
            )
    target = Target(str(path), "stream", events)
    target.violations.extend(bad)
    return [target]


def load_targets(path: Path) -> list[Target]:
    """Read one file and say what it holds (never raises on bad content)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [_malformed(str(path), f"cannot read: {exc.strerror or exc}")]
    if not raw.strip():
        return [_malformed(str(path), "empty file")]
    problem = _binary_problem(raw)
    if problem is not None:
        return [_malformed(str(path), problem)]
    text = raw.decode("utf-8")
    stripped = text.lstrip()
    if (
        path.suffix.lower() in (".yaml", ".yml")
        or stripped.startswith("interactions:")
        or "\ninteractions:" in text
    ):
        return _load_cassette(path, text)
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            first = stripped.splitlines()[0] if stripped else ""
            try:
                json.loads(first)
            except json.JSONDecodeError:
                return [_malformed(str(path), f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno)]
            return _load_jsonl(path, text)
        if isinstance(value, dict) and isinstance(value.get("interactions"), list):
            return _load_cassette(path, text)
        if isinstance(value, dict) and "direction" in value and "type" not in value:
            return _load_jsonl(path, text)  # a one-record WebSocket log
        if isinstance(value, list):
            return [Target(str(path), "stream", value)]
        return [Target(str(path), "response", value)]
    if _looks_like_sse(text):
        return [Target(str(path), "stream", text)]
    try:
        scalar = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:  # valid JSON but not an object: a (non-conforming) response body such as `null`
        return [Target(str(path), "response", scalar)]
    return [_malformed(str(path), "not JSON, JSONL, an SSE capture or a vcrpy cassette", 1)]


def _replay_bridge(target: Target, profile: R.Profile, provider: str | None) -> list[Violation]:
    """A translated provider's exchange: replayed through the library, its result judged."""
    from anyllm.testing.bridge_replay import bridge_call, replay

    call = bridge_call(target.payload, target.metadata, provider)
    if isinstance(call, str):
        target.kind, target.note = "unjudged", call
        return []
    done = replay(target.payload, call, profile)
    target.kind, target.note = done.kind, done.note
    return done.violations


def judge(target: Target, profile: R.Profile, provider: str | None = None) -> list[Violation]:
    """Run the validator that fits the target (``provider``: how to replay a translated
    provider's cassette, when its metadata does not say)."""
    if target.kind == "bridge":
        return target.violations + _replay_bridge(target, profile, provider)
    if target.kind == "response":
        found = validate_response(
            target.payload,
            profile,
            request=target.request,
            content_type=target.content_type,
            status=target.status,
        )
    elif target.kind == "stream":
        found = validate_stream(
            target.payload, profile, request=target.request, content_type=target.content_type
        )
    elif target.kind == "request":
        found = validate_request(target.payload, profile)
    elif target.kind == "websocket":
        found = validate_websocket(target.payload, profile, compacted=target.request or ())
    elif target.kind == "compact":
        found = validate_compact(
            target.payload, profile, content_type=target.content_type, status=target.status
        )
    else:
        found = []
    return target.violations + found


# --- Output ----------------------------------------------------------------------------------


def _counts(violations: list[Violation]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for v in violations:
        out[v.severity] += 1
    return out


_NOT_JUDGED = ("unjudged", "skipped")


def _tally(results: list[tuple[Target, list[Violation]]]) -> str:
    """The last line: targets judged and their findings, then what was not judged."""
    judged = [found for target, found in results if target.kind not in _NOT_JUDGED]
    c = _counts([v for found in judged for v in found])
    line = f"{len(judged)} target(s): {c['error']} error(s), {c['warning']} warning(s), {c['info']} info"
    unjudged = sum(1 for target, _ in results if target.kind == "unjudged")
    skipped = sum(1 for target, _ in results if target.kind == "skipped")
    if unjudged:
        line += f"; {unjudged} cannot be judged"
    if skipped:
        line += f"; {skipped} skipped (not model calls)"
    if not judged:
        line += "; nothing was judged"
    return line


def _print_text(results: list[tuple[Target, list[Violation]]], profile: str, out: TextIO) -> None:
    for target, found in results:
        if target.kind == "unjudged":
            out.write(f"{target.source}: CANNOT JUDGE: {target.note}\n")
            continue
        if target.kind == "skipped":
            out.write(f"{target.source}: skipped: {target.note}\n")
            continue
        c = _counts(found)
        out.write(
            f"{target.source} [{target.kind}, profile {profile}]: "
            f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
        )
        if target.note:
            out.write(f"  ({target.note})\n")
        for v in found:
            where = f" line {v.line}" if v.line is not None else ""
            out.write(f"  {v.severity:<7} {v.rule:<32} {v.path}{where}: {v.message}  [{v.section}]\n")
    out.write(_tally(results) + "\n")


def _print_json(results: list[tuple[Target, list[Violation]]], profile: str, out: TextIO) -> None:
    total = [v for _t, found in results for v in found]
    doc = {
        "profile": profile,
        "targets": [
            {
                "source": t.source,
                "kind": t.kind,
                "judged": t.kind not in _NOT_JUDGED,
                "note": t.note,
                "violations": [v.to_dict() for v in found],
            }
            for t, found in results
        ],
        "summary": {
            **_counts(total),
            "judged": sum(1 for t, _ in results if t.kind not in _NOT_JUDGED),
            "unjudged": sum(1 for t, _ in results if t.kind == "unjudged"),
            "skipped": sum(1 for t, _ in results if t.kind == "skipped"),
        },
    }
    out.write(json.dumps(doc, indent=2) + "\n")


# --- Subcommands -----------------------------------------------------------------------------


def _add_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="JSON response body, SSE capture, JSONL of events, WebSocket frames as JSONL, or a cassette",
    )
    parser.add_argument("--profile", choices=R.PROFILES, default="openresponses")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--provider",
        default=None,
        help="replay a translated provider's cassette as this provider (default: its metadata's, "
        "else openai_compatible, anthropic or gemini by protocol)",
    )


def _run_validate(args: argparse.Namespace, out: TextIO) -> int:
    results: list[tuple[Target, list[Violation]]] = []
    for path in args.paths:
        for target in load_targets(path):
            results.append((target, judge(target, args.profile, args.provider)))
    (_print_json if args.format == "json" else _print_text)(results, args.profile, out)
    if any(has_errors(found) for _t, found in results):
        return 1
    nothing = all(t.kind in _NOT_JUDGED for t, _ in results)
    return 2 if nothing or any(t.kind == "unjudged" for t, _ in results) else 0


def _add_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _run_rules(args: argparse.Namespace, out: TextIO) -> int:
    rows = R.catalogue()
    if args.format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        out.write(f"{'RULE':<34} {'SEVERITY':<8} {'OPENAI':<8} SUMMARY  [SPEC SECTION]\n")
        for row in rows:
            out.write(
                f"{row['id']:<34} {row['severity']:<8} {row['openai_severity']:<8} "
                f"{row['summary']}  [{row['section']}]\n"
            )
        out.write(f"{len(rows)} rules; severity under the openresponses and openai profiles\n")
    return 0


Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace, TextIO], int], str]

COMMANDS: dict[str, Command] = {
    "validate": (_add_validate, _run_validate, "check captured traffic against the OpenResponses spec"),
    "rules": (_add_rules, _run_rules, "list the validator's rule catalogue"),
    "certify": CERTIFY_COMMAND,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anyllm-conformance", description="OpenResponses conformance tools (anyllm)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, _run, help_text) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv`` and run the subcommand; returns the exit code."""
    args = build_parser().parse_args(argv)
    _add, run, _help = COMMANDS[args.command]
    try:
        return run(args, sys.stdout)
    except BrokenPipeError:  # output piped into `head`: not an error of the input
        return 0


if __name__ == "__main__":
    sys.exit(main())
