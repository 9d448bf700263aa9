"""Opening files graphtape reads (cassettes, journals, body files, captures) as untrusted input.

A path can name a FIFO (opening it for reading blocks until a writer appears), a
device (``/dev/zero`` never ends), or a symlink to either; a file can claim a size
it never had (sparse) or grow while it is read. So every such file is opened without
blocking, checked to be a regular file before a byte is read, and read only up to a
cap: what is counted is what was actually read, not what ``stat`` said.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import BinaryIO

__all__ = ["CappedReader", "open_regular", "read_capped"]

Fail = Callable[[str], Exception]


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], fail: Fail, limit: int | None = None) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (symlinks followed) no bigger than ``limit``.

    ``fail(problem)`` builds the error raised otherwise. FileNotFoundError passes through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise fail("is a folder, not a file") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"is {_kind(info.st_mode)}, not a regular file: refusing to read it")
        if limit is not None and info.st_size > limit:
            raise fail(f"{info.st_size} bytes is over the {limit}-byte limit")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class CappedReader:
    """A binary file that raises ``fail(...)`` once more than ``limit`` bytes were read from it."""

    def __init__(self, fh: BinaryIO, limit: int, fail: Fail) -> None:
        self.fh = fh
        self.limit = limit
        self.fail = fail
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size if size is not None and size >= 0 else self.limit + 1 - self.count)
        self.count += len(data)
        if self.count > self.limit:
            raise self.fail(f"holds more than the {self.limit}-byte limit")
        return data


def read_capped(path: str | os.PathLike[str], limit: int, fail: Fail) -> bytes:
    """The bytes of regular file ``path``, refusing one over ``limit`` bytes as actually read."""
    with open_regular(path, fail, limit) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise fail(f"holds more than the {limit}-byte limit")
    return data
