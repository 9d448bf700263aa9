"""defer_builtin_addons: mitmproxy's core imports without its thirty built-in addons, and nothing is lost.

Each case runs in a fresh interpreter, since what matters is what gets imported. The
expected set of built-in addons comes from mitmproxy itself (its ``default_addons()``
imported the ordinary way, in another fresh interpreter).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters

DEFER = "from graphtape.cli.runtime.deferred_addons import defer_builtin_addons; defer_builtin_addons()\n"


def _run(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


REPORT = ("import json, sys\n"
          "print(json.dumps({'loaded': sorted(m for m in sys.modules if m.startswith('mitmproxy.addons.')),"
          " 'flask': 'flask' in sys.modules, 'ldap3': 'ldap3' in sys.modules}))\n")


def test_the_proxy_core_imports_without_the_unused_builtins() -> None:
    deferred = _run(DEFER + "import mitmproxy.master\nimport graphtape.cli.runtime.inprocess\n" + REPORT)
    ordinary = _run("import mitmproxy.master\n" + REPORT)
    assert len(deferred["loaded"]) < len(ordinary["loaded"])  # type: ignore[arg-type]
    for unused in ("mitmproxy.addons.onboarding", "mitmproxy.addons.proxyauth", "mitmproxy.addons.clientplayback",
                   "mitmproxy.addons.serverplayback"):
        assert unused in ordinary["loaded"]  # type: ignore[operator]
        assert unused not in deferred["loaded"]  # type: ignore[operator]
    assert ordinary["flask"] and ordinary["ldap3"]
    assert not deferred["flask"] and not deferred["ldap3"]


@pytest.fixture(scope="module")
def stock_addons() -> object:
    return _run("from mitmproxy.addons import default_addons\nimport json\n"
                "print(json.dumps({'names': [type(a).__name__ for a in default_addons()]}))")["names"]


@pytest.mark.parametrize("use", [
    "from mitmproxy.addons import default_addons; names = [type(a).__name__ for a in default_addons()]",
    "import mitmproxy.addons; names = [type(a).__name__ for a in mitmproxy.addons.default_addons()]",
    "from mitmproxy.addons import termlog; from mitmproxy import addons; names = [type(a).__name__ for a in "
    "addons.default_addons()]",
])
def test_whatever_needs_the_whole_package_still_gets_it(use: str, stock_addons: list[str]) -> None:
    got = _run(DEFER + "import mitmproxy.master\n" + use + "\nimport json\nprint(json.dumps({'names': names}))")
    assert got["names"] == stock_addons


def test_unknown_names_still_raise_attribute_error() -> None:
    got = _run(DEFER + "import mitmproxy.addons as a\n"
               "try:\n    a.no_such_thing\nexcept AttributeError as e:\n    msg = str(e)\n"
               "import json\nprint(json.dumps({'msg': msg}))")
    assert "no_such_thing" in str(got["msg"])


def test_it_does_nothing_once_the_package_is_imported() -> None:
    got = _run("import mitmproxy.addons as before\n" + DEFER +
               "import mitmproxy.addons as after, json\nprint(json.dumps({'same': before is after}))")
    assert got["same"] is True
