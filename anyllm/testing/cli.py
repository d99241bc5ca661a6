"""``anyllm-conformance``: command-line front end of the conformance tools.

Subcommands are registered in :data:`COMMANDS` (name -> (add_arguments, run)), so a new one
(``certify``) is one function pair and one entry. ``validate`` reads JSON response bodies,
raw SSE captures, JSONL event logs and vcrpy cassettes, prints the violations and exits 1
when any is an error. Broken input is reported as a violation with its position, never as
a traceback.
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
    validate_request,
    validate_response,
    validate_stream,
)

__all__ = ["COMMANDS", "Target", "build_parser", "load_targets", "main"]


@dataclass
class Target:
    """One thing to judge: a response body, a stream or a request, and where it came from."""

    source: str
    kind: str  # "response" | "stream" | "request" | "input"
    payload: Any = None
    content_type: str | None = None
    status: int | None = None
    request: Any = None
    violations: list[Violation] = field(default_factory=list)


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

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [_malformed(str(path), f"not a YAML cassette: {getattr(exc, 'problem', exc)}", line)]
    interactions = doc.get("interactions") if isinstance(doc, dict) else None
    if not isinstance(interactions, list):
        return [_malformed(str(path), "YAML without an `interactions` list: not a vcrpy cassette")]
    targets: list[Target] = []
    for i, inter in enumerate(interactions):
        if not isinstance(inter, dict):
            targets.append(_malformed(f"{path}#interaction{i}", "interaction is not a mapping"))
            continue
        req = inter.get("request") or {}
        uri = str(req.get("uri", ""))
        if not uri.split("?", 1)[0].rstrip("/").endswith("/responses"):
            continue
        source = f"{path}#interaction{i} {req.get('method', '')} {uri}".rstrip()
        request: Any = None
        req_body = req.get("body")
        if isinstance(req_body, dict):
            req_body = req_body.get("string")
        if isinstance(req_body, (str, bytes)) and req_body:
            try:
                request = json.loads(req_body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                request = None
        if isinstance(request, dict):
            targets.append(Target(source + " (request)", "request", request))
        resp = inter.get("response") or {}
        status_obj = resp.get("status")
        status = status_obj.get("code") if isinstance(status_obj, dict) else status_obj
        headers = resp.get("headers")
        data, problem = _decode_body(resp.get("body"), _header(headers, "content-encoding"))
        if data is None:
            targets.append(_malformed(source, problem or "undecodable body"))
            continue
        targets.append(
            _body_target(
                source,
                data,
                _header(headers, "content-type"),
                status if isinstance(status, int) else None,
                request,
            )
        )
    return targets


def _load_jsonl(path: Path, text: str) -> list[Target]:
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


def judge(target: Target, profile: R.Profile) -> list[Violation]:
    """Run the validator that fits the target."""
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
    else:
        found = []
    return target.violations + found


# --- Output ----------------------------------------------------------------------------------


def _counts(violations: list[Violation]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for v in violations:
        out[v.severity] += 1
    return out


def _print_text(results: list[tuple[Target, list[Violation]]], profile: str, out: TextIO) -> None:
    total: list[Violation] = []
    for target, found in results:
        total.extend(found)
        c = _counts(found)
        out.write(
            f"{target.source} [{target.kind}, profile {profile}]: "
            f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
        )
        for v in found:
            where = f" line {v.line}" if v.line is not None else ""
            out.write(f"  {v.severity:<7} {v.rule:<32} {v.path}{where}: {v.message}  [{v.section}]\n")
    c = _counts(total)
    out.write(
        f"{len(results)} target(s): {c['error']} error(s), {c['warning']} warning(s), {c['info']} info\n"
    )


def _print_json(results: list[tuple[Target, list[Violation]]], profile: str, out: TextIO) -> None:
    total = [v for _t, found in results for v in found]
    doc = {
        "profile": profile,
        "targets": [
            {"source": t.source, "kind": t.kind, "violations": [v.to_dict() for v in found]}
            for t, found in results
        ],
        "summary": _counts(total),
    }
    out.write(json.dumps(doc, indent=2) + "\n")


# --- Subcommands -----------------------------------------------------------------------------


def _add_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="JSON response body, SSE capture, JSONL of events or vcrpy cassette",
    )
    parser.add_argument("--profile", choices=R.PROFILES, default="openresponses")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _run_validate(args: argparse.Namespace, out: TextIO) -> int:
    results: list[tuple[Target, list[Violation]]] = []
    for path in args.paths:
        for target in load_targets(path):
            results.append((target, judge(target, args.profile)))
    (_print_json if args.format == "json" else _print_text)(results, args.profile, out)
    return 1 if any(has_errors(found) for _t, found in results) else 0


def _add_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _run_rules(args: argparse.Namespace, out: TextIO) -> int:
    rows = R.catalogue()
    if args.format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            out.write(
                f"{row['id']:<34} {row['severity']:<7} openai:{row['openai_severity']:<7} "
                f"{row['summary']}  [{row['section']}]\n"
            )
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
