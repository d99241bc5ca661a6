"""``anyllm-conformance certify``: run the whole suite live against a provider author's
endpoint and write a signed-off report.

The run records fresh cassettes (record mode ``all``) into the output directory, ignores
baselines (a certificate states what the endpoint does, not what was forgiven), and writes
``certificate.json`` and ``certificate.md``: spec and library versions, date, endpoint,
model, the verdict of every case with its rule ids, the sha256 of every cassette, and a
sha256 digest over all of it, so a reader can check that nothing was edited afterwards.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "CERTIFY_COMMAND",
    "add_certify_arguments",
    "add_certify_parser",
    "run_certify",
    "verify_certificate",
]

HELP = "run the conformance suite live against an endpoint and write a signed-off report"


def add_certify_arguments(parser: argparse.ArgumentParser) -> None:
    from anyllm.providers.registry import list_providers

    parser.add_argument(
        "--provider", required=True, choices=list_providers(), help="protocol/vendor of the endpoint"
    )
    parser.add_argument(
        "--api-base", required=True, help="the endpoint's base URL, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument(
        "--model", default=None, help="model to certify (default: the suite's default for PROVIDER)"
    )
    parser.add_argument(
        "--output", default="anyllm-certification", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--profile", default="auto", choices=("auto", "openresponses", "openai"))
    parser.add_argument("--signed-off-by", default=None, help="who vouches for this run (name <email>)")
    parser.add_argument(
        "-k", dest="keyword", default=None, help="only cases matching this pytest -k expression"
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


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def verify_certificate(certificate: dict[str, Any]) -> bool:
    """True when the certificate's digest matches its content."""
    body = {k: v for k, v in certificate.items() if k != "digest"}
    return certificate.get("digest") == _digest(body)


def _certificate(args: argparse.Namespace, report: dict[str, Any], exit_code: int) -> dict[str, Any]:
    results = [
        {
            "case": r["case"],
            "official": r.get("official"),
            "verdict": r["verdict"],
            "rules": r.get("rules", []),
            "cassette": r.get("cassette"),
            "cassette_sha256": r.get("cassette_sha256"),
        }
        for r in report.get("results", [])
    ]
    counts: dict[str, int] = {}
    for row in results:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    failed = counts.get("failed", 0)
    body = {
        "kind": "anyllm-certificate/1",
        "provider": args.provider,
        "api_base": args.api_base,
        "model": args.model or (report["results"][0].get("model") if report.get("results") else None),
        "spec_version": report.get("spec_version"),
        "library_version": report.get("library_version"),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signed_off_by": args.signed_off_by,
        "verdict": "conformant" if failed == 0 and exit_code in (0, 5) and results else "not conformant",
        "counts": counts,
        "results": results,
    }
    return {**body, "digest": _digest(body)}


def _markdown(cert: dict[str, Any]) -> str:
    lines = [
        f"# anyllm certificate: {cert['provider']} at {cert['api_base']}",
        "",
        f"- verdict: **{cert['verdict']}**",
        f"- model: `{cert['model']}`",
        f"- spec {cert['spec_version']}, anyllm {cert['library_version']}, {cert['date']}",
        f"- signed off by: {cert['signed_off_by'] or '(nobody)'}",
        f"- counts: {', '.join(f'{k} {v}' for k, v in sorted(cert['counts'].items()))}",
        f"- digest (sha256 of the canonical JSON without this field): `{cert['digest']}`",
        "",
        "| case | official | verdict | rules | cassette sha256 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in cert["results"]:
        lines.append(
            f"| `{row['case']}` | {row['official'] or ''} | {row['verdict']} | {', '.join(row['rules'])} | "
            f"{(row['cassette_sha256'] or '')[:16]} |"
        )
    return "\n".join(lines) + "\n"


def run_certify(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the suite live; 0 when every case passed or was unsupported, 1 otherwise."""
    import pytest

    out = out or sys.stdout
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    no_baselines = tempfile.mkdtemp(prefix="anyllm-no-baselines-")
    pytest_args = [
        str(_suite_dir()),
        *_plugin_args(),
        "-p", "no:cacheprovider",
        "-q",
        f"--provider={args.provider}",
        f"--api-base={args.provider}={args.api_base}",
        "--record-mode=all",
        f"--cassette-dir={output / 'cassettes'}",
        f"--baseline-dir={no_baselines}",
        f"--conformance-report={output / 'report'}",
        f"--profile={args.profile}",
        f"--rootdir={output}",
    ]  # fmt: skip
    if args.model:
        pytest_args.append(f"--model={args.provider}={args.model}")
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    exit_code = int(pytest.main(pytest_args))
    report_path = output / "report.json"
    if not report_path.is_file():
        out.write(f"certify: the suite produced no report (pytest exit code {exit_code})\n")
        return 2
    report = json.loads(report_path.read_text(encoding="utf-8"))
    cert = _certificate(args, report, exit_code)
    (output / "certificate.json").write_text(
        json.dumps(cert, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (output / "certificate.md").write_text(_markdown(cert), encoding="utf-8")
    out.write(f"certify: {cert['verdict']} ({cert['counts']}); {output / 'certificate.json'}\n")
    return 0 if cert["verdict"] == "conformant" else 1


def run_certify_command(args: argparse.Namespace, out: TextIO) -> int:
    return run_certify(args, out)


# Fits ``anyllm.testing.cli.COMMANDS`` (add arguments, run, help).
CERTIFY_COMMAND = (add_certify_arguments, run_certify_command, HELP)
