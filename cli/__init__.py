"""graphtape's command line (click); embeds mitmproxy in-process."""
