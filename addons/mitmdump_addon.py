"""Script shim for ``mitmdump -s addons/mitmdump_addon.py --set graphtape_cassette=...``.

mitmdump imports this file by path and puts addons/ on sys.path, so it holds no
state and imports only absolute ``graphtape.*`` names (graphtape must be installed
in mitmdump's Python).
"""

from graphtape.addons.proxy.stack import build_stack

addons = build_stack(script=True).host_addons()
