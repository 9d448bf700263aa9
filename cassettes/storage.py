"""Durable cassette writing: an exclusive lock, an fsync'd journal, an atomic final write.

Every recorded interaction is appended to ``<cassette>.journal`` (one JSON line) and
fsync'd before its response is released to the client, so what a client saw is on
disk. Writes run on one background thread that batches whatever is pending into a
single write+fsync (group commit): the proxy's event loop never blocks on the disk,
and a write costs the same whatever the cassette's size. On a clean stop the full
YAML is written to a temporary file, fsync'd and renamed over the cassette, then the
journal is removed. After a crash (``kill -9``) the next start finds the journal and
folds it into the cassette before anything else happens; a torn last line is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import fcntl
import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Union

from graphtape.cassettes.blobs import DEFAULT_BLOB_THRESHOLD, BlobStore
from graphtape.cassettes.errors import (
    CassetteFormatError,
    CassetteLockedError,
    CassetteWriteError,
)
from graphtape.cassettes.model import Cassette, Interaction
from graphtape.cassettes.safe_files import read_capped
from graphtape.cassettes.serialization import (
    MAX_CASSETTE_BYTES,
    dump_cassette,
    interaction_from_data,
    interaction_to_data,
    load_cassette,
)

__all__ = ["CassetteLock", "CassetteWriter", "RecoveryReport", "journal_path", "lock_path", "recover_journal",
           "save_cassette", "write_atomic", "write_atomic_stream"]

JOURNAL_VERSION = 1


def journal_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + ".journal")


def lock_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + ".lock")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half."""
    def write(fh: BinaryIO) -> None:
        fh.write(data)

    write_atomic_stream(path, write)


