"""graphtape's addons loaded into a plain ``mitmdump -s`` with ``--set graphtape_*`` options."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import EXAMPLES

pytestmark = pytest.mark.slow


def _addon_path() -> str:
    out = subprocess.run([sys.executable, "-m", "graphtape.cli", "addon-path"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def _start_mitmdump(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    with open(log, "wb") as out:
        proc = subprocess.Popen([mitmdump, "--listen-host", "127.0.0.1", "--listen-port", "0", *args],
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"listening at (?:http://)?[^\s]+?:(\d+)", log.read_text(errors="replace"))
        if m:
            return proc, f"http://127.0.0.1:{m.group(1)}"
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("mitmdump did not start:\n" + log.read_text(errors="replace"))


def test_mitmdump_records_then_replays(tmp_path: Path, simulator) -> None:
    cassette = tmp_path / "dump.yaml"
    addon = _addon_path()
    assert Path(addon).is_file()
    ex = EXAMPLES[0]
    proc, url = _start_mitmdump(["-s", addon, "--mode", f"reverse:{simulator.url}",
                                 "--set", f"graphtape_cassette={cassette}", "--set", "graphtape_record_mode=all"], tmp_path / "record.log")
    try:
        recorded = httpx.post(url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False)
        assert recorded.status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(load_cassette(cassette)) == 1

    # replay through mitmdump with the upstream pointing nowhere: the cassette answers
    proc, url = _start_mitmdump(["-s", addon, "--mode", "reverse:http://127.0.0.1:9",
                                 "--set", f"graphtape_cassette={cassette}", "--set", "graphtape_record_mode=none"], tmp_path / "replay.log")
    try:
        replayed = httpx.post(url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert replayed.status_code == 201
    assert replayed.content == recorded.content


def test_bad_option_value_is_refused(tmp_path: Path) -> None:
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    proc = subprocess.run([mitmdump, "-s", _addon_path(), "--listen-port", "0", "--set",
                           f"graphtape_cassette={tmp_path / 'x.yaml'}", "--set", "graphtape_record_mode=sometimes"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "none, once, new_episodes, all, rewrite" in proc.stdout + proc.stderr
