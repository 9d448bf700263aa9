"""InProcessProxy.configure: the pytest plugin's cassette switch, without mitmproxy's copy of every option.

The expected behaviour is mitmproxy's own ``OptManager.update``: the values are set, every
addon's ``configure`` sees them, and an ``OptionsError`` from an addon puts the previous
values back (and tells the addons again) before it reaches the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions, options

from graphtape.cassettes.model import Cassette
from graphtape.cassettes.storage import save_cassette
from graphtape.cli.runtime.inprocess import InProcessProxy, ProxySpec, ProxyStartError, _update_options

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessProxy]:
    folder = tmp_path_factory.mktemp("proxy")
    running = InProcessProxy(ProxySpec(upstream="http://127.0.0.1:9", confdir=folder / "conf")).start()
    try:
        yield running
    finally:
        running.stop()


def test_a_switch_opens_the_session_and_closing_it_clears_it(proxy: InProcessProxy, tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    save_cassette(cassette, Cassette(interactions=[]))
    proxy.configure(graphtape_cassette=str(cassette), graphtape_record_mode="none", graphtape_strict=True)
    assert proxy.stack.tape.session is not None and proxy.stack.tape.session.path == cassette
    assert proxy.call(lambda: proxy.master.options.graphtape_strict) is True  # type: ignore[union-attr]
    proxy.configure(graphtape_cassette="", graphtape_strict=False)
    assert proxy.stack.tape.session is None


def test_a_refused_switch_puts_the_previous_values_back(proxy: InProcessProxy, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    save_cassette(good, Cassette(interactions=[]))
    proxy.configure(graphtape_cassette=str(good), graphtape_record_mode="none")
    with pytest.raises(ProxyStartError, match="not found"):
        proxy.configure(graphtape_cassette=str(tmp_path / "missing.yaml"), graphtape_record_mode="none",
                        graphtape_exhausted="miss")
    opts = proxy.call(lambda: proxy.master.options)  # type: ignore[union-attr]
    assert (opts.graphtape_cassette, opts.graphtape_exhausted) == (str(good), "repeat")
    # The addons were told again: the Tape reopened the previous cassette.
    assert proxy.stack.tape.session is not None and proxy.stack.tape.session.path == good
    proxy.configure(graphtape_cassette="")


class _Refuses:
    """An addon that refuses one value of one option, as the Tape refuses a missing cassette."""

    def load(self, loader: object) -> None:
        loader.add_option("probe", str, "ok", "")  # type: ignore[attr-defined]
        loader.add_option("other", int, 0, "")  # type: ignore[attr-defined]

    def configure(self, updated: set[str]) -> None:
        from mitmproxy import ctx

        if "probe" in updated and ctx.options.probe == "bad":
            raise exceptions.OptionsError("probe: bad")


@pytest.mark.parametrize("values", [{"probe": "fine", "other": 3}, {"probe": "bad", "other": 3}])
def test_same_outcome_as_mitmproxys_own_update(values: dict[str, object]) -> None:
    from mitmproxy.addonmanager import AddonManager
    from mitmproxy.master import Master

    outcomes = []
    loop = asyncio.new_event_loop()
    for update in (lambda o, v: o.update(**v), _update_options):
        master = Master(options.Options(), event_loop=loop)
        assert isinstance(master.addons, AddonManager)
        master.addons.add(_Refuses())
        try:
            update(master.options, values)
            error = ""
        except exceptions.OptionsError as exc:
            error = str(exc)
        outcomes.append((master.options.probe, master.options.other, error))
    loop.close()
    assert outcomes[0] == outcomes[1]
