"""Running mitmproxy for graphtape: the command-line server, the in-process proxy of the
pytest plugin, graphtape commands as child processes, and small stdlib HTTP clients."""
