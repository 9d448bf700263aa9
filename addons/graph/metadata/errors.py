"""The error the metadata package raises on purpose: a CSDL file or data file it cannot use."""

from __future__ import annotations

from graphtape.cassettes.errors import GraphtapeError

__all__ = ["GraphMetadataError"]


class GraphMetadataError(GraphtapeError, ValueError):
    """A CSDL input or a generated data file cannot be used; names the file and the spot.

    ``where`` is a line (``line 12``), an element (``EntityType message``) or a key
    (``types.microsoft.graph.message``); empty when the whole file is at fault.
    """

    def __init__(self, path: object, where: str, problem: str) -> None:
        self.path = str(path)
        self.where = where
        self.problem = problem
        location = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{location}: {problem}")
