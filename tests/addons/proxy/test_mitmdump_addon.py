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


def _mitmdump(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    return subprocess.run([mitmdump, "-s", _addon_path(), "--listen-host", "127.0.0.1", "--listen-port", "0", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


# (what is wrong, extra files in the working folder, --set options, what the one error line says)
BAD_CONFIGURATION: list[tuple[str, dict[str, str], list[str], str]] = [
    ("misspelt cassette option", {}, ["graphtape_casette=x.yaml"],
     "unknown option graphtape_casette (did you mean graphtape_cassette?); refusing to start"),
    ("misspelt option beside a cassette", {}, ["graphtape_cassette=x.yaml", "graphtape_redact_header=X-Key"],
     "unknown option graphtape_redact_header (did you mean graphtape_redact_headers?); refusing to start"),
    ("bad record mode", {}, ["graphtape_cassette=x.yaml", "graphtape_record_mode=sometimes"],
     "graphtape_record_mode: 'sometimes' is not one of none, once, new_episodes, all, rewrite"),
    ("a number that is not", {}, ["graphtape_cassette=x.yaml", "graphtape_blob_threshold=abc"],
     "graphtape_blob_threshold: Not an integer: abc"),
    ("replay of a missing cassette", {}, ["graphtape_cassette=nowhere.yaml", "graphtape_record_mode=none"],
     "nowhere.yaml: cassette not found, and record mode none only replays; record it with "
     "graphtape_record_mode=once"),
    ("bad graph URL", {}, ["graphtape_cassette=x.yaml", "graphtape_graph_url=graph.microsoft.com"],
     "graphtape_graph_url: 'graph.microsoft.com' is not an http(s) URL"),
    ("misspelt key in the project file", {"graphtape.yaml": "recod_mode: all\n"}, ["graphtape_cassette=x.yaml"],
     "graphtape.yaml: unknown key 'recod_mode'; did you mean 'record_mode'?"),
    ("bad webhook", {}, ["graphtape_cassette=x.yaml", "graphtape_alert_webhook=ftp://example"],
     "graphtape_alert_webhook: 'ftp://example' is not an http(s) URL"),
]


@pytest.mark.parametrize(("what", "files", "sets", "says"), BAD_CONFIGURATION, ids=[b[0] for b in BAD_CONFIGURATION])
def test_bad_configuration_is_one_line_and_no_traffic(tmp_path: Path, what: str, files: dict[str, str],
                                                     sets: list[str], says: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = _mitmdump([a for s in sets for a in ("--set", s)], tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "graphtape: " in line]
    assert len(lines) == 1 and says.lower() in lines[0].lower(), output  # mitmproxy 11 and 12 differ in case
    assert not (tmp_path / "x.yaml").exists()


def test_a_harmless_misspelling_is_a_warning_naming_the_option(tmp_path: Path) -> None:
    """No cassette meant: nothing would be recorded either way, so it runs, and says what was ignored."""
    proc, _ = _start_mitmdump(["-s", _addon_path(), "--set", "graphtape_alert_rolup=5"], tmp_path / "log")
    proc.terminate()
    proc.wait(timeout=30)
    log = (tmp_path / "log").read_text()
    assert "graphtape: unknown option graphtape_alert_rolup (did you mean graphtape_alert_rollup?); it has no " \
           "effect" in log
    assert "Traceback" not in log


def test_project_file_defaults_set_overrides_and_the_stop_summary(tmp_path: Path, simulator) -> None:
    (tmp_path / "graphtape.yaml").write_text("graph_url: https://graph.microsoft.us\nrecord_mode: none\n")
    cassette = tmp_path / "dump.yaml"
    ex = EXAMPLES[0]
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    log = tmp_path / "record.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([mitmdump, "--listen-host", "127.0.0.1", "--listen-port", "0", "-s", _addon_path(),
                                 "--mode", f"reverse:{simulator.url}", "--set", f"graphtape_cassette={cassette}",
                                 "--set", "graphtape_record_mode=once"],  # the command line beats the file's none
                                stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not re.search(r"listening at \S+:(\d+)", log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        port = re.search(r"listening at \S+:(\d+)", log.read_text()).group(1)  # type: ignore[union-attr]
        answer = httpx.post(f"http://127.0.0.1:{port}{ex.path}", content=ex.body, headers=ex.all_headers(),
                            trust_env=False, timeout=30)
        assert answer.status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    (interaction,) = load_cassette(cassette).interactions
    assert interaction.request.uri == "https://graph.microsoft.us" + ex.path  # the file's graph_url
    text = log.read_text()
    assert "graphtape recorder stopped." in text
    for line in (f"  cassette     {cassette} (record mode once)", "  recorded     1", "  replayed     0",
                 "  misses       0", "  findings     0 error, 0 warning, 0 info"):
        assert line in text.splitlines(), text
