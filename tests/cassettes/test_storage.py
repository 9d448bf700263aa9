from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphtape.cassettes.errors import (
    CassetteFormatError,
    CassetteLockedError,
    CassetteWriteError,
)
from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import (
    CassetteWriter,
    journal_path,
    read_journal,
    recover_journal,
    save_cassette,
)


def _it(n: int) -> Interaction:
    return Interaction(Request("POST", f"https://x/v1.0/me/messages/{n}/attachments", Headers(), b'{"n":%d}' % n),
                       Response(201, "Created", Headers((("Content-Type", "application/json"),)), b"{}"))


def test_append_is_journaled_before_close_and_cassette_written_at_close(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    writer = CassetteWriter(path, keep_existing=True)
    writer.open()
    writer.append(_it(1))
    writer.append(_it(2))
    _, journaled, torn = read_journal(journal_path(path))
    assert [i.request.body for i in journaled] == [b'{"n":1}', b'{"n":2}'] and torn == 0
    assert not path.exists()
    writer.close()
    assert len(load_cassette(path)) == 2
    assert not journal_path(path).exists()


def test_keep_existing_appends_and_replace_replaces(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(1)]))
    w = CassetteWriter(path, keep_existing=True)
    w.open()
    w.append(_it(2))
    w.close()
    assert len(load_cassette(path)) == 2
    w = CassetteWriter(path, keep_existing=False)
    w.open()
    w.append(_it(3))
    w.close()
    assert [i.request.body for i in load_cassette(path).interactions] == [b'{"n":3}']


def test_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    first = CassetteWriter(path, keep_existing=True)
    first.open()
    try:
        with pytest.raises(CassetteLockedError, match="already being recorded"):
            CassetteWriter(path, keep_existing=True).open()
    finally:
        first.close()
    second = CassetteWriter(path, keep_existing=True)
    second.open()
    second.close()


def test_kill_9_loses_nothing_journaled(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0)]))
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from graphtape.cassettes.storage import CassetteWriter
        from graphtape.cassettes.model import *
        w = CassetteWriter(Path({str(path)!r}), keep_existing=True)
        w.open()
        for n in range(1, 6):
            w.append(Interaction(Request("POST", f"https://x/{{n}}", Headers(), b"%d" % n),
                                 Response(201, "Created", Headers(), b"{{}}")))
        with open(Path({str(path)!r}).with_name("c.yaml.journal"), "ab") as fh:
            fh.write(b'{{"interaction": {{"request"')  # a torn write, as if killed mid-line
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9, proc.stderr
    assert len(load_cassette(path)) == 1  # the cassette itself was never half-written
    report = recover_journal(path)
    assert report is not None and report.recovered == 5 and report.dropped_bytes > 0
    assert [i.request.body for i in load_cassette(path).interactions] == [b'{"n":0}', b"1", b"2", b"3", b"4", b"5"]
    assert not journal_path(path).exists()


def test_unwritable_location_fails_at_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cassette's folder should be")
    with pytest.raises((CassetteWriteError, OSError)):
        CassetteWriter(blocker / "c.yaml", keep_existing=True).open()


def test_write_failure_reaches_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    writer = CassetteWriter(path, keep_existing=True)
    writer.open()
    writer._fh.close()  # the journal's file handle dies under the writer (disk gone, fd closed)
    with pytest.raises(CassetteWriteError, match="cannot record"):
        writer.append(_it(1))
    with pytest.raises(CassetteWriteError, match="earlier write failed"):
        writer.append(_it(2))
    writer._fh = None
    writer.close()


def test_big_bodies_go_to_content_addressed_files(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    big = bytes(range(256)) * 8192  # 2 MiB, not UTF-8
    it = Interaction(Request("PUT", "https://x/up", Headers(), big), Response(200, "OK", Headers(), big))
    writer = CassetteWriter(path, keep_existing=False, blob_threshold=1024 * 1024)
    writer.open()
    writer.append(it)
    writer.append(_it(1))
    writer.close()
    text = path.read_text()
    assert "graphtape_blob" in text and len(text) < 10_000
    files = list((tmp_path / "big.yaml.blobs").iterdir())
    assert len(files) == 1  # request and response share one content-addressed file
    loaded = load_cassette(path)
    assert loaded.interactions[0].request.body == big and loaded.interactions[0].response.body == big
    before = path.read_bytes()
    save_cassette(path, loaded)
    assert path.read_bytes() == before  # load then save: same bytes, same threshold
    files[0].write_bytes(b"tampered" + big[8:])
    with pytest.raises(CassetteFormatError, match="does not match its digest"):
        load_cassette(path)


def test_blob_reference_cannot_point_outside(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        "version: 1\ninteractions:\n- request: {method: GET, uri: 'https://x/', body: null}\n"
        "  response:\n    status: {code: 200}\n    body:\n      graphtape_blob: {digest: 'sha256:../../etc/passwd',"
        " size: 1, path: /etc/passwd}\n")
    with pytest.raises(CassetteFormatError, match="sha256"):
        load_cassette(path)


def test_re_recording_prunes_unreferenced_body_files(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    w = CassetteWriter(path, keep_existing=False, blob_threshold=10)
    w.open()
    w.append(Interaction(Request("POST", "https://x/", Headers(), b"a" * 100), Response(201)))
    w.close()
    w = CassetteWriter(path, keep_existing=False, blob_threshold=10)
    w.open()
    w.append(Interaction(Request("POST", "https://x/", Headers(), b"b" * 100), Response(201)))
    w.close()
    assert len(list((tmp_path / "c.yaml.blobs").iterdir())) == 1
    assert load_cassette(path).interactions[0].request.body == b"b" * 100


@pytest.mark.parametrize("keep_existing", [True, False])
@pytest.mark.parametrize("had_cassette", [True, False])
def test_a_kill_between_the_final_write_and_the_journal_removal_records_nothing_twice(
        tmp_path: Path, keep_existing: bool, had_cassette: bool) -> None:
    path = tmp_path / "c.yaml"
    if had_cassette:
        save_cassette(path, Cassette([_it(0)]))
    writer = CassetteWriter(path, keep_existing=keep_existing)
    writer.open()
    writer.append(_it(1))
    writer.append(_it(2))
    journal = journal_path(path).read_bytes()
    writer.close()  # writes the cassette, then removes the journal ...
    journal_path(path).write_bytes(journal)  # ... which a kill -9 in between would have left behind
    expected = [i.request.body for i in load_cassette(path).interactions]
    report = recover_journal(path)
    assert report is not None and report.recovered == 0  # the cassette already ends with them
    assert [i.request.body for i in load_cassette(path).interactions] == expected
    assert not journal_path(path).exists()


def test_a_kill_during_recovery_is_recovered_once(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0)]))
    writer = CassetteWriter(path, keep_existing=True)
    writer.open()
    writer.append(_it(1))
    journal = journal_path(path).read_bytes()
    writer._lock.release()  # as if killed: the journal stays, the cassette is untouched
    assert recover_journal(path) is not None
    journal_path(path).write_bytes(journal)  # a second kill, after recovery's write but before its unlink
    recover_journal(path)
    assert [i.request.body for i in load_cassette(path).interactions] == [b'{"n":0}', b'{"n":1}']
