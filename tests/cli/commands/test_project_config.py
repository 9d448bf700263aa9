"""record and replay take their defaults from the project's configuration; their options override it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import EXAMPLES

pytestmark = pytest.mark.slow

PYPROJECT = '''[project]
name = "my-app"

[tool.graphtape]
record_mode = "new_episodes"
graph_url = "https://graph.microsoft.us"
redact_headers = ["X-Api-Key"]
cassette_dir = "tests/cassettes"
'''


def _send(url: str, name: str) -> int:
    ex = EXAMPLES[0]
    body = ex.body.replace(b"menu.txt", name.encode())
    return httpx.post(url + ex.path, content=body, headers={**ex.all_headers(), "X-Api-Key": "key-from-vault-123"},
                      trust_env=False, timeout=30).status_code


def test_record_and_replay_follow_pyproject_and_their_options_override_it(run_graphtape, simulator,
                                                                            tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    work = tmp_path / "src"  # run from a subfolder: the file is found upward
    work.mkdir()
    (tmp_path / "tests" / "cassettes").mkdir(parents=True)
    cassette = tmp_path / "tests" / "cassettes" / "mail.yaml"

    first = run_graphtape("record", "--cassette", "mail.yaml", "--upstream", simulator.url, "--port", "0", cwd=work)
    assert "record mode new_episodes" in first.stdout
    assert _send(first.url, "a.txt") == 201
    assert first.stop() == 0
    # again without --record-mode: the configured new_episodes adds to the cassette instead of refusing
    second = run_graphtape("record", "--cassette", "mail.yaml", "--upstream", simulator.url, "--port", "0",
                           "--graph-url", "https://graph.microsoft.com", cwd=work)
    assert _send(second.url, "b.txt") == 201
    assert second.stop() == 0

    interactions = load_cassette(cassette).interactions
    assert [i.request.uri.split("/v1.0/")[0] for i in interactions] == ["https://graph.microsoft.us",
                                                                       "https://graph.microsoft.com"]
    assert "key-from-vault-123" not in cassette.read_text()
    assert all(i.request.headers.get("x-api-key") == "REDACTED" for i in interactions)

    rep = run_graphtape("replay", "--cassette", "mail.yaml", "--port", "0", cwd=work)
    assert _send(rep.url, "a.txt") == 201
    assert rep.stop() == 0
    # an option for the cassette folder overrides the configured one
    outside = run_graphtape("replay", "--cassette", str(cassette), "--cassette-dir", str(tmp_path / "src"),
                            "--port", "0", cwd=work, ready=False)
    outside.proc.wait(timeout=60)
    assert outside.stop() == 2 and "outside the cassette folder" in outside.stderr


def test_replay_latency_in_the_configuration_is_replays_honour_latency_default() -> None:
    from graphtape.cassettes.config_file import ProjectConfig
    from graphtape.cli.commands.project_config import command_defaults

    defaults = command_defaults(ProjectConfig({"replay_latency": True}))
    assert defaults["replay"]["honour_latency"] is True
    assert "honour_latency" not in defaults["record"]  # record answers from the upstream, as it answers
