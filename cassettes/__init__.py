"""The cassette layer: model, YAML I/O, redaction, matching, storage. No mitmproxy here."""