def write_atomic_stream(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """As :func:`write_atomic`, for output written piece by piece: ``write`` gets the open temporary
    file, so a big file is never held in memory twice."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise CassetteWriteError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def save_cassette(path: Path, cassette: Cassette, blob_threshold: int | None = None) -> None:
    """Write ``cassette`` atomically; bodies over ``blob_threshold`` go to files beside it.

    Without a threshold the one the cassette was written with is kept (none: all inline).
    Body files no longer referenced are removed afterwards.
    """
    path = Path(path)
    if blob_threshold is None:
        stored = cassette.meta.get("blob_threshold", 0)
        blob_threshold = stored if isinstance(stored, int) and stored >= 0 else 0
    blobs = BlobStore(path, blob_threshold)
    write_atomic(path, dump_cassette(cassette, blobs))
    blobs.prune(blobs.written)


# ---------------------------------------------------------------- journal format


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        # JSON keys are text: a non-UTF-8 header name (a !!binary key in the YAML) travels
        # surrogate-escaped, which json writes as \udcXX and reads back unchanged.
        return {(k.decode("utf-8", "surrogateescape") if isinstance(k, bytes) else k): _jsonable(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b64" in value:
            return base64.b64decode(value["$b64"], validate=True)
        return {k: _from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


def _journal_line(payload: dict[str, Any]) -> bytes:
    return json.dumps(_jsonable(payload), ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class RecoveryReport:
    recovered: int  # interactions folded into the cassette
    dropped_bytes: int  # a torn tail that could not be read


def read_journal(path: Path) -> tuple[dict[str, Any], list[Interaction], int]:
    """Header, interactions and the size of a torn last line of a journal file.

    Only the last line can be torn (the process died while appending it): it is left
    out and counted. Any other line that cannot be read is an error naming the file and
    the line, never skipped: the lines after it are interactions a client saw answered.
    """
    def fail(problem: str) -> CassetteFormatError:
        return CassetteFormatError(path, "", problem)

    raw = read_capped(path, MAX_CASSETTE_BYTES * 2, fail)  # base64 bodies: up to ~4/3 of the cassette
    blobs = BlobStore(path.with_name(path.name.removesuffix(".journal")))
    header: dict[str, Any] = {}
    interactions: list[Interaction] = []
    offset = 0
    for lineno, line in enumerate(raw.splitlines(keepends=True), start=1):
        if not line.endswith(b"\n"):
            break  # torn write: the process died mid-line
        try:
            entry = _from_jsonable(json.loads(line))
        except (ValueError, RecursionError, TypeError) as exc:
            raise CassetteFormatError(path, f"line {lineno}", f"not a journal record: {type(exc).__name__}: "
                                      f"{str(exc)[:200]}") from None
        if not isinstance(entry, dict):
            raise CassetteFormatError(path, f"line {lineno}", f"not a journal record: a JSON {type(entry).__name__}")
        if lineno == 1 and entry.get("journal") is not None:
            header = entry
        elif "interaction" in entry:
            interactions.append(interaction_from_data(entry["interaction"], f"line {lineno}", str(path), blobs))
        else:
            raise CassetteFormatError(path, f"line {lineno}", "not a journal record: neither a header nor an "
                                      "interaction")
        offset += len(line)
    return header, interactions, len(raw) - offset


def _file_digest(path: Path) -> str | None:
    """sha256 of a file's bytes, None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def recover_journal(cassette_path: Path) -> RecoveryReport | None:
    """Fold a journal left by a killed process into its cassette. None when there is none.

    Every interaction in the journal was answered to a client, so none is dropped. The
    cassette is read as it is now: when it already ends with the journal's interactions
    (a kill between the final write and the journal's removal), they are not added twice;
    otherwise they are appended to whatever the cassette holds now, even if another
    process replaced or deleted it during the run (both are kept rather than either
    lost). Only a replacing run (``all``/``rewrite``) whose cassette is still the one it
    started from replaces it, as that run would have at a clean stop.
    """
    jpath = journal_path(cassette_path)
    if not jpath.exists():
        return None
    header, recovered, dropped = read_journal(jpath)
    if recovered:
        current = load_cassette(cassette_path) if cassette_path.exists() else None
        existing = current.interactions if current is not None else []
        if len(existing) >= len(recovered) and existing[len(existing) - len(recovered):] == recovered:
            recovered = []  # already folded in by the run's last write
    if recovered:
        unchanged = "base_digest" in header and _file_digest(cassette_path) == header["base_digest"]
        meta = current.meta if current is not None else {}
        if header.get("base") == "replace" and unchanged:
            existing = []
            meta = header["meta"] if isinstance(header.get("meta"), dict) else meta
        threshold = header.get("blob_threshold")
        save_cassette(cassette_path, Cassette(interactions=existing + recovered, meta=meta),
                      threshold if isinstance(threshold, int) else None)
    jpath.unlink()
    _fsync_dir(jpath.parent)
    return RecoveryReport(recovered=len(recovered), dropped_bytes=dropped)


# ---------------------------------------------------------------- the writer


class CassetteLock:
    """An exclusive advisory lock on ``<cassette>.lock`` naming its holder.

    Only its holder writes the cassette: a recorder for its whole run, ``import`` and
    ``verify --update`` while they write. Usable as a context manager.
    """

    def __init__(self, cassette: Path) -> None:
        self.path = lock_path(cassette)
        self.fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise CassetteLockedError(
                f"{self.path.with_suffix('')}: already being recorded by {holder}; "
                "stop that process or record into another cassette"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"graphtape pid {os.getpid()}".encode(), 0)
        self.fd = fd

    def __enter__(self) -> CassetteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            self.path.unlink()
        except OSError:
            pass
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


_STOP = object()


class CassetteWriter:
    """Owns one cassette file while a run records into it.

    ``open`` locks the file, folds in a journal a killed run left behind, and reads
    the existing interactions into ``base`` when ``keep_existing`` (else the run's
    recording replaces them at close); ``append`` journals one interaction durably.
    """

    def __init__(self, path: Path, *, keep_existing: bool, delete_first: bool = False,
                 meta: dict[str, Any] | None = None, fsync: bool = True,
                 blob_threshold: int = DEFAULT_BLOB_THRESHOLD) -> None:
        self.path = Path(path)
        self.blobs = BlobStore(self.path, blob_threshold, fsync)
        self.keep_existing = keep_existing
        self.delete_first = delete_first
        self.replace = not keep_existing
        self.base: list[Interaction] = []
        self.meta = dict(meta or {})
        self.recovery: RecoveryReport | None = None
        self.fsync = fsync
        self.recorded: list[Interaction] = []
        self._lock = CassetteLock(self.path)
        # SimpleQueue: put() is one C call, no Python-level Condition for the event loop to contend on.
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._fh: Any = None
        self._failed: BaseException | None = None
        self._recorded_lock = threading.Lock()
        self._closing = False
        self._enqueue_lock = threading.Lock()  # an append either precedes the stop marker or is refused

    # -------------------------------------------------------- life cycle

    def open(self) -> None:
        """Lock, then open the journal; raises before any traffic if the folder is not writable."""
        self._lock.acquire()
        try:
            self.recovery = recover_journal(self.path)
            if self.delete_first:
                self.path.unlink(missing_ok=True)
                self.blobs.prune(set())
            if self.keep_existing and self.path.exists():
                existing = load_cassette(self.path)
                self.base = existing.interactions
                self.meta = {**existing.meta, **self.meta}
            jpath = journal_path(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(jpath, "ab")
            header = {"journal": JOURNAL_VERSION, "base": "replace" if self.replace else "append",
                      "base_digest": _file_digest(self.path),
                      "pid": os.getpid(), "started": time.time(), "meta": self.meta,
                      "blob_threshold": self.blobs.threshold}
            self._fh.write(_journal_line(header))
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            self._lock.release()
            raise CassetteWriteError(f"{self.path}: cannot open the recording journal: {exc.strerror or exc}") from exc
        except BaseException:
            self._lock.release()
            raise
        self._thread = threading.Thread(target=self._run, name=f"graphtape-writer:{self.path.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Drain the journal, write the full cassette atomically, drop the journal, unlock."""
        try:
            with self._enqueue_lock:
                self._closing = True
                if self._thread is not None:
                    self._queue.put(_STOP)
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            with self._recorded_lock:
                interactions = self.base + self.recorded
            save_cassette(self.path, Cassette(interactions=interactions, meta=self.meta), self.blobs.threshold)
            try:
                journal_path(self.path).unlink()
            except FileNotFoundError:
                pass
        finally:
            self._lock.release()

    # -------------------------------------------------------- appends

    def append_nowait(self, interaction: Interaction) -> concurrent.futures.Future[None]:
        """Queue ``interaction``; the future resolves once it is on disk (or fails)."""
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._enqueue(interaction, fut)
        return fut

    def append(self, interaction: Interaction) -> None:
        """Blocking append: returns when the interaction is durable."""
        self.append_nowait(interaction).result()

    async def append_async(self, interaction: Interaction) -> None:
        """Append from an event loop: resumes once the interaction is durable.

        The writer settles every waiter of a batch that belongs to one loop with a single
        call_soon_threadsafe, so a batch wakes the proxy's loop once, not once per flow.
        """
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(interaction, fut)
        await fut

    def _enqueue(self, interaction: Interaction, waiter: _Waiter) -> None:
        if self._failed is not None:
            raise CassetteWriteError(f"{self.path}: recording stopped after an earlier write failed: {self._failed}")
        with self._enqueue_lock:
            if self._thread is None or self._closing:
                raise CassetteWriteError(f"{self.path}: the recording is closed (graphtape is stopping); "
                                         "this interaction was not recorded")
            self._queue.put((interaction, waiter))

    def snapshot(self) -> list[Interaction]:
        with self._recorded_lock:
            return self.base + self.recorded

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while True:  # group commit: everything already waiting goes in one fsync
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(entry is _STOP for entry in batch)
            entries = [entry for entry in batch if entry is not _STOP]
            if entries:
                self._write_batch(entries)
            if stop:
                return

    def _write_batch(self, entries: list[tuple[Interaction, _Waiter]]) -> None:
        try:
            if self._failed is not None:
                raise self._failed
            # Big bodies are written (and fsync'd) as blob files first; the journal line refers to them.
            data = b"".join(_journal_line({"interaction": interaction_to_data(i, self.blobs)}) for i, _ in entries)
            self._fh.write(data)
            self._fh.flush()
            if self.fsync:
                os.fsync(self._fh.fileno())
        except BaseException as exc:
            err = exc if isinstance(exc, CassetteWriteError) else CassetteWriteError(
                f"{journal_path(self.path)}: cannot record: {getattr(exc, 'strerror', None) or exc}")
            self._failed = err
            _settle([w for _, w in entries], err)
            return
        with self._recorded_lock:
            self.recorded.extend(i for i, _ in entries)
        _settle([w for _, w in entries], None)


_Waiter = Union["concurrent.futures.Future[None]", "asyncio.Future[None]"]


def _settle(waiters: list[_Waiter], error: BaseException | None) -> None:
    """Resolve a batch's waiters: thread futures directly, each event loop's in one call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if isinstance(waiter, asyncio.Future):
            by_loop.setdefault(waiter.get_loop(), []).append(waiter)
        elif not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_in_loop, futures, error)
        except RuntimeError:  # the loop already closed: nobody is waiting any more
            pass


def _settle_in_loop(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if not fut.done():
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)
