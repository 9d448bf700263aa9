"""Import mitmproxy's proxy core without importing all of its built-in addons first.

``mitmproxy.master`` imports ``mitmproxy.addons.termlog``, and so the package
``mitmproxy.addons``, whose ``__init__`` imports every built-in addon (the web app
behind mitm.it, LDAP and htpasswd proxy authentication, playback, export, ...) for
its ``default_addons()``. A graphtape proxy uses a dozen of them, and in a pytest
session that import was most of the first test's start-up. :func:`defer_builtin_addons`
registers the package without running its ``__init__``: submodules import on their
own as usual, and the first use of anything the ``__init__`` defines
(``default_addons``) runs it then, so code that needs the whole set still gets it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["defer_builtin_addons"]

_PACKAGE = "mitmproxy.addons"
_lock = threading.RLock()  # re-entrant: running the __init__ may look a name up again


def defer_builtin_addons() -> None:
    """Register ``mitmproxy.addons`` with its ``__init__`` deferred (no-op once it is imported)."""
    with _lock:
        if _PACKAGE in sys.modules:
            return
        import mitmproxy

        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return
        module = importlib.util.module_from_spec(spec)
        loader = spec.loader
        state = {"ran": False}
        submodules = {p.stem for folder in spec.submodule_search_locations for p in Path(folder).iterdir()
                      if p.suffix == ".py" or (p / "__init__.py").is_file()}

        def __getattr__(name: str) -> Any:  # PEP 562: only for names not (yet) in the module
            if name in submodules and not state["ran"]:
                # ``from mitmproxy.addons import x`` asks for x first; not finding it, the import
                # system imports the submodule itself, without the package's __init__.
                raise AttributeError(name)
            with _lock:
                if not state["ran"]:
                    state["ran"] = True
                    loader.exec_module(module)
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}") from None

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        sys.modules[_PACKAGE] = module
        mitmproxy.addons = module  # type: ignore[attr-defined]
