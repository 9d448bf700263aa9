"""graphtape's pytest plugin (entry point ``pytest11``): replay Graph traffic from cassettes in tests.

One in-process mitmproxy per pytest process (per xdist worker) serves every test;
each test that uses the ``graphtape_proxy`` fixture switches it to that test's
cassette and switches away afterwards, which closes the session and writes the
cassette. A failing test's report gets a "graphtape" section naming each miss (the
request sent, the nearest recorded one, the differences) and the findings; with
``--graphtape-strict`` a miss or an error-level finding fails the test by itself.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from graphtape.cassettes.config_file import DEFAULT_GRAPH_URL, ProjectConfig, graph_origin, load_project_config
from graphtape.cassettes.errors import ConfigError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Interaction
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cassettes.session import Miss, TapeSession

if TYPE_CHECKING:
    from graphtape.cli.runtime.inprocess import InProcessProxy

__all__ = ["GraphtapeProxy", "default_cassette_path"]

_NOT_GRAPHTAPE = r"(?!graphtape(\.|$))"  # any module but graphtape's own

DEFAULT_UPSTREAM = DEFAULT_GRAPH_URL
MARKER = "graphtape"
_MARKER_KEYS = {"cassette", "record_mode", "strict", "drop_unplayed", "scope", "exhausted", "honour_latency"}
_HANDLE = pytest.StashKey["GraphtapeProxy"]()
_CONFIG = pytest.StashKey[ProjectConfig]()
# Set per test (marker, command line, then the configuration); the cassette folder does not apply:
# a test's cassettes live beside the test file.
_PER_TEST_KEYS = ("record_mode", "strict", "drop_unplayed", "scope", "exhausted", "cassette_dir", "replay_latency")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("graphtape", "graphtape: replay Microsoft Graph traffic from cassettes")
    group.addoption("--graphtape-record-mode", choices=[m.value for m in RecordMode], default=None,
                    help="none (default: replay only) | once | new_episodes | all | rewrite; "
                         "overrides the marker's record_mode.")
    group.addoption("--graphtape-strict", action="store_true", default=False,
                    help="A cassette miss or an error-level finding fails the test.")
    group.addoption("--graphtape-upstream", default=None, metavar="URL",
                    help=f"Service the reverse-mode URL stands for and records from (default: the project "
                         f"configuration's upstream, else {DEFAULT_UPSTREAM}).")
    group.addoption("--graphtape-graph-url", default=None, metavar="URL",
                    help=f"Origin cassettes record requests under, whatever the upstream is (default: the project "
                         f"configuration's graph_url, else {DEFAULT_GRAPH_URL}).")
    group.addoption("--graphtape-drop-unplayed", action="store_true", default=False,
                    help="Remove interactions a test never played from its cassette.")
    group.addoption("--graphtape-honour-latency", action="store_true", default=False,
                    help="Hold each replayed answer for the upstream latency recorded with it.")
    group.addoption("--graphtape-upstream-ca", default=None, metavar="PEM",
                    help="Extra CA certificate trusted for the upstream's TLS while recording.")
    group.addoption("--graphtape-confdir", default=None, metavar="DIR",
                    help="mitmproxy configuration folder (its CA signs forward-mode TLS). "
                         "Default: a fresh temporary folder per session.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(cassette=None, record_mode=None, strict=None, drop_unplayed=None, scope=None, exhausted=None, "
        "honour_latency=None): "
        "graphtape cassette settings for this test (cassette relative to the test file's folder).",
    )


# ---------------------------------------------------------------- the handle a test gets


def default_cassette_path(test_file: Path, test_name: str) -> Path:
    """``cassettes/<test module>/<test name>.yaml`` beside the test file."""
    safe = re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", test_name).strip("._") or "test"
    return test_file.parent / "cassettes" / test_file.stem / f"{safe}.yaml"


@dataclass
class GraphtapeProxy:
    """What the ``graphtape_proxy`` fixture yields: where to send traffic and what it did."""

    url: str  # reverse mode: use as Graph's base URL (http://127.0.0.1:PORT)
    proxy_url: str  # forward mode: use as HTTP(S) proxy
    cassette: Path
    record_mode: RecordMode
    strict: bool
    ca_cert: Path  # mitmproxy's CA (PEM): trust it for HTTPS through proxy_url
    session: TapeSession | None = None

    @property
    def interactions(self) -> list[Interaction]:
        """Interactions in the cassette as this test leaves it (recorded and kept ones)."""
        return self.session.interactions() if self.session else []

    @property
    def findings(self) -> list[Finding]:
        """Findings of what this test recorded, and those stored with what it replayed."""
        return self.session.findings_seen() if self.session else []

    @property
    def misses(self) -> list[Miss]:
        return self.session.misses_seen() if self.session else []

    def problems(self) -> tuple[list[Miss], list[Finding]]:
        """What strict mode fails a test for: misses and error-level findings."""
        return self.misses, [f for f in self.findings if f.severity is Severity.ERROR]

    def report(self) -> str:
        lines = [f"cassette {self.cassette} (record mode {self.record_mode.value})"]
        if self.session is not None:
            s = self.session.summary()
            lines.append(f"recorded {s['recorded']}, replayed {s['replayed']}, misses {s['misses']}")
        for miss in self.misses:
            lines.append("miss: " + miss.describe())
        for finding in self.findings:
            lines.append(f"finding: {finding}")
        return "\n".join(lines)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def graphtape_server(pytestconfig: pytest.Config) -> Iterator[InProcessProxy]:
    """The session's in-process graphtape proxy (one per pytest process or xdist worker)."""
    # Imported here, not at module level: every pytest run loads this plugin, and
    # mitmproxy costs a second to import; only sessions that use the proxy pay it,
    # and they skip the built-in addons the proxy does not load.
    with warnings.catch_warnings():
        # mitmproxy's own dependencies (ldap3, passlib, ...) warn about deprecations when imported;
        # they are not the user's code, so their warnings stay out of the user's test report.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=_NOT_GRAPHTAPE)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=_NOT_GRAPHTAPE)
        from graphtape.cli.runtime.deferred_addons import defer_builtin_addons

        defer_builtin_addons()
        from graphtape.cli.runtime.inprocess import (
            InProcessProxy,
            ProxySpec,
            ProxyStartError,
        )

    try:
        project = load_project_config(pytestconfig.invocation_params.dir)
        upstream = pytestconfig.getoption("graphtape_upstream") or project.get("upstream", DEFAULT_UPSTREAM)
        graph_url = graph_origin(pytestconfig.getoption("graphtape_graph_url")
                                 or project.get("graph_url", DEFAULT_GRAPH_URL), "--graphtape-graph-url")
    except ConfigError as exc:
        pytest.fail(f"graphtape: {exc}", pytrace=False)
    pytestconfig.stash[_CONFIG] = project
    with tempfile.TemporaryDirectory(prefix="graphtape-conf-") as tmp:
        confdir = Path(pytestconfig.getoption("graphtape_confdir") or tmp)
        extra: dict[str, Any] = {**project.addon_options(exclude=_PER_TEST_KEYS), "graphtape_graph_url": graph_url}
        upstream_ca = pytestconfig.getoption("graphtape_upstream_ca")
        if upstream_ca:
            extra["ssl_verify_upstream_trusted_ca"] = str(Path(upstream_ca).resolve())
        spec = ProxySpec(upstream=upstream, confdir=confdir, options=extra)
        try:
            proxy = InProcessProxy(spec).start()
        except ProxyStartError as exc:
            pytest.fail(f"graphtape: {exc}", pytrace=False)
        try:
            yield proxy
        finally:
            proxy.stop()


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    kw: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        kw.setdefault("cassette", marker.args[0])
    unknown = set(kw) - _MARKER_KEYS
    if unknown:
        pytest.fail(f"graphtape marker: unknown argument(s) {', '.join(sorted(unknown))}; "
                    f"known: {', '.join(sorted(_MARKER_KEYS))}", pytrace=False)
    config = request.config
    test_file = Path(request.node.path)
    if kw.get("cassette"):
        cassette = test_file.parent / Path(kw["cassette"])
    else:
        name = request.node.name
        if request.cls is not None:
            name = f"{request.cls.__name__}.{name}"
        cassette = default_cassette_path(test_file, name)
    project = config.stash.get(_CONFIG, ProjectConfig())
    mode_name = (config.getoption("graphtape_record_mode") or kw.get("record_mode") or project.get("record_mode")
                 or RecordMode.NONE.value)
    try:
        mode = RecordMode(mode_name)
    except ValueError:
        pytest.fail(f"graphtape marker: record_mode {mode_name!r} is not one of "
                    f"{', '.join(m.value for m in RecordMode)}", pytrace=False)
    return {
        "cassette": cassette,
        "mode": mode,
        "strict": bool(config.getoption("graphtape_strict") or _given(kw, project, "strict")),
        "drop_unplayed": bool(config.getoption("graphtape_drop_unplayed") or _given(kw, project, "drop_unplayed")),
        "scope": kw.get("scope") or project.get("scope") or "attachments",
        "exhausted": kw.get("exhausted") or project.get("exhausted") or "repeat",
        "honour_latency": bool(config.getoption("graphtape_honour_latency")
                               or (kw["honour_latency"] if kw.get("honour_latency") is not None
                                   else project.get("replay_latency"))),
    }


