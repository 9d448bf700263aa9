"""Content-addressed body files beside a cassette, for bodies too big to inline.

A body over the threshold is written once to ``<cassette file name>.blobs/sha256-<hex>``
and the YAML holds ``{graphtape_blob: {digest, size, path}}`` instead of megabytes of
base64. Such cassettes are graphtape's own: VCR.py cannot load them.

The path in the YAML is never trusted: the file read is always derived from the
digest, inside the cassette's own blob folder, and its bytes must hash to it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from graphtape.cassettes.errors import CassetteFormatError, CassetteWriteError
from graphtape.cassettes.safe_files import read_capped

__all__ = ["BLOB_KEY", "DEFAULT_BLOB_THRESHOLD", "BlobStore", "blob_folder", "legacy_blob_folder"]

BLOB_KEY = "graphtape_blob"
DEFAULT_BLOB_THRESHOLD = 1024 * 1024  # bodies above 1 MiB go to blob files; 0 keeps every body inline
MAX_BLOB_BYTES = 1 << 30  # one body file is never read past this (Graph's largest upload is 150 MB)
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


def blob_folder(cassette: Path) -> Path:
    """``a.yaml.blobs`` for ``a.yaml``: one folder per cassette file, so ``a.yaml`` and ``a.yml`` never share one."""
    return cassette.with_name(cassette.name + ".blobs")


def legacy_blob_folder(cassette: Path) -> Path:
    """Where graphtape 0.1 kept them (``a.blobs``, shared by ``a.yaml`` and ``a.yml``): read, never pruned."""
    return cassette.with_name(cassette.stem + ".blobs")


class BlobStore:
    """Reads and writes one cassette's blob folder."""

    def __init__(self, cassette: Path, threshold: int = DEFAULT_BLOB_THRESHOLD, fsync: bool = True) -> None:
        self.cassette = Path(cassette)
        self.folder = blob_folder(self.cassette)
        self.threshold = threshold
        self.fsync = fsync
        self.written: set[str] = set()  # file names referenced by what this store wrote

    def wants(self, body: bytes) -> bool:
        return self.threshold > 0 and len(body) > self.threshold

    def put(self, body: bytes) -> dict[str, Any]:
        """Store ``body`` (once per content) and return the reference written in the YAML."""
        hexdigest = hashlib.sha256(body).hexdigest()
        name = f"sha256-{hexdigest}"
        target = self.folder / name
        if name not in self.written and not (target.exists() and target.stat().st_size == len(body)):
            tmp = self.folder / f".{name}.{os.getpid()}.tmp"
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as fh:
                    fh.write(body)
                    fh.flush()
                    if self.fsync:
                        os.fsync(fh.fileno())
                os.replace(tmp, target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise CassetteWriteError(f"{target}: cannot write body file: {exc.strerror or exc}") from exc
        self.written.add(name)
        return {"digest": f"sha256:{hexdigest}", "size": len(body), "path": f"{self.folder.name}/{name}"}

    def get(self, ref: Any, where: str) -> bytes:
        """The body a reference names, checked against its digest."""
        if not isinstance(ref, dict):
            raise CassetteFormatError(self.cassette, where, "expected a mapping with digest, size and path")
        m = _DIGEST.match(str(ref.get("digest", "")))
        if not m:
            raise CassetteFormatError(self.cassette, f"{where}.digest", "expected sha256:<64 hex digits>")
        name = f"sha256-{m.group(1)}"  # derived from the digest: no path from the file is used
        path = self.folder / name
        legacy = legacy_blob_folder(self.cassette) / name
        if not path.exists() and legacy.exists():
            path = legacy
        size = ref.get("size")
        limit = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else MAX_BLOB_BYTES

        def fail(problem: str) -> CassetteFormatError:
            return CassetteFormatError(self.cassette, where, f"body file {path} {problem}")

        try:
            body = read_capped(path, min(limit, MAX_BLOB_BYTES), fail)
        except FileNotFoundError:
            raise fail("cannot be read: it does not exist") from None
        if hashlib.sha256(body).hexdigest() != m.group(1):
            raise CassetteFormatError(self.cassette, where, f"body file {path} does not match its digest "
                                      "(changed or corrupted)")
        if size is not None and size != len(body):
            raise CassetteFormatError(self.cassette, f"{where}.size", f"says {size} bytes, the file has {len(body)}")
        return body

    def prune(self, keep: set[str]) -> None:
        """Delete body files no longer referenced (after a re-record replaced them)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("sha256-*"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
        try:
            self.folder.rmdir()  # only succeeds when empty
        except OSError:
            pass
