"""Benchmark: validation cost per request, the hand-written models (before) against the generated ones.

Not a test (pytest does not collect ``bench_*.py``): it prints figures and the ratio measured
in one run.

    .venv/bin/python tests/benchmarks/bench_validation.py [--before d70bdc0] [--rounds 7] [--requests 2000]

"Before" is graphtape at commit ``--before`` (default d70bdc0, the last commit with the
hand-written route table and models), exported with ``git archive`` into a temporary folder;
"after" is this checkout. Each side runs in a fresh child process of the same interpreter on
the same host, loading its own ``graphtape`` package from a folder of links (as .ci/lint
builds one), and the two take turns, round after round, so machine noise hits both alike.

A request's cost is what the recorder pays per attachment call: matching the route, then
checking the request and its response (``match_route`` + ``validate_request`` +
``validate_response``), over a mix of calls both versions know: file, item and reference
attachments on messages, events, group posts and To Do tasks, and an upload session. The
first call of each kind (imports, loading the metadata, building models) is reported apart
as the cold start. Routes only the generated table knows (sendMail with attachments inline)
are timed on the after side only. The route count of each side is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("addons", "cassettes", "cli")

# Runs in the child: imports graphtape from the folder given, times the workload, prints JSON.
WORKER = r'''
import json, sys, time
tree, requests, inline = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
# Drop the editable install's finder so this process sees only the graphtape in ``tree``.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, tree)
started = time.perf_counter()
from graphtape.addons.graph import routes
from graphtape.addons.graph.validation import validate_request, validate_response
imported = time.perf_counter() - started

JSON = {"content-type": "application/json"}
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "menu.txt", "contentType": "text/plain",
        "contentBytes": "U291cCBvZiB0aGUgZGF5OiB0b21hdG8uCg=="}
FILE_ANSWER = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u')/messages('m')/attachments/$entity",
               **FILE, "id": "AAMkAOumYv2xpkivmPm5lzQNMQYAAAE=", "lastModifiedDateTime": "2026-11-26T20:42:34Z",
               "size": 185, "isInline": False, "contentId": None, "contentLocation": None}
ITEM = {"@odata.type": "#microsoft.graph.itemAttachment", "name": "Team lunch",
        "item": {"@odata.type": "microsoft.graph.event", "subject": "Team lunch",
                 "start": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-01T13:00:00", "timeZone": "UTC"}}}
ITEM_ANSWER = {**ITEM, "id": "AAMkAJO4d_mxjEvrpaBs3HIpYNYAAAI=", "lastModifiedDateTime": "2026-11-26T20:42:34Z",
               "contentType": None, "size": 340, "isInline": False}
REFERENCE = {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Pics", "sourceUrl": "https://contoso.com/p",
             "providerType": "oneDriveBusiness", "permission": "view", "isFolder": True}
REFERENCE_ANSWER = {**REFERENCE, "id": "AAMkAGE1Mg72tgf7hJp0PICVGCc0g=", "lastModifiedDateTime": "2016-03-12T06:04:38Z",
                    "contentType": None, "size": 382, "isInline": False, "thumbnailUrl": None, "previewUrl": None}
TASK = {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile", "contentType": "image/gif",
        "contentBytes": "R0lGODdhEAYEAA7A"}
TASK_ANSWER = {**TASK, "id": "AAMkADNkN2R", "lastModifiedDateTime": "2017-01-26T08:48:28Z", "size": 12}
SESSION = {"AttachmentItem": {"attachmentType": "file", "name": "flower", "size": 3483322}}
SESSION_ANSWER = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession",
                  "uploadUrl": "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=x",
                  "expirationDateTime": "2019-09-25T01:09:30.7671707Z", "nextExpectedRanges": ["0-"]}
SEND = {"message": {"subject": "Meet for lunch?", "body": {"contentType": "text", "content": "x"},
                    "toRecipients": [{"emailAddress": {"address": "meganb@contoso.com"}}], "attachments": [FILE]}}

COMMON = [
    ("/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments", FILE, 201, FILE_ANSWER),
    ("/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments", ITEM, 201, ITEM_ANSWER),
    ("/beta/users/u/messages/AAMkAGI2THVSAAB=/event/attachments", REFERENCE, 201, REFERENCE_ANSWER),
    ("/v1.0/groups/g/conversations/c/threads/t/posts/p/attachments", FILE, 201, FILE_ANSWER),
    ("/v1.0/me/events/e/attachments", FILE, 201, FILE_ANSWER),
    ("/v1.0/me/todo/lists/l/tasks/t/attachments", TASK, 201, TASK_ANSWER),
    ("/v1.0/me/messages/m/attachments/createUploadSession", SESSION, 201, SESSION_ANSWER),
]
INLINE = [("/v1.0/me/sendMail", SEND, 202, None)]
calls = [(path, json.dumps(body).encode(), status, json.dumps(answer).encode() if answer else b"")
         for path, body, status, answer in (INLINE if inline else COMMON)]

def one(path, body, status, answer):
    match = routes.match_route("POST", path)
    assert match is not None, path
    validate_request(match, "POST", JSON, body)
    validate_response(match, status, JSON, answer, body)

started = time.perf_counter()
for call in calls:
    one(*call)
cold = time.perf_counter() - started
started = time.perf_counter()
for n in range(requests):
    one(*calls[n % len(calls)])
per_request = (time.perf_counter() - started) / requests

if hasattr(routes, "ROUTES"):  # the hand-written table: one route per template, on its versions
    counts = {v: sum(v in r.versions for r in routes.ROUTES) for v in ("v1.0", "beta")}
    counts["inline"] = {"v1.0": 0, "beta": 0}
else:
    counts = {v: sum(v in r.versions and not r.operation.is_inline for r in routes.all_routes()) for v in ("v1.0", "beta")}
    counts["inline"] = {v: sum(v in r.versions and r.operation.is_inline for r in routes.all_routes())
                        for v in ("v1.0", "beta")}
print(json.dumps({"import": imported, "cold": cold, "per_request": per_request, "routes": counts}))
'''


def _tree(folder: Path, source: Path) -> Path:
    """A folder holding ``graphtape/<package>`` links to ``source/<package>``."""
    root = folder / "graphtape"
    root.mkdir(parents=True)
    for package in PACKAGES:
        if (source / package).is_dir():
            (root / package).symlink_to(source / package)
    return folder


def _export(commit: str, folder: Path) -> Path:
    """The packages of ``commit``, extracted from this repository with git archive."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, *PACKAGES], capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"bench_validation: cannot export {commit} from {REPO}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _run(tree: Path, requests: int, inline: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(requests), "1" if inline else "0"],
                          capture_output=True, text=True, env=env, cwd=tree)
    if done.returncode != 0:
        sys.exit(f"bench_validation: the worker failed on {tree}:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="d70bdc0", help="the commit with the hand-written models")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000, help="requests timed per round and side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphtape-bench-") as temp:
        folder = Path(temp)
        trees = {
            "before": _tree(folder / "before-tree", _export(args.before, folder / "before-src")),
            "after": _tree(folder / "after-tree", REPO),
        }
        runs: dict[str, list[dict[str, object]]] = {"before": [], "after": []}
        for n in range(args.rounds):
            for side in (("before", "after") if n % 2 == 0 else ("after", "before")):
                runs[side].append(_run(trees[side], args.requests, inline=False))
        inline_runs = [_run(trees["after"], args.requests, inline=True) for _ in range(3)]

    def median(side: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[side])  # type: ignore[arg-type]

    print(f"validation per request (match_route + validate_request + validate_response), "
          f"{args.rounds} interleaved rounds x {args.requests} requests, Python {sys.version.split()[0]}")
    print(f"{'':28}{'before':>12}{'after':>12}{'after/before':>14}")
    for key, label, scale, unit in (("per_request", "per request", 1e6, "us"), ("cold", "first 7 calls (cold)", 1e3, "ms"),
                                    ("import", "import", 1e3, "ms")):
        before, after = median("before", key), median("after", key)
        print(f"{label:28}{before * scale:>10.1f}{unit}{after * scale:>10.1f}{unit}{after / before:>13.2f}x")
    spread = {side: [round(float(r["per_request"]) * 1e6, 1) for r in runs[side]] for side in runs}  # type: ignore[arg-type]
    print(f"per-request rounds (us): before {spread['before']}, after {spread['after']}")
    inline = statistics.median(float(r["per_request"]) for r in inline_runs)  # type: ignore[arg-type]
    print(f"after only: sendMail with a file inline (request + 202)  {inline * 1e6:.1f}us per request")
    before_routes, after_routes = runs["before"][0]["routes"], runs["after"][0]["routes"]
    print(f"routes before: {before_routes}")
    print(f"routes after:  {after_routes}")


if __name__ == "__main__":
    main()
