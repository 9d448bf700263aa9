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


# ---------------------------------------------------------------- more shapes (issue 17)


def _alias_bomb_under_the_alias_cap() -> bytes:
    """56 aliases (under the cap of 64) that expand to 7**8 nodes: the expansion is what is bounded."""
    lines = [b"version: 1", b"a0: &a0 [" + b", ".join([b"lol"] * 7) + b"]"]
    for i in range(1, 9):
        lines.append(b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 7)))
    return b"\n".join(lines) + b"\ninteractions: []\n"


def _response(headers: bytes = b"{}", body: bytes = b"", code: bytes = b"200", message: bytes = b"OK") -> bytes:
    return (b"version: 1\ninteractions:\n- request: {method: GET, uri: 'https://h/x'}\n"
            b"  response:\n    status: {code: " + code + b", message: " + message + b"}\n"
            b"    headers: " + headers + b"\n    body: {string: " + body + b"}\n")


# (case id, content, what the error must name). Truth: YAML 1.2 (keys are unique), RFC 9110/9112
# (field names are tokens; field values exclude CR, LF and NUL; Content-Length is the body's length;
# Transfer-Encoding and Content-Length never together; status codes are three digits, 1xx-5xx).
MORE_HOSTILE: list[tuple[str, bytes, str]] = [
    ("alias-expansion-under-alias-cap", _alias_bomb_under_the_alias_cap(), "alias"),
    ("duplicate-top-level-key", b"version: 1\ninteractions: []\ninteractions: []\n", "duplicate key 'interactions'"),
    ("duplicate-key-deep", _response(headers=b"{A: [x], A: [y]}"), "duplicate key 'A'"),
    ("duplicate-key-with-anchors", b"version: 1\nx: &a 1\ninteractions: []\nversion: 1\n", "duplicate key"),
    ("version-true", b"version: true\ninteractions: []\n", "version"),
    ("version-float", b"version: 1.0\ninteractions: []\n", "version"),
    ("version-string", b"version: '1'\ninteractions: []\n", "version"),
    ("header-value-crlf", _response(headers=b"{X-A: [\"a\\r\\nSet-Cookie: evil=1\"]}"),
     "interactions[0].response.headers.X-A"),
    ("header-value-lf", _response(headers=b"{X-A: [\"a\\nb\"]}"), "interactions[0].response.headers.X-A"),
    ("header-value-nul", _response(headers=b"{X-A: [\"a\\0b\"]}"), "interactions[0].response.headers.X-A"),
    ("header-name-space", _response(headers=b"{'X A': [b]}"), "interactions[0].response.headers.X A"),
    ("header-name-colon", _response(headers=b"{'X:A': [b]}"), "interactions[0].response.headers.X:A"),
    ("header-name-pseudo", _response(headers=b"{':status': ['200']}"), "interactions[0].response.headers.:status"),
    ("reason-crlf", _response(message=b"\"OK\\r\\nX: y\""), "interactions[0].response.status.message"),
    ("body-longer-than-content-length", _response(headers=b"{Content-Length: ['2']}", body=b"abcdef"),
     "interactions[0].response.body"),
    ("body-shorter-than-content-length", _response(headers=b"{Content-Length: ['99']}", body=b"abc"),
     "interactions[0].response.body"),
    ("two-content-lengths", _response(headers=b"{Content-Length: ['3', '4']}", body=b"abc"),
     "interactions[0].response.headers.Content-Length"),
    ("content-length-not-a-number", _response(headers=b"{Content-Length: ['3x']}", body=b"abc"),
     "interactions[0].response.headers.Content-Length"),
    ("transfer-encoding-gzip", _response(headers=b"{Transfer-Encoding: [gzip]}", body=b"abc"),
     "interactions[0].response.headers.Transfer-Encoding"),
    ("transfer-encoding-and-length", _response(headers=b"{Transfer-Encoding: [chunked], Content-Length: ['3']}",
                                               body=b"abc"), "interactions[0].response.headers.Content-Length"),
    ("status-600", _response(code=b"600"), "interactions[0].response.status.code"),
    ("status-99", _response(code=b"99"), "interactions[0].response.status.code"),
    ("status-204-with-body", _response(code=b"204", body=b"abc"), "interactions[0].response.body"),
]


