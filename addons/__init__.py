"""graphtape's Graph knowledge, simulator, drift checks and mitmproxy addons.

Four subpackages, imported one way (each may use ``graphtape.cassettes``; none uses
``graphtape.cli``):

- ``graph``: what Graph is. Attachment routes, the documented schema, validation of
  request and response bodies, the upload-session protocol (URLs, byte ranges, the
  checks across a session). No mitmproxy, no click.
- ``simulation``: a Graph look-alike as pure logic (requests in, answers out): created
  attachments, upload sessions, drift variants. Uses ``graph``.
- ``drift``: comparing responses with the schema and with a baseline, its config, and
  where alerts go (a JSON Lines file, a webhook). Uses ``graph``.
- ``proxy``: the mitmproxy addon classes only (tape, recorder, replayer, simulator,
  alerts, upload-URL routing) and flow conversion. The one package that imports
  mitmproxy; uses the three above.

``mitmdump_addon.py`` is the script ``mitmdump -s`` loads; mitmproxy puts this folder
on ``sys.path`` while it does, so no module here may be named like a top-level package.
"""
