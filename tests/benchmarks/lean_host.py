"""graphtape's own mitmproxy host (the one ``graphtape replay``/``record`` run) serving any engine.

    python lean_host.py ENGINE PORT MODE OPTIONS_JSON

ENGINE is one of:
  graphtape      graphtape's addon stack (what ``graphtape replay``/``record`` serve)
  server_replay  mitmproxy's own ServerPlayback addon (what ``--server-replay`` loads)
  fixed          the fixed-response addon (fixed_response.py): the floor of any answering addon
  none           no addon at all: a plain reverse proxy

The host is graphtape's ``run_server`` with its reduced set of mitmproxy built-ins, so
an engine measured here and the same engine measured through stock ``mitmdump -s``
differ only by the host. OPTIONS_JSON holds mitmproxy/addon options with their types
(``{"server_replay": ["f.flows"], "server_replay_reuse": true}``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def engine_addons(engine: str) -> list[Any]:
    if engine == "graphtape":
        from graphtape.addons.proxy.stack import build_stack

        return build_stack().host_addons()
    if engine == "server_replay":
        from mitmproxy.addons.serverplayback import ServerPlayback

        return [ServerPlayback()]
    if engine == "fixed":
        from fixed_response import FixedResponse

        return [FixedResponse()]
    if engine == "none":
        return []
    raise SystemExit(f"lean_host.py: unknown engine {engine!r}")


def main() -> None:
    from graphtape.cli.runtime.server import ServerSpec, run_server

    engine, port, mode, options = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    run_server(ServerSpec(label=f"bench {engine}", mode=mode, port=port, options=options), engine_addons(engine))


if __name__ == "__main__":
    main()