@pytest.mark.parametrize("name, content, where", MORE_HOSTILE, ids=[c[0] for c in MORE_HOSTILE])
def test_more_hostile_cassettes_are_refused_naming_the_key(tmp_path: Path, name: str, content: bytes,
                                                           where: str) -> None:
    test_hostile_cassette_is_a_clear_error(tmp_path, name, content, where)


def test_a_servable_response_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_bytes(_response(headers=b"{Content-Length: ['3'], X-Tab: [\"a\\tb\"], Transfer-Encoding-X: [y]}",
                               body=b"abc"))
    assert load_cassette(path).interactions[0].response.body == b"abc"


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-fifo", "device", "symlink-to-device", "folder", "socket"])
def test_a_cassette_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    import socket
    import threading

    path = tmp_path / "c.yaml"
    keep: list[object] = []
    if kind in ("fifo", "symlink-to-fifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        target = fifo
    elif kind in ("device", "symlink-to-device"):
        target = Path("/dev/zero")
    elif kind == "socket":
        target = tmp_path / "sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
        keep.append(server)
    else:
        target = tmp_path / "dir"
        target.mkdir()
    if kind.startswith("symlink") or kind in ("device", "socket", "folder"):
        path.symlink_to(target)
    else:
        os.rename(target, path)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_cassette(path)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome, f"{kind}: loading blocked"
    assert isinstance(outcome[0], CassetteFormatError) and str(path) in str(outcome[0]), outcome


def test_a_sparse_file_over_the_cap_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from graphtape.cassettes import serialization

    path = tmp_path / "sparse.yaml"
    with open(path, "wb") as fh:
        fh.write(_ONE)
        fh.truncate(2 << 30)  # 2 GiB that takes no disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CassetteFormatError, match="limit"):
        load_cassette(path)
    monkeypatch.setattr(serialization, "MAX_CASSETTE_BYTES", 4 << 30)  # even allowed, it is read as a stream
    with pytest.raises(CassetteFormatError):
        load_cassette(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # KiB: far below 2 GiB


# Journal lines a hostile or broken file can hold: each an error naming the journal and the line.
HOSTILE_JOURNAL_LINES = [
    b"[1, 2]\n", b"5\n", b"\"text\"\n", b"null\n", b"{not json}\n", b"{\"interaction\": 5}\n",
    b"{\"interaction\": {\"request\": {}}}\n", b"{\"other\": 1}\n",
    b"{\"interaction\": {\"request\": {\"method\": \"GET\", \"uri\": \"x\", \"body\": {\"$b64\": \"!!!\"}}, "
    b"\"response\": {\"status\": {\"code\": 200}}}}\n",
    b"[" * 100_000 + b"]" * 100_000 + b"\n",
    b"{\"interaction\": {\"request\": {\"method\": \"GET\", \"uri\": \"x\"}, \"response\": {\"status\": {\"code\": 200},"
    b" \"headers\": {\"X\": [\"a\\r\\nb\"]}}}}\n",
]


@pytest.mark.parametrize("line", HOSTILE_JOURNAL_LINES, ids=[f"line-{n}" for n in range(len(HOSTILE_JOURNAL_LINES))])
def test_hostile_journal_lines_are_a_clear_error(tmp_path: Path, line: bytes) -> None:
    from graphtape.cassettes.storage import journal_path, recover_journal

    path = tmp_path / "c.yaml"
    header = b'{"journal": 1, "base": "append"}\n'
    journal_path(path).write_bytes(header + line + header.replace(b"journal", b"x"))
    with pytest.raises(CassetteFormatError) as info:
        recover_journal(path)
    assert str(journal_path(path)) in str(info.value) and "line 2" in str(info.value)
    assert journal_path(path).exists()  # nothing dropped: the user decides