def _given(marker: dict[str, Any], project: ProjectConfig, key: str) -> Any:
    """The marker's value when it sets one (False included), else the project configuration's."""
    value = marker.get(key)
    return project.get(key) if value is None else value


@pytest.fixture
def graphtape_proxy(graphtape_server: InProcessProxy, request: pytest.FixtureRequest) -> Iterator[GraphtapeProxy]:
    """The graphtape proxy switched to this test's cassette; the cassette is written after the test."""
    from graphtape.cli.runtime.inprocess import ProxyStartError

    s = _settings(request)
    tape = graphtape_server.stack.tape
    try:
        graphtape_server.configure(
            graphtape_cassette=str(s["cassette"]), graphtape_record_mode=s["mode"].value,
            graphtape_strict=s["strict"], graphtape_drop_unplayed=s["drop_unplayed"],
            graphtape_scope=s["scope"], graphtape_exhausted=s["exhausted"],
            graphtape_replay_latency=s["honour_latency"],
        )
    except ProxyStartError as exc:
        hint = " (record it with --graphtape-record-mode=once)" if s["mode"] is RecordMode.NONE else ""
        pytest.fail(f"graphtape: {exc}{hint}", pytrace=False)
    assert graphtape_server.spec.confdir is not None
    handle = GraphtapeProxy(url=graphtape_server.url, proxy_url=graphtape_server.proxy_url, cassette=s["cassette"],
                            record_mode=s["mode"], strict=s["strict"],
                            ca_cert=graphtape_server.spec.confdir / "mitmproxy-ca-cert.pem", session=tape.session)
    request.node.stash[_HANDLE] = handle
    errors_before = len(tape.close_errors)
    yield handle
    # Switching to no cassette closes this test's session, which writes its cassette.
    graphtape_server.configure(graphtape_cassette="")
    tape.closed_sessions.clear()  # the handle keeps its own session; don't hoard them all
    new_errors = tape.close_errors[errors_before:]
    if new_errors:
        pytest.fail("graphtape could not write the cassette: " + "; ".join(new_errors), pytrace=False)


# ---------------------------------------------------------------- reporting


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is None or report.when != "call":
        return report
    misses, errors = handle.problems()
    if handle.strict and report.passed and (misses or errors):
        report.outcome = "failed"
        report.longrepr = (f"graphtape strict mode: {len(misses)} cassette miss(es), "
                           f"{len(errors)} error-level finding(s)\n" + handle.report())
    if report.failed:
        report.sections.append(("graphtape", handle.report()))
    return report
