"""``graphtape import`` (HAR or mitmproxy flow file -> cassette) and ``graphtape export``
(cassette -> HAR and/or mitmproxy flow file).

Import takes the same steps as a live recording: it keeps attachment-creating calls (and
upload-session chunk PUTs) unless the scope is ``all``, validates request and response
(the findings go with the interaction), and redacts secrets with the same Redactor, so an
imported cassette replays exactly like a recorded one. A flow file graphtape exported
carries each interaction's own data (route, recorded time, findings, upload-session place);
import keeps that data for every flow still as exported.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click

from graphtape.addons.graph.scope import in_scope, route_of, upload_chunk_of
from graphtape.addons.graph.upload_checks import UploadChecks, check_recorded
from graphtape.addons.graph.upload_urls import UPLOAD_ROUTE_NAME, UPLOAD_ROUTE_TEMPLATE
from graphtape.cassettes.errors import CaptureFormatError, CassetteExistsError, CassetteFormatError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.har import Exchange, read_har
from graphtape.cassettes.model import Cassette, Interaction, InteractionMeta
from graphtape.cassettes.redaction import Redactor
from graphtape.cassettes.safe_files import open_regular
from graphtape.cassettes.serialization import interaction_from_data, interaction_to_data, load_cassette
from graphtape.cassettes.storage import CassetteLock, save_cassette, write_atomic

__all__ = ["export", "import_capture", "interactions_from_exchanges", "read_capture"]


def _graphtape_version() -> str:
    try:
        return version("graphtape")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def read_capture(path: Path) -> list[Exchange]:
    """A HAR file (JSON, told by its first byte) or a mitmproxy flow file."""
    with open_regular(path, lambda problem: CaptureFormatError(path, "", problem)) as fh:
        head = fh.read(64).lstrip()
    if head.startswith(b"{"):
        return read_har(path)
    from graphtape.addons.proxy.flow_files import read_flow_file

    return read_flow_file(path)


def interactions_from_exchanges(exchanges: list[Exchange], scope: str, redactor: Redactor,
                                source: str = "") -> tuple[list[Interaction], int]:
    """The in-scope exchanges as redacted, then validated interactions, and how many were out of scope.

    Redaction comes first, as when recording: a finding quotes what it saw, so it must see
    only what the cassette will hold. Chunk PUTs are checked against the upload sessions
    created before them, as ``graphtape validate`` does. An exchange that carries graphtape's
    own data (a flow file graphtape exported) keeps it when redaction changed nothing, its
    texts scrubbed all the same (a carried finding is input like any other). Each interaction
    is then read back the way a cassette is loaded, so import never writes what replay would
    refuse (CaptureFormatError names the entry).
    """
    from graphtape.addons.graph.validation import validate_interaction

    uploads = UploadChecks()
    kept: list[Interaction] = []
    for n, ex in enumerate(exchanges):
        route = route_of(ex.request.method, ex.request.uri)
        chunk = upload_chunk_of(ex.request.method, ex.request.uri) is not None
        if not (in_scope(scope, route) or chunk):
            continue
        request, response = redactor.request(ex.request), redactor.response(ex.response)
        redacted = Interaction(request=request, response=response, meta=InteractionMeta(recorded_at=ex.started))
        chunk_findings = check_recorded(uploads, redacted)
        meta = ex.meta
        if meta is not None and (request, response) == (ex.request, ex.response):
            meta = replace(meta, findings=tuple(_scrubbed(f, redactor) for f in meta.findings))
        else:
            findings = validate_interaction(redacted) if chunk_findings is None else chunk_findings
            meta = InteractionMeta(
                route=route.route.name if route else (UPLOAD_ROUTE_NAME if chunk else None),
                route_template=route.route.template if route else (UPLOAD_ROUTE_TEMPLATE if chunk else None),
                recorded_at=ex.started, findings=tuple(findings))
        interaction = Interaction(request=request, response=response, meta=meta)
        where = ex.where or f"exchange {n}"
        try:
            interaction_from_data(interaction_to_data(interaction), where, source)
        except CassetteFormatError as exc:
            raise CaptureFormatError(source, where, f"cannot be replayed: {exc.problem} "
                                     f"({exc.where.removeprefix(where).lstrip('.') or 'the entry'})") from None
        kept.append(interaction)
    return kept, len(exchanges) - len(kept)


def _scrubbed(finding: Finding, redactor: Redactor) -> Finding:
    return replace(finding, expected=redactor.scrub_text(finding.expected), seen=redactor.scrub_text(finding.seen),
                   message=redactor.scrub_text(finding.message))


@click.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cassette file to write.")
@click.option("--scope", type=click.Choice(["attachments", "all"]), default="attachments", show_default=True,
              help="attachments: keep attachment-creating calls only; all: keep every answered request.")
@click.option("--append", is_flag=True, help="Add to an existing cassette instead of refusing to touch it.")
@click.option("--redact-header", multiple=True, help="Extra header to redact (repeatable).")
@click.option("--redact-query", multiple=True, help="Extra query parameter to redact (repeatable).")
@click.option("--redact-field", "redact_fields", multiple=True, help="Extra JSON/form body field to redact.")
def import_capture(source: Path, cassette: Path, scope: str, append: bool, redact_header: tuple[str, ...],
                   redact_query: tuple[str, ...], redact_fields: tuple[str, ...]) -> None:
    """Make a cassette from SOURCE: a HAR file or a mitmproxy flow file (mitmdump -w, mitmweb)."""
    redactor = Redactor.with_extra(redact_header, redact_query, redact_fields)
    imported, skipped = interactions_from_exchanges(read_capture(source), scope, redactor, str(source))
    with CassetteLock(cassette):
        if cassette.exists() and not append:
            raise CassetteExistsError(f"{cassette} exists; pass --append to add to it, or choose another file")
        base = load_cassette(cassette) if cassette.exists() else Cassette()
        base.interactions.extend(imported)
        save_cassette(cassette, base)
    findings = Counter(f.severity.value for i in imported for f in i.meta.findings)
    click.echo(f"graphtape import: {len(imported)} interactions from {source} into {cassette}"
               f" ({skipped} out of scope left out); findings: {findings['error']} error, "
               f"{findings['warning']} warning, {findings['info']} info")


@click.command()
@click.option("--cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Cassette to export.")
@click.option("--har", "har_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HAR 1.2 file to write (opens in a browser's network panel and in mitmweb).")
@click.option("--mitm", "mitm_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="mitmproxy flow file to write (mitmweb -r, mitmdump -r), each flow marked and commented "
                   "with its findings.")
def export(cassette: Path, har_path: Path | None, mitm_path: Path | None) -> None:
    """Write CASSETTE's interactions as a HAR 1.2 file (--har) and/or a mitmproxy flow file (--mitm)."""
    if har_path is None and mitm_path is None:
        raise click.UsageError("give --har FILE, --mitm FILE or both")
    loaded = load_cassette(cassette)
    if har_path is not None:
        from graphtape.cassettes.har import cassette_to_har

        document = cassette_to_har(loaded, _graphtape_version())
        har_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(har_path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        click.echo(f"graphtape export: {len(document['log']['entries'])} interactions from {cassette} to {har_path}")
    if mitm_path is not None:
        from graphtape.addons.proxy.flow_files import write_flow_file

        count = write_flow_file(mitm_path, loaded, str(cassette))
        click.echo(f"graphtape export: {count} interactions from {cassette} to {mitm_path}")
