"""Schema drift: responses compared with the documented schema and with a baseline, the drift
config (severities, volatile paths), and the alert log and webhook. No mitmproxy here."""
