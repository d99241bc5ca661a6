"""``anyllm-conformance certify``: run the whole suite live against a server author's
endpoint and write a certificate they can trust; ``certify verify CERT`` re-checks one.

The run records fresh cassettes (record mode ``all``) into the output directory, ignores
baselines (a certificate states what the endpoint does, not what was forgiven), judges the
raw wire of every exchange (every event, every rule; the case checks on what arrived, even
when anyllm's own client refused a reply: :mod:`anyllm.testing.wire_view`), and writes
``certificate.json`` and ``certificate.md`` (:mod:`anyllm.testing.certify_cert`).

What the endpoint can do is declared, not assumed: ``--capabilities`` (a comma list of
capability flags: the others are undeclared and their cases "unsupported"), or ``--target``
(a target of a target file, with its capabilities, started by the harness when it says how),
else the registry's defaults for ``--provider`` (said so in the certificate).

The console gets the de-duplicated deviations, each once with the cases it breaks, the
consequences apart, the client-only cases, the spec areas not covered, then the verdict.
pytest's own output (tracebacks) goes to ``pytest.log`` in the output directory; ``-v``
shows it live instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from anyllm.testing.certify_cert import (
    build_certificate,
    certify_verdict,
    check_cassettes,
    consequence_lines,
    deviation_lines,
    markdown,
    verify_certificate,
)

__all__ = [
    "CERTIFY_COMMAND",
    "add_certify_arguments",
    "add_certify_parser",
    "run_certify",
    "run_verify",
    "verify_certificate",
]

HELP = (
    "run the conformance suite live against an endpoint and write a certificate (verify CERT: re-check one)"
)
CASES_SHOWN = 6  # case names per deviation on the console (the certificate lists all)


class CertifyUsageError(ValueError):
    """Arguments certify cannot run with (exit status 2)."""


def add_certify_arguments(parser: argparse.ArgumentParser) -> None:
    from anyllm.providers.registry import list_providers

    parser.add_argument("action", nargs="?", choices=("verify",), help="verify CERT: re-check a certificate")
    parser.add_argument("certificate", nargs="?", help="(verify) the certificate.json to re-check")
    parser.add_argument("--provider", choices=list_providers(), help="protocol/vendor of the endpoint")
    parser.add_argument(
        "--target", default=None, help="a named target of the target file (its provider and capabilities)"
    )
    parser.add_argument("--targets-file", default=None, help="the target file (default: the suites' own)")
    parser.add_argument(
        "--api-base", default=None, help="the endpoint's base URL, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument("--model", default=None, help="model to certify (default: the suite's default)")
    parser.add_argument(
        "--capabilities",
        default=None,
        help="what the endpoint and its model can do, a comma list (e.g. streaming,tools,json_schema; "
        "'none'): cases needing anything else are unsupported",
    )
    parser.add_argument(
        "--output", default="anyllm-certification", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--profile", default="auto", choices=("auto", "openresponses", "openai"))
    parser.add_argument("--signed-off-by", default=None, help="who vouches for this run (name <email>)")
    parser.add_argument(
        "-k", dest="keyword", default=None, help="only cases matching this pytest -k expression"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output (tracebacks) live")
    parser.add_argument(
        "--no-replay", action="store_true", help="(verify) check the digest and cassette hashes only"
    )


def add_certify_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``certify`` to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser("certify", help=HELP, description=HELP)
    add_certify_arguments(parser)
    return parser


def _suite_dir() -> Path:
    import conformance

    return Path(conformance.__file__).resolve().parent


def _plugin_args() -> list[str]:
    from importlib.metadata import entry_points

    installed = any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "anyllm.testing.plugin"]


# -- what is certified ------------------------------------------------------------------------


def _flags() -> tuple[str, ...]:
    from anyllm.testing.targets import CAPABILITY_FLAGS

    return tuple(CAPABILITY_FLAGS)


def parse_capabilities(text: str) -> list[str]:
    """``streaming,tools`` -> the flags; 'none' -> []. Unknown names: CertifyUsageError."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in _flags()]
    if unknown:
        raise CertifyUsageError(
            f"--capabilities: unknown {', '.join(unknown)}; known: {', '.join(_flags())}, none"
        )
    return list(dict.fromkeys(names))


