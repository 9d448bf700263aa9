"""A cassette is untrusted input: every broken or malicious one is a clear error, never a crash.

Each case is tried twice: parsed in-process (the error names the file and the line or
key), and served by a real ``graphtape replay`` process, which must refuse to start
(exit 2, the message names the file) instead of serving an empty cassette.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphtape.cassettes.errors import CassetteFormatError
from graphtape.cassettes.serialization import MAX_ALIASES, load_cassette

_ONE = b"version: 1\ninteractions:\n- request: {method: POST, uri: 'https://h/x'}\n  response: {status: {code: 201}}\n"


def _billion_laughs() -> bytes:
    lines = [b"version: 1", b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)))
    lines.append(b"interactions: []")
    return b"\n".join(lines) + b"\n"


def _merge_key_bomb() -> bytes:
    body = b"".join(b"k%d: {<<: *base}\n" % i for i in range(MAX_ALIASES + 1))
    return b"version: 1\nbase: &base {x: 1}\n" + body + b"interactions: []\n"


# (case id, file content, what the error must name)
HOSTILE_CASSETTES: list[tuple[str, bytes, str]] = [
    ("python-object-apply", b"version: 1\ninteractions: !!python/object/apply:os.system ['echo pwned']\n",
     "line 2"),
    ("python-name", b"version: 1\ninteractions:\n- !!python/name:os.system\n", "line 3"),
    ("python-object-new", b"version: 1\ninteractions: !!python/object/new:subprocess.Popen [[id]]\n", "line 2"),
    ("custom-tag", b"version: 1\ninteractions: !evil []\n", "line 2"),
    ("billion-laughs", _billion_laughs(), "alias"),
    ("merge-key-bomb", _merge_key_bomb(), "alias"),
    ("deep-nesting", b"version: 1\ninteractions: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 2"),
    ("giant-integer", _ONE.replace(b"code: 201", b"code: " + b"9" * 5000), "not a readable cassette"),
    ("wrong-version", b"version: 2\ninteractions: []\n", "version"),
    ("no-version", b"interactions: []\n", "version"),
    ("missing-interactions", b"version: 1\n", "interactions"),
    ("missing-response", b"version: 1\ninteractions:\n- request: {method: POST, uri: x}\n",
     "interactions[0].response"),
    ("missing-status-code", _ONE.replace(b"code: 201", b"message: OK"), "interactions[0].response.status.code"),
    ("status-not-integer", _ONE.replace(b"code: 201", b"code: created"), "interactions[0].response.status.code"),
    ("status-out-of-range", _ONE.replace(b"code: 201", b"code: 42"), "interactions[0].response.status.code"),
    ("status-boolean", _ONE.replace(b"code: 201", b"code: true"), "interactions[0].response.status.code"),
    ("uri-a-date", _ONE.replace(b"'https://h/x'", b"2001-12-14"), "interactions[0].request.uri"),
    ("body-a-mapping", _ONE.replace(b"uri: 'https://h/x'", b"uri: x, body: {a: 1}"), "interactions[0].request.body"),
    ("header-value-a-mapping", _ONE.replace(b"uri: 'https://h/x'", b"uri: x, headers: {A: [{b: 1}]}"),
     "interactions[0].request.headers.A[0]"),
    ("interactions-a-mapping", b"version: 1\ninteractions: {a: 1}\n", "interactions"),
    ("top-level-a-list", b"- version: 1\n", "top level"),
    ("two-documents", b"version: 1\ninteractions: []\n---\nversion: 1\n", "line 3"),
    ("unclosed-flow", b"version: 1\ninteractions: [\n", "line"),
    ("binary-garbage", bytes(range(256)) * 4, "not a readable cassette"),
    ("empty-file", b"", "empty"),
    ("finding-with-bad-severity", _ONE + b"  graphtape: {findings: [{severity: fatal}]}\n",
     "interactions[0].graphtape.findings[0]"),
    ("newer-graphtape-format", b"version: 1\ngraphtape: {format: 99}\ninteractions: []\n", "graphtape.format"),
]
_IDS = [case[0] for case in HOSTILE_CASSETTES]
# One of each kind through a real process (each costs a process start); the table
# above proves every case against the same loader in-process.
_PROCESS_CASES = ["python-object-apply", "billion-laughs", "wrong-version", "missing-response",
                  "status-not-integer", "binary-garbage", "empty-file"]


@pytest.mark.parametrize("name, content, where", HOSTILE_CASSETTES, ids=_IDS)
def test_hostile_cassette_is_a_clear_error(tmp_path: Path, name: str, content: bytes, where: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    with pytest.raises(CassetteFormatError) as info:
        load_cassette(path)
    message = str(info.value)
    assert str(path) in message and where in message
    assert "Traceback" not in message


def test_absurd_size_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphtape.cassettes import serialization

    monkeypatch.setattr(serialization, "MAX_CASSETTE_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_bytes(_ONE + b"# " + b"x" * 2000 + b"\n")
    with pytest.raises(CassetteFormatError, match="over the 1000-byte limit") as info:
        load_cassette(path)
    assert str(path) in str(info.value)


def _replay(cassette: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", "replay", "--cassette", str(cassette),
                           "--port", "0", *extra], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("name, content, where", [c for c in HOSTILE_CASSETTES if c[0] in _PROCESS_CASES],
                         ids=_PROCESS_CASES)
def test_replay_refuses_to_start_on_a_hostile_cassette(tmp_path: Path, name: str, content: bytes,
                                                        where: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    proc = _replay(path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "listening on" not in proc.stdout  # never served
    assert str(path) in proc.stderr and where in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_replay_refuses_an_oversized_cassette(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(_ONE + b"# " + b"x" * 2000 + b"\n")
    proc = _replay(path, env={"GRAPHTAPE_MAX_CASSETTE_BYTES": "1000"})
    assert proc.returncode == 2 and "over the 1000-byte limit" in proc.stderr and str(path) in proc.stderr


@pytest.mark.slow
def test_new_episodes_recording_refuses_a_broken_cassette_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    content = dict((c[0], c[1]) for c in HOSTILE_CASSETTES)["status-not-integer"]
    path.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "graphtape.cli", "record", "--cassette", str(path), "--port", "0",
                           "--record-mode", "new_episodes", "--upstream", "http://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "interactions[0].response.status.code" in proc.stderr
    assert path.read_bytes() == content
    assert not path.with_name("broken.yaml.journal").exists() and not path.with_name("broken.yaml.lock").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command, name", [("record", "../outside.yaml"), ("replay", "sub/../../outside.yaml"),
                                           ("record", "ABSOLUTE"), ("replay", "ABSOLUTE")])
def test_cli_cassette_cannot_escape_the_cassette_dir(tmp_path: Path, command: str, name: str) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(b"version: 1\ninteractions: []\n")
    before = outside.read_bytes()
    cassette = str(outside) if name == "ABSOLUTE" else name
    proc = subprocess.run([sys.executable, "-m", "graphtape.cli", command, "--cassette", cassette,
                           "--cassette-dir", str(folder), "--port", "0", "--upstream", "http://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=folder)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "outside the cassette folder" in proc.stderr and cassette in proc.stderr
    assert outside.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cassettes", "outside.yaml"]
