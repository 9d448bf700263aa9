"""`graphtape verify`: recorded requests re-sent to a real (drifting) simulator process."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import EXAMPLES
from graphtape.cli.main import main

pytestmark = pytest.mark.slow

MESSAGE_CREATES = EXAMPLES[:3]
TOKEN = "fake-token-123"


def _runner() -> CliRunner:
    # click < 8.2 mixes stderr into stdout unless told not to; later versions keep them apart anyway.
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def _verify(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = _runner()
    result = runner.invoke(main, ["verify", *args], env={"GRAPHTAPE_TOKEN": TOKEN} if env is None else env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def recorded(record_from_simulator) -> Path:
    return record_from_simulator(examples=MESSAGE_CREATES + EXAMPLES[-2:])  # three creates, a 422 and a 400


def test_no_drift_against_the_simulator_it_was_recorded_from(recorded: Path, run_graphtape) -> None:
    sim = run_graphtape("simulate", "--port", "0")
    code, out, err = _verify("--cassette", str(recorded), "--upstream", sim.url, "--format", "json")
    report = json.loads(out)
    assert code == 0, out
    assert report["totals"] == {"checked": 5, "failed": 0, "error": 0, "warning": 0, "info": 0}
    assert "verifying" in err  # the progress bar goes to stderr


def test_a_private_tls_upstream_is_verified_with_its_ca(recorded: Path, run_graphtape, tmp_path: Path) -> None:
    ca = tmp_path / "simulator-ca.pem"
    sim = run_graphtape("simulate", "--port", "0", "--confdir", str(tmp_path / "conf"), "--ca-out", str(ca))
    https = sim.url.replace("http://", "https://")
    code, out, _ = _verify("--cassette", str(recorded), "--upstream", https, "--upstream-ca", str(ca),
                           "--format", "json")
    assert code == 0, out
    assert json.loads(out)["totals"]["checked"] == 5
    untrusted, out, _ = _verify("--cassette", str(recorded), "--upstream", https, "--format", "json")
    assert untrusted != 0 and "CERTIFICATE_VERIFY_FAILED" in out


@pytest.mark.parametrize(("drift", "kinds"), [
    ("size-as-string", {"type-change"}),
    ("status-200", {"status-change"}),
    ("rename-property", {"undocumented-property", "missing-property"}),
])
def test_drift_is_reported_against_the_drifting_simulator(recorded: Path, run_graphtape, drift: str,
                                                          kinds: set[str]) -> None:
    sim = run_graphtape("simulate", "--port", "0", "--drift", drift)
    code, out, _ = _verify("--cassette", str(recorded), "--upstream", sim.url, "--format", "junit")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and code == 1
    failures = "\n".join(f.text or "" for f in suite.iter("failure"))
    assert {k for k in ("type-change", "status-change", "undocumented-property", "missing-property",
                        "enum-value") if f"[{k}]" in failures} == kinds
    assert int(suite.get("failures", "0")) == 3  # the three creates; the 422 and 400 did not drift


def test_the_token_comes_from_the_environment(recorded: Path, run_graphtape) -> None:
    sim = run_graphtape("simulate", "--port", "0")
    code, _, err = _verify("--cassette", str(recorded), "--upstream", sim.url, env={})
    assert code == 2 and "$GRAPHTAPE_TOKEN" in err
    # a token in another variable; without it the simulator answers 401 and that is drift
    assert _verify("--cassette", str(recorded), "--upstream", sim.url, "--token-env", "MY_TOKEN",
                   env={"MY_TOKEN": TOKEN})[0] == 0


def test_update_rerecords_what_drifted_keeping_redaction(recorded: Path, run_graphtape, tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    shutil.copy(recorded, cassette)
    before = load_cassette(cassette)
    sim = run_graphtape("simulate", "--port", "0", "--drift", "size-as-string")
    code, _, err = _verify("--cassette", str(cassette), "--upstream", sim.url, "--update")
    assert code == 1 and "re-recorded 3 drifted interaction(s)" in err
    after = load_cassette(cassette)
    sizes = [json.loads(i.response.body).get("size") for i in after.interactions[:3]]
    assert all(isinstance(s, str) for s in sizes)
    assert after.interactions[3:] == before.interactions[3:]  # what did not drift is left as it was
    assert {f.code for i in after.interactions[:3] for f in i.meta.findings} >= {"wrong-type"}
    assert TOKEN not in cassette.read_text()
    assert _verify("--cassette", str(cassette), "--upstream", sim.url)[0] == 0  # now it matches


def test_unreachable_service_and_broken_cassette_exit_2(recorded: Path, tmp_path: Path) -> None:
    code, out, _ = _verify("--cassette", str(recorded), "--upstream", "http://127.0.0.1:9", "--timeout", "2")
    assert code == 2 and "no answer" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [\n")
    code, _, err = _verify("--cassette", str(broken))
    assert code == 2 and "broken.yaml" in err


def test_update_does_not_clobber_a_cassette_being_recorded(recorded: Path, run_graphtape, tmp_path: Path) -> None:
    cassette = tmp_path / "busy.yaml"
    shutil.copy(recorded, cassette)
    sim = run_graphtape("simulate", "--port", "0", "--drift", "size-as-string")
    run_graphtape("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                  "--record-mode", "new_episodes")
    code, _, err = _verify("--cassette", str(cassette), "--upstream", sim.url, "--update")
    assert code == 2 and "already being recorded" in err
