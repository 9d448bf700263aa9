"""``graphtape validate FILE...``: schema findings for cassettes, .http/Markdown documents and JSON bodies."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from graphtape.addons.graph.batch_checks import check_recorded_batch
from graphtape.addons.graph.retry_checks import retry_findings
from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.upload_checks import UploadChecks, check_recorded
from graphtape.addons.graph.validation import (
    validate_interaction,
    validate_request,
    validate_response,
)
from graphtape.cassettes.errors import GraphtapeError, InputError
from graphtape.cassettes.http_documents import parse_http_document
from graphtape.cassettes.model import Headers, InteractionMeta, Request, Response
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.exit_codes import report_exit_code
from graphtape.cli.output.reports import (
    ReportCase,
    report_options,
    write_report,
)

__all__ = ["validate", "validate_paths"]

DEFAULT_BODY_ROUTE = "/v1.0/me/messages/{message-id}/attachments"
_CASSETTE_SUFFIXES = {".yaml", ".yml"}


def _cassette_cases(path: Path) -> list[ReportCase]:
    cassette = load_cassette(path)
    uploads = UploadChecks()  # chunk PUTs are judged against the sessions recorded before them
    retries = retry_findings(cassette.interactions)  # what the sequence shows: early, unsafe or missing retries
    cases: list[ReportCase] = []
    for i, it in enumerate(cassette.interactions):
        chunk_findings = check_recorded(uploads, it)
        if chunk_findings is None:
            chunk_findings = check_recorded_batch(it)
        findings = validate_interaction(it) if chunk_findings is None else chunk_findings
        findings = findings + retries.get(i, [])
        cases.append(ReportCase.of_interaction(
            str(path), f"interactions[{i}] {it.request.method} {urlsplit(it.request.uri).path}", findings, it))
    return cases


def _document_cases(path: Path, text: str) -> list[ReportCase]:
    cases: list[ReportCase] = []
    last_request = None
    for msg in parse_http_document(text):
        headers = {k.lower(): v for k, v in msg.headers}
        if msg.kind == "request":
            route = match_route(msg.method, urlsplit(msg.target).path)
            findings = validate_request(route, msg.method, headers, msg.body)
            cases.append(ReportCase(str(path), f"line {msg.line} request {msg.method} {msg.target}", findings,
                                    request=Request(msg.method, msg.target, Headers(msg.headers), msg.body),
                                    meta=InteractionMeta(route=route.route.name if route else None)))
            last_request = (route, msg)
        else:
            route, request = last_request if last_request else (None, None)
            findings = validate_response(route, msg.status, headers, msg.body, request.body if request else None)
            cases.append(ReportCase(str(path), f"line {msg.line} response {msg.status}", findings,
                                    response=Response(msg.status, "", Headers(msg.headers), msg.body),
                                    meta=InteractionMeta(route=route.route.name if route else None)))
    if not cases:
        raise InputError(f"{path}: no HTTP request or response found (expected ```http blocks or an .http file)")
    return cases


def _body_cases(path: Path, raw: bytes, route_path: str) -> list[ReportCase]:
    route = match_route("POST", route_path)
    findings = validate_request(route, "POST", {"content-type": "application/json"}, raw)
    request = Request("POST", route_path, Headers.of({"Content-Type": "application/json"}), raw)
    return [ReportCase(str(path), f"request body (as POST {route_path})", findings, request=request,
                       meta=InteractionMeta(route=route.route.name if route else None))]


def _cases_for(path: Path, route_path: str) -> list[ReportCase]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [ReportCase(str(path), "(file)", error=f"cannot be read: {exc.strerror or exc}")]
    try:
        if path.suffix.lower() in _CASSETTE_SUFFIXES:
            return _cassette_cases(path)
        stripped = raw.lstrip()
        if stripped[:1] in (b"{", b"["):
            return _body_cases(path, raw, route_path)
        return _document_cases(path, raw.decode("utf-8", "replace"))
    except (GraphtapeError, OSError) as exc:  # one unreadable input is reported; the others are still checked
        return [ReportCase(str(path), "(file)", error=str(exc))]


def validate_paths(paths: list[Path], route_path: str = DEFAULT_BODY_ROUTE) -> list[ReportCase]:
    cases: list[ReportCase] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _CASSETTE_SUFFIXES)
            if not files:
                cases.append(ReportCase(str(path), "(folder)", error=f"{path}: no .yaml cassettes in this folder"))
            for f in files:
                cases.extend(_cases_for(f, route_path))
        elif not path.exists():
            cases.append(ReportCase(str(path), "(file)", error=f"{path}: no such file"))
        else:
            cases.extend(_cases_for(path, route_path))
    return cases


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@report_options
@click.option("--route", "route_path", default=DEFAULT_BODY_ROUTE, show_default=True,
              help="Route assumed for bare JSON bodies.")
def validate(files: tuple[Path, ...], fmt: str, route_path: str, output: Path | None, colour: bool | None) -> None:
    """Check cassettes, .http/Markdown HTTP examples or JSON bodies against Graph's documented schema.

    Exit 0 when clean, 1 on an error-level finding, 2 when an input cannot be read.
    """
    cases = validate_paths(list(files), route_path)
    write_report(cases, fmt, "graphtape validate", output, colour)
    sys.exit(report_exit_code(cases))


