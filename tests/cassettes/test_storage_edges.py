"""Durability at the edges: what happens to the cassette underneath a recording never loses its work.

Each case is a recording (a CassetteWriter that journals interactions) interrupted as
``kill -9`` would (the lock released, the journal left behind), with the cassette
file replaced, deleted, rewritten or shared in the meantime; then recovery runs. The
rule: every interaction the journal holds was answered to a client, so it ends up in
the cassette exactly once, and what another writer put there stays too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphtape.cassettes.blobs import blob_folder, legacy_blob_folder
from graphtape.cassettes.errors import CassetteLockedError, CassetteWriteError
from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.session import SessionSettings, TapeSession
from graphtape.cassettes.storage import CassetteLock, CassetteWriter, journal_path, recover_journal, save_cassette


def _it(n: int, size: int = 0) -> Interaction:
    body = json.dumps({"n": n}).encode() + b" " * size
    return Interaction(Request("POST", f"https://x/{n}", Headers(), body), Response(201, "Created"))


def _names(path: Path) -> list[bytes]:
    return [i.request.body.strip() for i in load_cassette(path).interactions]


def _killed_recording(path: Path, keep_existing: bool, items: list[int]) -> None:
    writer = CassetteWriter(path, keep_existing=keep_existing)
    writer.open()
    for n in items:
        writer.append(_it(n))
    writer._lock.release()  # as if killed: the journal stays, nothing else happens


# (what happened to the cassette during the run, what it then holds besides the journal's work)
UNDERNEATH = {
    "left alone": lambda p: None,
    "deleted": lambda p: p.unlink(),
    "replaced by another cassette": lambda p: save_cassette(p, Cassette([_it(90), _it(91)])),
    "emptied": lambda p: save_cassette(p, Cassette([])),
    "rewritten with the same first interaction": lambda p: save_cassette(p, Cassette([_it(0), _it(92)])),
}


@pytest.mark.parametrize("keep_existing", [True, False], ids=["new_episodes", "all"])
@pytest.mark.parametrize("what", list(UNDERNEATH))
def test_a_cassette_changed_during_a_killed_recording_keeps_the_journal(tmp_path: Path, what: str,
                                                                        keep_existing: bool) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0)]))
    _killed_recording(path, keep_existing, [1, 2, 3])
    UNDERNEATH[what](path)
    other = _names(path) if path.exists() else []
    report = recover_journal(path)
    assert report is not None and report.recovered == 3
    names = _names(path)
    assert names[-3:] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']  # the journal's work, once
    if what != "left alone" or keep_existing:
        assert names[:-3] == other  # and whatever the cassette held then: both kept
    assert recover_journal(path) is None and _names(path) == names


def test_a_replacing_run_on_an_untouched_cassette_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0)]))
    _killed_recording(path, False, [1])
    recover_journal(path)
    assert _names(path) == [b'{"n": 1}']


def test_a_yaml_and_a_yml_keep_their_own_body_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "a.yml"
    save_cassette(a, Cassette([_it(1, 4000)]), blob_threshold=100)
    save_cassette(b, Cassette([_it(2, 4000)]), blob_threshold=100)
    save_cassette(b, Cassette([]), blob_threshold=100)  # re-recording a.yml prunes its own bodies only
    assert blob_folder(a) != blob_folder(b)
    assert _names(a) == [b'{"n": 1}']


def test_a_cassette_written_with_the_old_shared_folder_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    save_cassette(path, Cassette([_it(1, 4000)]), blob_threshold=100)
    blob_folder(path).rename(legacy_blob_folder(path))
    assert _names(path) == [b'{"n": 1}']


def test_replay_with_drop_unplayed_is_refused_while_a_recorder_holds_the_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0), _it(1)]))
    with CassetteLock(path):
        with pytest.raises(CassetteLockedError, match="drop-unplayed"):
            TapeSession(SessionSettings(path, RecordMode.NONE, drop_unplayed=True)).open()
    assert len(_names(path)) == 2


def test_drop_unplayed_keeps_what_a_recorder_added_after_the_replay_started(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, Cassette([_it(0), _it(1)]))
    replay = TapeSession(SessionSettings(path, RecordMode.NONE, drop_unplayed=True)).open()
    assert replay.lookup(replay.redact(_it(0).request)) is not None  # plays #0 only
    recorder = CassetteWriter(path, keep_existing=True)  # a recording starts and finishes meanwhile
    recorder.open()
    recorder.append(_it(5))
    recorder.close()
    replay.close()
    assert _names(path) == [b'{"n": 0}', b'{"n": 5}']  # #1 (loaded, never played) dropped; #5 kept


def test_an_append_after_close_is_refused_never_lost(tmp_path: Path) -> None:
    writer = CassetteWriter(tmp_path / "c.yaml", keep_existing=False)
    writer.open()
    writer.append(_it(1))
    writer.close()
    with pytest.raises(CassetteWriteError, match="closed"):
        writer.append(_it(2))
    assert journal_path(tmp_path / "c.yaml").exists() is False
