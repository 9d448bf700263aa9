"""The mitmproxy glue: graphtape's addon classes and flow conversion, nothing else.

Each addon module holds one class with mitmproxy's hooks in lifecycle order; the
Graph knowledge, the simulator's behaviour and the drift checks they call live in
``graphtape.addons.graph``, ``.simulation`` and ``.drift``.
"""
