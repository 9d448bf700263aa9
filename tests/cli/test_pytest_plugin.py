"""The pytest plugin, driven the way a user runs it: a test module in a fresh folder, run by pytester.

Each run is a separate pytest process (the plugin runs one mitmproxy per process),
recording from a real ``graphtape simulate`` or replaying with the upstream closed.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphtape.cassettes.model import LATENCY_KEY, Interaction
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

# Nothing listens on port 9 (discard): a run that needed the upstream would fail.
CLOSED_UPSTREAM = "http://127.0.0.1:9"

USER_TESTS = '''
import httpx
import pytest

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"
HEADERS = {{"Authorization": "Bearer fake-token-123"}}


def post(base, name):
    body = {{"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentBytes": "aGVsbG8="}}
    return httpx.post(base + PATH, json=body, headers=HEADERS, trust_env=False, timeout=30)


@pytest.mark.parametrize("name", {names!r})
def test_attach(graphtape_proxy, name):
    r = post(graphtape_proxy.url, name)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name
    assert graphtape_proxy.cassette.name == f"test_attach[{{name}}].yaml"
'''


SEND_TESTS = '''
import httpx
import pytest

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"


@pytest.mark.graphtape(cassette="a.yaml")
def test_send(graphtape_proxy):
    for name in {sent!r}:
        body = {{"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentBytes": "aGVsbG8="}}
        r = httpx.post(graphtape_proxy.url + PATH, json=body, headers={{"Authorization": "Bearer fake-token-123"}},
                       trust_env=False, timeout=30)
        if {check}:  # strict-mode tests leave failing to graphtape
            assert r.status_code == 201, r.text
'''


def _send_tests(sent: list[str], check: bool = True) -> str:
    return SEND_TESTS.format(sent=sent, check=check)


def _write_tests(pytester: pytest.Pytester, *names: str) -> Path:
    return pytester.makepyfile(test_user=USER_TESTS.format(names=list(names)))


def _cassette(pytester: pytest.Pytester, name: str) -> Path:
    return pytester.path / "cassettes" / "test_user" / f"test_attach[{name}].yaml"


def _names(path: Path) -> list[str]:
    return [_sent_name(i) for i in load_cassette(path).interactions]


def _sent_name(interaction: Interaction) -> str:
    return str(json.loads(interaction.request.body)["name"])


@pytest.fixture(scope="module")
def sim() -> Iterator[GraphtapeProcess]:
    """One ``graphtape simulate`` for the module's runs."""
    with GraphtapeProcess("simulate", "--port", "0") as proc:
        yield proc