def _plan(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The column to run, its provider, the target file to run it with, and the capabilities
    it declares (with where they come from)."""
    from anyllm.testing.targets import TargetError, column_metadata, load_targets

    declared = parse_capabilities(args.capabilities) if args.capabilities is not None else None
    if args.target:
        try:
            targets = load_targets(Path(args.targets_file) if args.targets_file else None)
        except TargetError as exc:
            raise CertifyUsageError(str(exc)) from None
        spec = targets.targets.get(args.target)
        if spec is None:
            raise CertifyUsageError(f"--target {args.target!r} is not a target of {targets.path}")
        if args.provider and args.provider != spec.provider:
            raise CertifyUsageError(
                f"--target {args.target} speaks {spec.provider}, not --provider {args.provider}"
            )
        column, provider, path = args.target, spec.provider, targets.path
        address = spec.api_base if spec.serves == "url" else None
        source = f"target {args.target} ({targets.path.name})"
        if declared is not None:
            path, source = _with_capabilities(targets.path, args.target, declared, workdir), "--capabilities"
        meta = column_metadata(column, load_targets(path).targets)
    else:
        if not args.provider or not args.api_base:
            raise CertifyUsageError("certify needs --provider and --api-base (or --target NAME)")
        column = provider = args.provider
        path, address = None, None
        if declared is not None:
            path = _endpoint_target(provider, declared, workdir, args.model)
            source = "--capabilities"
            meta = column_metadata(column, load_targets(path).targets)
        else:
            from anyllm.providers.registry import provider_metadata

            meta = provider_metadata(provider)
            source = f"registry defaults of {provider} (declare yours with --capabilities)"
    have = [flag for flag in _flags() if getattr(meta, flag, False)]
    return {
        "column": column,
        "provider": provider,
        "targets_file": path,
        "address": args.api_base or address,
        "capabilities": {
            "declared": have,
            "undeclared": [flag for flag in _flags() if flag not in have],
            "source": source,
        },
    }


def _endpoint_target(provider: str, declared: list[str], workdir: Path, model: str | None) -> Path:
    """A target file naming the endpoint as column ``provider`` with exactly ``declared``
    (its URL comes from --api-base: the file holds no address, no password)."""
    import yaml

    caps = {flag: flag in declared for flag in _flags()}
    doc = {
        "version": 1,
        "targets": {
            provider: {
                "provider": provider,
                "title": f"the endpoint certified as {provider}",
                "serves": "url",
                "api_base": "http://127.0.0.1:9",  # --api-base=PROVIDER=URL overrides it
                "model": model or "default",  # --model, or the recorded one on replay, overrides it
                "capabilities": caps,
                "provenance": {"package": "unspecified"},
            }
        },
    }
    path = workdir / "certify-targets.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _with_capabilities(source: Path, name: str, declared: list[str], workdir: Path) -> Path:
    """A copy of a target file whose target ``name`` declares exactly ``declared``."""
    import yaml

    from anyllm.testing.cassettes import load_yaml

    doc = load_yaml(source.read_text(encoding="utf-8"))
    doc["targets"][name]["capabilities"] = {flag: flag in declared for flag in _flags()}
    path = workdir / "certify-targets.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# -- running the suite -------------------------------------------------------------------------


def _pytest_args(
    plan: Mapping[str, Any], args: argparse.Namespace, output: Path, *, replay: bool
) -> list[str]:
    column = plan["column"]
    chosen = f"--target={column}" if column != plan["provider"] else f"--provider={column}"
    out = [
        str(_suite_dir()),
        *_plugin_args(),
        "-p", "no:cacheprovider",
        "-v" if args.verbose else "-q",
        "--tb=long" if args.verbose else "--tb=short",
        "--wire-fallback",  # the case checks judge what arrived, even what anyllm refused
        chosen,
        f"--record-mode={'none' if replay else 'all'}",
        f"--cassette-dir={output / 'cassettes'}",
        f"--baseline-dir={tempfile.mkdtemp(prefix='anyllm-no-baselines-')}",
        f"--conformance-report={output / 'report'}",
        f"--profile={args.profile}",
        f"--rootdir={output}",
    ]  # fmt: skip
    if plan["targets_file"] is not None:
        out.append(f"--targets-file={plan['targets_file']}")
    if args.api_base and not replay:
        out.append(f"--api-base={column}={args.api_base}")
    if args.model and not replay:
        out.append(f"--model={column}={args.model}")
    if args.keyword:
        out += ["-k", args.keyword]
    return out


def _run_pytest(pytest_args: list[str], log: Path, verbose: bool) -> int:
    """pytest in a child process: its output to ``log`` (scrubbed by the plugin), or live."""
    command = [sys.executable, "-m", "pytest", *pytest_args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if verbose:
        return subprocess.run(command, env=env, check=False).returncode
    with log.open("wb") as out:
        return subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def _run_info(args: argparse.Namespace, plan: Mapping[str, Any]) -> dict[str, Any]:
    from anyllm.testing.redact import redact_url

    return {
        "provider": plan["provider"],
        "target": args.target,
        # A password or key= in it is not for the record.
        "api_base": redact_url(plan["address"])
        if plan.get("address")
        else f"(started by the harness: target {args.target})",
        "model": args.model,
        "profile": args.profile,
        "signed_off_by": args.signed_off_by,
        "selection": args.keyword,  # -k: the cases run (verify replays the same)
        "capabilities": plan["capabilities"],
    }


def run_certify(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the suite live; 0 when conformant, 1 when not (or incomplete), 2 on a usage error
    or when the suite produced no report."""
    out = out or sys.stdout
    if getattr(args, "action", None) == "verify":
        return run_verify(args, out)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="anyllm-certify-"))
    try:
        plan = _plan(args, work)
    except CertifyUsageError as exc:
        out.write(f"certify: {exc}\n")
        return 2
    log = output / "pytest.log"
    where = "" if args.verbose else f"; pytest's output: {log} (-v to show it)"
    out.write(f"certify: running the conformance suite against {_run_info(args, plan)['api_base']}{where}\n")
    out.flush()
    exit_code = _run_pytest(_pytest_args(plan, args, output, replay=False), log, args.verbose)
    report_path = output / "report.json"
    if not report_path.is_file():
        out.write(f"certify: the suite produced no report (pytest exit code {exit_code}); see {log}\n")
        return 2
    report = json.loads(report_path.read_text(encoding="utf-8"))
    cert = build_certificate(_run_info(args, plan), report, exit_code)
    (output / "certificate.json").write_text(
        json.dumps(cert, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (output / "certificate.md").write_text(markdown(cert), encoding="utf-8")
    out.write(console(cert, output / "certificate.json"))
    return 0 if cert["verdict"] == "conformant" else 1


def console(cert: Mapping[str, Any], path: Path) -> str:
    """What certify prints: deviations (each once, with the cases it breaks), consequences,
    client-only cases, undeclared capabilities, areas not covered, then the verdict."""
    counts = cert.get("counts") or {}
    results = cert.get("results") or []
    exercised = counts.get("passed", 0) + counts.get("failed", 0)
    what = f"target {cert['target']} ({cert['provider']})" if cert.get("target") else cert["provider"]
    lines = [
        f"certify: {what} at {cert['api_base']}, model {cert.get('model')}, "
        f"spec {cert.get('spec_version')}, anyllm {cert.get('library_version')}",
        f"  {exercised} case(s) exercised the server: {counts.get('passed', 0)} passed, "
        f"{counts.get('failed', 0)} failed",
    ]
    client_only = [r["case"] for r in results if r["verdict"] == "client-only"]
    if client_only:
        lines.append(
            f"  {len(client_only)} client-only (no request reached the server; not counted): "
            + ", ".join(client_only)
        )
    unsupported = [r["case"] for r in results if r["verdict"] == "unsupported"]
    caps = cert.get("capabilities") or {}
    if unsupported or caps.get("undeclared"):
        lines.append(
            f"  {len(unsupported)} unsupported: capabilities not declared: "
            f"{', '.join(caps.get('undeclared') or []) or 'none'} (declared: {caps.get('source')})"
        )
    not_recorded = [r["case"] for r in results if r["verdict"] == "not_recorded"]
    if not_recorded:
        lines.append(f"  {len(not_recorded)} could not run: {', '.join(not_recorded)}")
    devs = cert.get("deviations") or []
    lines += ["", f"deviations: {len(devs)} distinct, each once with the cases it breaks"]
    lines += deviation_lines(cert, limit=CASES_SHOWN, bullet="  ") or ["  none"]
    if cert.get("consequences"):
        lines += ["", "consequences of the deviations above (not counted as findings):"]
        lines += consequence_lines(cert, limit=CASES_SHOWN)
    missing = (cert.get("areas") or {}).get("not_covered") or []
    if missing:
        lines += ["", "spec areas not covered by this certificate:"]
        lines += [f"  - {a['title']}: {a['why']}" for a in missing]
    lines += ["", f"verdict: {str(cert['verdict']).upper()}; certificate: {path}"]
    return "\n".join(lines) + "\n"


# -- certify verify ------------------------------------------------------------------------------


def _replay_plan(cert: Mapping[str, Any], work: Path) -> dict[str, Any]:
    """Replay what a certificate certified: its column, provider and declared capabilities."""
    column = cert.get("target") or cert.get("provider")
    declared = list((cert.get("capabilities") or {}).get("declared") or [])
    path = _endpoint_target(str(cert.get("provider")), declared, work, cert.get("model"))
    if column != cert.get("provider"):
        import yaml

        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["targets"] = {column: doc["targets"][cert["provider"]]}
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return {"column": column, "provider": cert.get("provider"), "targets_file": path}


def _replayed(cert: Mapping[str, Any], base: Path, verbose: bool) -> tuple[list[str], int]:
    """Replay the certificate's cassettes through the suite; the differences from what it says."""
    work = Path(tempfile.mkdtemp(prefix="anyllm-verify-"))
    plan = _replay_plan(cert, work)
    output = work / "replay"
    output.mkdir()
    (output / "cassettes").symlink_to((base / "cassettes").resolve(), target_is_directory=True)
    options = argparse.Namespace(
        target=None,
        api_base=None,
        model=None,
        keyword=cert.get("selection"),
        verbose=verbose,
        profile=cert.get("profile") or "auto",
    )
    _run_pytest(_pytest_args(plan, options, output, replay=True), work / "pytest.log", verbose)
    report = output / "report.json"
    if not report.is_file():
        return [f"the replay produced no report (see {work / 'pytest.log'})"], 0
    rows = {str(r["case"]): r for r in json.loads(report.read_text(encoding="utf-8")).get("results") or []}
    problems, replayed = [], 0
    for result in cert.get("results") or []:
        case = str(result.get("case"))
        row = rows.get(case)
        if row is None:
            problems.append(f"{case}: not replayed")
            continue
        replayed += 1
        verdict = certify_verdict(row)
        if verdict != result.get("verdict") or list(row.get("rules") or []) != list(
            result.get("rules") or []
        ):
            problems.append(
                f"{case}: certified {result.get('verdict')} {result.get('rules')}, "
                f"replayed {verdict} {row.get('rules')}"
            )
    return problems, replayed


def run_verify(args: argparse.Namespace, out: TextIO) -> int:
    """``certify verify CERT``: the digest, every cassette's sha256, then (unless
    ``--no-replay``) the cassettes replayed through the suite give the certified verdicts and
    rules. 0 when everything holds, 1 when something does not, 2 when CERT is unreadable."""
    if not args.certificate:
        out.write("certify verify: name the certificate.json to check\n")
        return 2
    path = Path(args.certificate)
    try:
        cert = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        out.write(f"certify verify: cannot read {path}: {exc}\n")
        return 2
    if not isinstance(cert, dict) or "results" not in cert:
        out.write(f"certify verify: {path} is not an anyllm certificate\n")
        return 2
    problems = [] if verify_certificate(cert) else ["the digest does not match the content: it was edited"]
    problems += check_cassettes(cert, path.parent)
    replayed = 0
    if not args.no_replay and not problems:
        found, replayed = _replayed(cert, path.parent, bool(args.verbose))
        problems += found
    for problem in problems:
        out.write(f"certify verify: {problem}\n")
    if problems:
        out.write(f"certify verify: {path} does NOT hold ({len(problems)} problem(s))\n")
        return 1
    checked = sum(1 for r in cert["results"] if r.get("cassette"))
    again = f"; {replayed} case(s) replayed with the certified verdicts and rules" if replayed else ""
    out.write(f"certify verify: {path} holds: digest ok, {checked} cassette(s) unchanged{again}\n")
    return 0


def run_certify_command(args: argparse.Namespace, out: TextIO) -> int:
    return run_certify(args, out)


# Kept for callers of the first certificate API.
def _certificate(args: argparse.Namespace, report: dict[str, Any], exit_code: int) -> dict[str, Any]:
    from anyllm.testing.redact import redact_url

    run = {
        "provider": args.provider,
        "target": getattr(args, "target", None),
        "api_base": redact_url(args.api_base),
        "model": args.model,
        "signed_off_by": args.signed_off_by,
    }
    return build_certificate(run, report, exit_code)


def _markdown(cert: dict[str, Any]) -> str:
    return markdown(cert)


# Fits ``anyllm.testing.cli.COMMANDS`` (add arguments, run, help).
CERTIFY_COMMAND = (add_certify_arguments, run_certify_command, HELP)
