"""The mitmproxy side of graphtape: Graph routes and schema, recorder, replayer, simulator."""
