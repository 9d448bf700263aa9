"""The simulator's in-memory mailbox: parents and their attachments, for one run.

Thread-safe: mitmproxy may answer several connections at once. Parents are keyed by
:class:`ParentKey` (who they are, not the path used); each keeps its attachments in
creation order, which is the order Graph lists them in the examples.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from graphtape.addons.simulation.paths import Pairs, ParentKey

__all__ = ["Mailbox", "StoredParent"]


@dataclass
class StoredParent:
    key: ParentKey
    collection: Pairs | None
    entity: dict[str, Any]
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> stored attachment


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parents: dict[ParentKey, StoredParent] = {}

    def get(self, key: ParentKey) -> StoredParent | None:
        with self._lock:
            return self._parents.get(key)

    def add_parent(self, parent: StoredParent) -> StoredParent:
        """Store ``parent`` unless one with its key exists; the stored one."""
        with self._lock:
            return self._parents.setdefault(parent.key, parent)

    def remove_parent(self, key: ParentKey) -> bool:
        with self._lock:
            return self._parents.pop(key, None) is not None

    def in_collection(self, collection: Pairs) -> list[StoredParent]:
        with self._lock:
            return [p for p in self._parents.values() if p.collection == collection]

    def add_attachment(self, key: ParentKey, attachment: dict[str, Any]) -> None:
        with self._lock:
            parent = self._parents[key]
            parent.attachments[str(attachment["id"])] = attachment
            self._mark_has_attachments(parent)

    def attachments(self, key: ParentKey) -> list[dict[str, Any]]:
        with self._lock:
            parent = self._parents.get(key)
            return list(parent.attachments.values()) if parent is not None else []

    def attachment(self, key: ParentKey, attachment_id: str) -> dict[str, Any] | None:
        with self._lock:
            parent = self._parents.get(key)
            return parent.attachments.get(attachment_id) if parent is not None else None

    def remove_attachment(self, key: ParentKey, attachment_id: str) -> bool:
        with self._lock:
            parent = self._parents.get(key)
            if parent is None or parent.attachments.pop(attachment_id, None) is None:
                return False
            self._mark_has_attachments(parent)
            return True

    @staticmethod
    def _mark_has_attachments(parent: StoredParent) -> None:
        # hasAttachments counts attachments that are not inline (message resource page).
        if "hasAttachments" in parent.entity:
            parent.entity["hasAttachments"] = any(not a.get("isInline") for a in parent.attachments.values())
