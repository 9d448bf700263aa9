"""``graphtape record --record-mode`` and ``--drop-unplayed``: the same meanings as the pytest plugin's."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"


def _post(base: str, name: str) -> int:
    body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentBytes": "aGVsbG8="}
    return httpx.post(base + PATH, json=body, headers={"Authorization": "Bearer fake-token-123"},
                      trust_env=False, timeout=30).status_code


def _names(path: Path) -> list[str]:
    return [json.loads(i.request.body)["name"] for i in load_cassette(path).interactions]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphtapeProcess, Path]]:
    """A simulator, and a cassette holding one interaction ("a.txt") recorded through it."""
    folder = tmp_path_factory.mktemp("modes")
    with GraphtapeProcess("simulate", "--port", "0") as sim:
        seed = folder / "seed.yaml"
        with GraphtapeProcess("record", "--cassette", str(seed), "--upstream", sim.url, "--port", "0",
                              "--record-mode", "once") as rec:
            assert _post(rec.url, "a.txt") == 201
        yield sim, seed


# mode, extra options, names sent, statuses expected, names in the cassette afterwards
CASES = [
    ("none", [], ["b.txt"], [599], ["a.txt"]),
    ("once", [], ["b.txt"], [599], ["a.txt"]),
    ("new_episodes", [], ["a.txt", "b.txt"], [201, 201], ["a.txt", "b.txt"]),
    ("all", [], ["a.txt"], [201], ["a.txt"]),
    ("all", [], ["b.txt"], [201], ["b.txt"]),
    ("rewrite", [], ["b.txt"], [201], ["b.txt"]),
    ("new_episodes", ["--drop-unplayed"], ["b.txt"], [201], ["b.txt"]),
]


@pytest.mark.parametrize("mode, extra, sent, statuses, after", CASES)
def test_record_mode(seeded: tuple[GraphtapeProcess, Path], tmp_path: Path, mode: str, extra: list[str],
                     sent: list[str], statuses: list[int], after: list[str]) -> None:
    sim, seed = seeded
    cassette = tmp_path / "c.yaml"
    shutil.copy(seed, cassette)
    with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                          "--record-mode", mode, *extra) as rec:
        assert [_post(rec.url, name) for name in sent] == statuses
    assert rec.returncode == 0, rec.stderr
    assert _names(cassette) == after


def test_replay_drop_unplayed(seeded: tuple[GraphtapeProcess, Path], tmp_path: Path) -> None:
    sim, seed = seeded
    cassette = tmp_path / "c.yaml"
    shutil.copy(seed, cassette)
    with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                          "--record-mode", "new_episodes") as rec:
        assert _post(rec.url, "b.txt") == 201
    assert _names(cassette) == ["a.txt", "b.txt"]
    with GraphtapeProcess("replay", "--cassette", str(cassette), "--port", "0", "--drop-unplayed") as rep:
        assert _post(rep.url, "b.txt") == 201
    assert rep.returncode == 0, rep.stderr
    assert _names(cassette) == ["b.txt"]


def test_re_running_record_keeps_an_existing_cassette(seeded: tuple[GraphtapeProcess, Path], tmp_path: Path,
                                                       run_graphtape) -> None:
    """The default record mode: a new cassette is recorded, an existing one is refused, untouched."""
    sim, _ = seeded
    cassette = tmp_path / "three.yaml"
    first = run_graphtape("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0")
    assert [_post(first.url, n) for n in ("a.txt", "b.txt", "c.txt")] == [201, 201, 201]
    assert first.stop() == 0
    before = cassette.read_bytes()
    assert _names(cassette) == ["a.txt", "b.txt", "c.txt"]

    again = run_graphtape("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0", ready=False)
    again.proc.wait(timeout=60)
    assert again.stop() == 2
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("graphtape record: ") and "exists" in last
    assert "--record-mode new_episodes" in last and "--record-mode all" in last
    assert cassette.read_bytes() == before  # all 3 kept, byte for byte

    more = run_graphtape("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                         "--record-mode", "new_episodes", "--format", "json")
    assert [_post(more.url, n) for n in ("b.txt", "d.txt")] == [201, 201]
    assert more.stop() == 0
    assert _names(cassette) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    summary = json.loads(more.stdout.split("\n", 1)[1])  # after the ready line
    assert summary["exit_code"] == 0 and summary["stopped"] == "recorder"
    (session,) = summary["sessions"]
    assert (session["mode"], session["recorded"], session["replayed"], session["misses"]) == ("new_episodes", 1, 1, 0)