@pytest.fixture(scope="module")
def recorded_a(sim: GraphtapeProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cassette recorded by the plugin holding one interaction (name "a.txt")."""
    folder = tmp_path_factory.mktemp("seed")
    cassette = folder / "a.yaml"
    test_file = folder / "test_seed.py"
    test_file.write_text(_send_tests(["a.txt"]))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file),
                          "--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}"],
                         capture_output=True, text=True, cwd=folder, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return cassette


def test_once_records_a_missing_cassette_then_replays_it_offline(pytester: pytest.Pytester,
                                                                  sim: GraphtapeProcess) -> None:
    _write_tests(pytester, "a.txt", "b.txt")
    first = pytester.runpytest_subprocess("--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}")
    first.assert_outcomes(passed=2)
    for name in ("a.txt", "b.txt"):
        cassette = _cassette(pytester, name)
        assert _names(cassette) == [name]
        assert b"fake-token-123" not in cassette.read_bytes()
    written = {n: _cassette(pytester, n).read_bytes() for n in ("a.txt", "b.txt")}

    offline = pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}")  # record mode none
    offline.assert_outcomes(passed=2)
    assert {n: _cassette(pytester, n).read_bytes() for n in ("a.txt", "b.txt")} == written


def test_missing_cassette_in_replay_mode_says_how_to_record(pytester: pytest.Pytester) -> None:
    _write_tests(pytester, "a.txt")
    result = pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cassette not found*--graphtape-record-mode=once*"])


@pytest.mark.parametrize("strict", [False, True])
def test_a_changed_request_fails_and_the_report_names_the_difference(
        pytester: pytest.Pytester, recorded_a: Path, strict: bool) -> None:
    # The test sends "b.txt" where the cassette holds "a.txt"; in strict mode the test
    # does not even look at the answer, so only graphtape can fail it.
    pytester.makepyfile(test_user=_send_tests(["b.txt"], check=not strict))
    shutil.copy(recorded_a, pytester.path / "a.yaml")
    args = [f"--graphtape-upstream={CLOSED_UPSTREAM}"] + (["--graphtape-strict"] if strict else [])
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*graphtape*",
        "*no recorded interaction matches POST*/attachments",
        "*nearest recorded request: #0 POST*",
        '*body $.name: sent "b.txt", recorded "a.txt"*',
    ])
    if strict:
        result.stdout.fnmatch_lines(["*graphtape strict mode: 1 cassette miss(es)*"])


def test_strict_mode_passes_a_clean_replay(pytester: pytest.Pytester, recorded_a: Path) -> None:
    pytester.makepyfile(test_user=_send_tests(["a.txt"], check=False))
    shutil.copy(recorded_a, pytester.path / "a.yaml")
    pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}", "--graphtape-strict").assert_outcomes(
        passed=1)


# Start: a cassette holding "a.txt". The test sends "b.txt" (and "a.txt" where listed).
# Expected: the test's outcome and the names the cassette holds afterwards.
RECORD_MODE_CASES = [
    # mode, extra args, sent, outcome, cassette afterwards
    ("none", [], ["b.txt"], "failed", ["a.txt"]),
    ("once", [], ["b.txt"], "failed", ["a.txt"]),  # the cassette exists: replay only
    ("new_episodes", [], ["b.txt"], "passed", ["a.txt", "b.txt"]),
    ("new_episodes", [], ["a.txt", "b.txt"], "passed", ["a.txt", "b.txt"]),  # a.txt replayed, not re-recorded
    ("all", [], ["b.txt"], "passed", ["b.txt"]),  # replaces, does not append
    ("all", [], ["a.txt"], "passed", ["a.txt"]),  # re-recorded once, not appended twice
    ("rewrite", [], ["b.txt"], "passed", ["b.txt"]),
    ("new_episodes", ["--graphtape-drop-unplayed"], ["b.txt"], "passed", ["b.txt"]),
]




@pytest.mark.parametrize("mode, extra, sent, outcome, after", RECORD_MODE_CASES)
def test_each_record_mode_does_what_it_says(pytester: pytest.Pytester, sim: GraphtapeProcess, recorded_a: Path,
                                            mode: str, extra: list[str], sent: list[str], outcome: str,
                                            after: list[str]) -> None:
    pytester.makepyfile(test_user=_send_tests(sent))
    shutil.copy(recorded_a, pytester.path / "a.yaml")
    result = pytester.runpytest_subprocess(f"--graphtape-record-mode={mode}", f"--graphtape-upstream={sim.url}",
                                           *extra)
    result.assert_outcomes(**{outcome: 1})
    assert _names(pytester.path / "a.yaml") == after


def test_drop_unplayed_without_recording_keeps_what_was_played(pytester: pytest.Pytester,
                                                               sim: GraphtapeProcess) -> None:
    _write_tests(pytester, "a.txt")
    pytester.runpytest_subprocess("--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}").assert_outcomes(
        passed=1)
    # Give the cassette an interaction the test never sends, then replay with drop-unplayed.
    cassette = _cassette(pytester, "a.txt")
    content = load_cassette(cassette)
    played = content.interactions[0]
    stale = dataclasses.replace(played, request=dataclasses.replace(
        played.request, body=played.request.body.replace(b"a.txt", b"old.txt")))
    content.interactions.insert(0, stale)
    save_cassette(cassette, content)
    assert _names(cassette) == ["old.txt", "a.txt"]
    pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}",
                                  "--graphtape-drop-unplayed").assert_outcomes(passed=1)
    assert _names(cassette) == ["a.txt"]


def test_marker_cassette_path_and_class_tests(pytester: pytest.Pytester, sim: GraphtapeProcess) -> None:
    pytester.makepyfile(test_user='''
import httpx
import pytest

PATH = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
BODY = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "m.txt", "contentBytes": "aGVsbG8="}


@pytest.mark.graphtape(cassette="shared/marked.yaml", record_mode="once")
def test_marked(graphtape_proxy):
    r = httpx.post(graphtape_proxy.url + PATH, json=BODY, headers={"Authorization": "Bearer fake-token-123"},
                   trust_env=False)
    assert r.status_code == 201
    assert len(graphtape_proxy.interactions) == 1
    assert graphtape_proxy.findings == []


class TestGroup:
    @pytest.mark.graphtape(record_mode="once")
    def test_in_class(self, graphtape_proxy):
        assert graphtape_proxy.interactions == []
''')
    result = pytester.runpytest_subprocess(f"--graphtape-upstream={sim.url}")
    result.assert_outcomes(passed=2)
    assert _names(pytester.path / "shared" / "marked.yaml") == ["m.txt"]
    assert (pytester.path / "cassettes" / "test_user" / "TestGroup.test_in_class.yaml").exists()


def test_two_xdist_workers_record_distinct_cassettes(pytester: pytest.Pytester, sim: GraphtapeProcess) -> None:
    names = [f"w{i}.txt" for i in range(6)]
    _write_tests(pytester, *names)
    # Each test also notes which worker's proxy served it.
    pytester.makeconftest('''
import os
import pytest

@pytest.fixture(autouse=True)
def note_proxy(request):
    if "graphtape_proxy" not in request.fixturenames:
        return
    proxy = request.getfixturevalue("graphtape_proxy")
    folder = proxy.cassette.parents[2] / "served"
    folder.mkdir(exist_ok=True)
    (folder / request.node.name).write_text(os.environ["PYTEST_XDIST_WORKER"] + " " + proxy.url)
''')
    result = pytester.runpytest_subprocess("-n", "2", "--graphtape-record-mode=once",
                                           f"--graphtape-upstream={sim.url}")
    result.assert_outcomes(passed=len(names))
    for name in names:
        assert _names(_cassette(pytester, name)) == [name]
    served = {p.read_text() for p in (pytester.path / "served").iterdir()}
    workers = {s.split()[0] for s in served}
    assert workers == {"gw0", "gw1"}, served
    assert len(served) == 2, "one proxy per worker, reused by all of its tests"
    assert not list(pytester.path.rglob("*.journal")) and not list(pytester.path.rglob("*.lock"))


def test_strict_mode_fails_on_an_error_finding_and_reports_it(pytester: pytest.Pytester,
                                                              sim: GraphtapeProcess) -> None:
    pytester.makepyfile(test_user='''
import httpx

PATH = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"


def test_untyped_attachment(graphtape_proxy):
    # Graph rejects an attachment without @odata.type; the test expects that, graphtape flags it.
    r = httpx.post(graphtape_proxy.url + PATH, json={"name": "x.txt", "contentBytes": "aGVsbG8="},
                   headers={"Authorization": "Bearer fake-token-123"}, trust_env=False)
    assert r.status_code == 422
''')
    lenient = pytester.runpytest_subprocess("--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}")
    lenient.assert_outcomes(passed=1)
    for args in (["--graphtape-record-mode=rewrite", f"--graphtape-upstream={sim.url}"],  # recording
                 [f"--graphtape-upstream={CLOSED_UPSTREAM}"]):  # replaying: the stored findings count too
        strict = pytester.runpytest_subprocess("--graphtape-strict", *args)
        strict.assert_outcomes(failed=1)
        strict.stdout.fnmatch_lines(["*graphtape strict mode: 0 cassette miss(es), * error-level finding(s)*",
                                     "*finding: error: request*@odata.type*"])


HELD_TESTS = '''
import time

import httpx
import pytest

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"


@pytest.mark.graphtape(cassette="a.yaml", honour_latency=True)
def test_held(graphtape_proxy):
    body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "aGVsbG8="}
    started = time.monotonic()
    r = httpx.post(graphtape_proxy.url + PATH, json=body, headers={"Authorization": "Bearer fake-token-123"},
                   trust_env=False, timeout=30)
    assert r.status_code == 201, r.text
    assert time.monotonic() - started >= 1.5
'''


@pytest.mark.parametrize("asked_by", ["marker", "project configuration"])
def test_honour_latency_holds_a_replayed_answer_for_its_recorded_latency(pytester: pytest.Pytester,
                                                                          recorded_a: Path, asked_by: str) -> None:
    content = load_cassette(recorded_a)
    recorded = content.interactions[0]
    extra = (*((k, v) for k, v in recorded.meta.extra if k != LATENCY_KEY), (LATENCY_KEY, 1.5))
    content.interactions[0] = dataclasses.replace(recorded, meta=dataclasses.replace(recorded.meta, extra=extra))
    save_cassette(pytester.path / "a.yaml", content)
    if asked_by == "marker":
        pytester.makepyfile(test_user=HELD_TESTS)
    else:
        pytester.makepyprojecttoml("[tool.graphtape]\nreplay_latency = true\n")
        pytester.makepyfile(test_user=HELD_TESTS.replace(", honour_latency=True", ""))
    pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}").assert_outcomes(passed=1)


@pytest.mark.parametrize("warning_flags", [[], ["-W", "error::DeprecationWarning"]], ids=["default", "W-error"])
def test_mitmproxy_dependency_warnings_stay_out_of_a_users_report(pytester: pytest.Pytester, recorded_a: Path,
                                                                   warning_flags: list[str]) -> None:
    """A project with no warning filters of its own: the plugin keeps mitmproxy's dependencies'
    DeprecationWarnings (ldap3, passlib on import) out of it, even under -W error::DeprecationWarning."""
    pytester.makepyfile(test_user=_send_tests(["a.txt"]))
    shutil.copy(recorded_a, pytester.path / "a.yaml")
    result = pytester.runpytest_subprocess(f"--graphtape-upstream={CLOSED_UPSTREAM}", "-p", "no:cacheprovider",
                                           *warning_flags)
    result.assert_outcomes(passed=1)
    text = result.stdout.str() + result.stderr.str()
    assert "warnings summary" not in text and "DeprecationWarning" not in text, text


def test_the_project_configuration_sets_defaults_and_the_command_line_wins(pytester: pytest.Pytester,
                                                                           sim: GraphtapeProcess) -> None:
    pytester.makepyprojecttoml('[tool.graphtape]\nrecord_mode = "once"\ngraph_url = "https://graph.microsoft.us"\n'
                               f'upstream = "{sim.url}"\nredact_headers = ["X-Api-Key"]\n')
    pytester.makepyfile(test_user=_send_tests(["a.txt"]).replace(
        '{"Authorization": "Bearer fake-token-123"}', '{"Authorization": "Bearer fake-token-123", "X-Api-Key": "k-9"}'))
    pytester.runpytest_subprocess().assert_outcomes(passed=1)  # once + upstream from the file: recorded
    (interaction,) = load_cassette(pytester.path / "a.yaml").interactions
    assert interaction.request.uri.startswith("https://graph.microsoft.us/v1.0/")
    assert interaction.request.headers.get("x-api-key") == "REDACTED"

    pytester.makepyfile(test_user=_send_tests(["b.txt"]))  # not in the cassette
    # the command line's record mode beats the file's once: none, so b.txt is a miss
    pytester.runpytest_subprocess("--graphtape-record-mode=none").assert_outcomes(failed=1)
    (pytester.path / "pyproject.toml").write_text('[tool.graphtape]\nrecod_mode = "once"\n')
    broken = pytester.runpytest_subprocess()
    broken.assert_outcomes(errors=1)
    broken.stdout.fnmatch_lines(["*pyproject.toml [[]tool.graphtape[]]: unknown key 'recod_mode'; "
                                 "did you mean 'record_mode'?*"])
