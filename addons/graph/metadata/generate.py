"""Generate graphtape's Graph data files from Microsoft's CSDL metadata.

    python -m graphtape.addons.graph.metadata.generate --csdl DIR [--out DIR]
        [--commit SHA] [--repository OWNER/NAME]

``DIR`` (default: the ``GRAPHTAPE_GRAPH_METADATA`` environment variable) holds the
files published in Microsoft's ``msgraph-metadata`` repository:

- ``v1.0.csdl.xml`` (required) -> ``v1.0.json``
- ``beta.csdl.xml``, or else ``beta-usnat.csdl.xml`` (the beta schema of the USNat
  cloud), when present -> ``beta.json``

Each data file records where it came from: the repository and commit (read from the
``README.md`` in ``DIR``, or given with ``--commit``/``--repository``), the file name,
its path upstream and the SHA-256 of its bytes. Output is deterministic: the same
input gives the same bytes, so the committed files can be checked by regenerating.
``--out`` defaults to the package's own ``data`` folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphtape.addons.graph.metadata.csdl import read_csdl
from graphtape.addons.graph.metadata.derive import derive
from graphtape.addons.graph.metadata.errors import GraphMetadataError
from graphtape.addons.graph.metadata.jsonfmt import dumps

__all__ = ["ENV_VAR", "INPUTS", "SourceNotes", "data_dir", "generate", "main", "read_source_notes"]

ENV_VAR = "GRAPHTAPE_GRAPH_METADATA"
# API version -> the CSDL file names that serve it, preferred first.
INPUTS: dict[str, tuple[str, ...]] = {
    "v1.0": ("v1.0.csdl.xml",),
    "beta": ("beta.csdl.xml", "beta-usnat.csdl.xml"),
}
_COMMIT = re.compile(r"\bcommit\s+([0-9a-f]{40})\b(?:\s*\((\d{4}-\d{2}-\d{2})\))?", re.IGNORECASE)
_REPOSITORY = re.compile(r"\b(microsoftgraph/[\w.-]+)")
_TABLE_ROW = re.compile(r"^\|\s*([^|\s]+\.(?:xml|csdl))\s*\|\s*([^|]+?)\s*\|\s*([^|]*?)\s*\|\s*$", re.MULTILINE)


@dataclass(frozen=True)
class SourceNotes:
    """What the metadata folder's README says about where its files come from."""

    repository: str | None = None
    commit: str | None = None
    commit_date: str | None = None
    # local file name -> (path in the upstream repository, what the README says it is)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)


def data_dir() -> Path:
    """The package's data folder, where the committed data files live."""
    return Path(__file__).resolve().parent / "data"


def read_source_notes(csdl_dir: Path) -> SourceNotes:
    """Provenance from ``csdl_dir/README.md``; empty notes when there is no README."""
    readme = csdl_dir / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SourceNotes()
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphMetadataError(readme, "", f"cannot be read ({exc})") from None
    commit = _COMMIT.search(text)
    repository = _REPOSITORY.search(text)
    # The table's last column says what a file is, then (after a colon) how to use it:
    # the data keeps the first part.
    files = {
        local: (upstream.strip("` "), " ".join(re.split(r"[:;]\s", description, maxsplit=1)[0].split()))
        for local, upstream, description in _TABLE_ROW.findall(text)
    }
    return SourceNotes(
        repository=repository.group(1) if repository else None,
        commit=commit.group(1) if commit else None,
        commit_date=commit.group(2) if commit else None,
        files=files,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source(path: Path, notes: SourceNotes, commit: str | None, repository: str | None) -> dict[str, Any]:
    commit = commit or notes.commit
    repository = repository or notes.repository
    if commit is None:
        raise GraphMetadataError(
            path.parent / "README.md",
            "",
            "no metadata commit found (a line 'commit <40 hex digits>'); pass --commit",
        )
    source: dict[str, Any] = {
        "repository": repository,
        "commit": commit,
        "file": path.name,
        "sha256": _sha256(path),
    }
    if notes.commit_date and commit == notes.commit:
        source["commit_date"] = notes.commit_date
    upstream = notes.files.get(path.name)
    if upstream is not None:
        source["upstream_file"], source["description"] = upstream
    return source


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise GraphMetadataError(path, "", f"cannot be written ({exc.strerror or exc})") from None


def generate(
    csdl_dir: Path,
    out_dir: Path,
    *,
    commit: str | None = None,
    repository: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Read the CSDL files in ``csdl_dir`` and write one data file per API version to
    ``out_dir``; returns the data written, by API version."""
    if not csdl_dir.is_dir():
        raise GraphMetadataError(csdl_dir, "", "not a folder (expected the CSDL metadata folder)")
    notes = read_source_notes(csdl_dir)
    written: dict[str, dict[str, Any]] = {}
    for api_version, names in INPUTS.items():
        path = next((csdl_dir / name for name in names if (csdl_dir / name).is_file()), None)
        if path is None:
            if api_version == "v1.0":
                raise GraphMetadataError(csdl_dir / names[0], "", "file not found")
            continue
        data = derive(read_csdl(path), api_version, _source(path, notes, commit, repository))
        _write_atomically(out_dir / f"{api_version}.json", dumps(data))
        written[api_version] = data
    return written


def _summary(api_version: str, data: dict[str, Any]) -> str:
    operations: dict[str, int] = {}
    for route in data["routes"]:
        operations[route["operation"]] = operations.get(route["operation"], 0) + 1
    counts = ", ".join(f"{count} {operation}" for operation, count in sorted(operations.items()))
    return (
        f"{api_version}: {len(data['types'])} types, routes: {counts}, "
        f"{len(data['inline_carriers'])} inline carriers (from {data['source']['file']})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graphtape.addons.graph.metadata.generate",
        description="Generate graphtape's Graph schema and route data from Microsoft's CSDL.",
    )
    parser.add_argument(
        "--csdl",
        type=Path,
        default=os.environ.get(ENV_VAR) or None,
        help=f"folder holding v1.0.csdl.xml (and a beta file); default: ${ENV_VAR}",
    )
    parser.add_argument("--out", type=Path, default=data_dir(), help="output folder (default: %(default)s)")
    parser.add_argument("--commit", help="metadata repository commit (default: read from DIR/README.md)")
    parser.add_argument("--repository", help="metadata repository, owner/name (default: read from DIR/README.md)")
    args = parser.parse_args(argv)
    if args.csdl is None:
        parser.error(f"--csdl is required when {ENV_VAR} is not set")
    try:
        written = generate(Path(args.csdl), Path(args.out), commit=args.commit, repository=args.repository)
    except GraphMetadataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for api_version, data in written.items():
        print(f"{Path(args.out) / f'{api_version}.json'}: {_summary(api_version, data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
