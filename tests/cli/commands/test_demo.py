"""``graphtape demo`` end to end, and each way it must fail loudly when a step does not do what it says.

The failures are real: a cassette path that is a folder, cassettes that are short or empty,
a request graphtape passes through unrecorded, and a server that answers differently from the
recording (a live simulator standing where the replay should be).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.model import Cassette
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette
from graphtape.cli.commands.demo import (
    DemoFailedError,
    check_miss,
    check_replayed,
    record_from_simulator,
    replay_example,
)
from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import EXAMPLES, ExampleRequest
from graphtape.cli.runtime.traffic import Answer

pytestmark = pytest.mark.slow


def _demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", "demo", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, stdin=subprocess.DEVNULL, env={**os.environ})


def test_demo_runs_every_step_and_says_ok(tmp_path: Path) -> None:
    # A project configuration in the working directory must not change the demo.
    (tmp_path / "graphtape.yaml").write_text("cassette_dir: elsewhere\nrecord_mode: none\n")
    done = _demo("--keep", str(tmp_path / "kept"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.strip().splitlines()[-1] == "demo: OK"
    for header in ("1. Replaying the shipped example", "2. Recording from the built-in simulator",
                   "3. Simulator stopped; replaying the new cassette"):
        assert header in out
    assert out.count(" identical") == len(EXAMPLES) + 4 and "DIFFERENT" not in out
    assert "a changed request -> 599" in out
    assert len(load_cassette(tmp_path / "kept" / "demo.yaml").interactions) == 4
    assert "Traceback" not in done.stderr


def test_demo_fails_at_step_2_when_the_cassette_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "kept" / "demo.yaml").mkdir(parents=True)  # the cassette's path is taken by a folder
    done = _demo("--keep", str(tmp_path / "kept"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("graphtape demo: demo FAILED at step 2 (recording from the simulator): "), last
    assert "graphtape record did not start" in last and "demo: OK" not in done.stdout
    assert "Traceback" not in done.stderr


def _shortened(tmp_path: Path, keep: int) -> Path:
    example = load_cassette(example_cassette())
    path = tmp_path / f"short-{keep}.yaml"
    save_cassette(path, Cassette(interactions=example.interactions[:keep], meta=example.meta))
    return path


@pytest.mark.parametrize("keep", [0, 3], ids=["empty", "short"])
def test_step_1_fails_on_an_empty_or_short_example_cassette(tmp_path: Path, keep: int) -> None:
    with pytest.raises(DemoFailedError, match=rf"step 1 .*holds {keep} interactions; the example has "
                                              rf"{len(EXAMPLES)} requests") as failed:
        replay_example(_shortened(tmp_path, keep))
    assert failed.value.step == 1


def test_step_2_fails_when_the_cassette_is_short(tmp_path: Path, simulator) -> None:
    """A call outside the recorded scope (creating a contact: no attachments there) is passed through
    unrecorded: one answer short in the cassette."""
    path = "/v1.0/users/adele@contoso.com/contacts"
    other = ExampleRequest("not an attachment call", path, b"{}", 0)
    status = httpx.post(simulator.url + path, content=b"{}", headers=other.all_headers(), trust_env=False,
                        timeout=30).status_code
    picks = [EXAMPLES[0], ExampleRequest(other.name, path, b"{}", status)]
    with pytest.raises(DemoFailedError, match=r"step 2 .*holds 1 interactions; 2 requests were recorded"):
        record_from_simulator(tmp_path / "demo.yaml", picks)


def test_step_3_fails_when_the_replay_answers_differently(tmp_path: Path, simulator) -> None:
    """A live simulator where the replay should be: new ids and times, so not the recorded bytes."""
    recorded = load_cassette(example_cassette()).interactions[:2]
    expected = [Answer(i.response.status_code, [], i.response.body) for i in recorded]
    with pytest.raises(DemoFailedError, match=r"step 3 .*2 of 2 answers differ from the cassette"):
        check_replayed(3, simulator.url, list(EXAMPLES[:2]), expected)


def test_step_3_fails_when_a_changed_request_is_not_a_miss(simulator) -> None:
    with pytest.raises(DemoFailedError, match=r"step 3 .*answered 201, not graphtape's miss \(599\)"):
        check_miss(3, simulator.url)
