"""A real headless Chromium (Debian's ``chromium`` package), installed when missing and apt can do it."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_NAMES = ("chromium", "chromium-browser")
# Nothing of Chromium's own reaches out (the machine's network is closed anyway), no first-run
# dialogs, no sandbox (tests may run as root in a container), and a profile of its own per run.
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def _find() -> str | None:
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


def _install() -> str:
    """apt-get install chromium, once at a time across test workers; a reason when it cannot."""
    if not shutil.which("apt-get"):
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return "not root, so apt-get cannot install it"
    with open(Path(tempfile.gettempdir()) / "graphtape-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker may be installing it right now
        if _find():
            return ""
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                        ["apt-get", "update"],
                        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            done = subprocess.run(command, capture_output=True, text=True, timeout=1200, env=env)
            if command[1] == "install" and done.returncode == 0:
                return ""
        return f"apt-get install chromium failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"


@dataclass
class Chromium:
    binary: str
    profiles: Path

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        profile = Path(tempfile.mkdtemp(dir=self.profiles))  # a fresh --user-data-dir every time
        proc = subprocess.run([self.binary, *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc

    def dump_dom(self, page: Path, net_log: Path | None = None) -> str:
        """The DOM after the page has loaded (and any script run), serialised."""
        extra = [f"--log-net-log={net_log}"] if net_log is not None else []
        return self._run(*extra, "--dump-dom", page.resolve().as_uri()).stdout

    def screenshot(self, page: Path, out: Path, width: int = 1280, height: int = 1600) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        self._run(f"--window-size={width},{height}", f"--screenshot={out}", page.resolve().as_uri())
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = _find()
    if binary is None:
        reason = _install()
        binary = _find()
        if binary is None:
            pytest.skip(f"SKIPPED LOUDLY: no headless Chromium for the HTML report tests ({reason}); "
                        "install Debian's chromium package (apt-get install -y chromium)")
    yield Chromium(binary, tmp_path_factory.mktemp("chromium-profiles"))
