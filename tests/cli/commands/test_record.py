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
