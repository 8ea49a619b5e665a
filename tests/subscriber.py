"""A minimal live subscriber for the tests: its copy of the open cases, kept current by deltas.

The wall's model (``backend/live/wall.py``) follows the same protocol in production; this one
keeps nothing but the open cases, so the protocol itself is what the tests look at.

Every delta carries its case's version, so applying one twice, or one already contained in a
snapshot, changes nothing. A view that sees a gap in the sequence asks for a new snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from backend.domain.vocabulary import OPEN_VALUES
from backend.queries.live import Snapshot
from backend.queries.scope import Scope


@dataclass
class LiveView:
    """One subscriber's copy of the open cases in its scope."""

    scope: Scope = field(default_factory=Scope.city)
    seq: int = -1
    open_cases: dict[int, dict[str, Any]] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)

    def load(self, snap: Snapshot) -> None:
        self.seq = snap.seq
        self.open_cases = {d["id"]: d for d in snap.cases if self.scope.admits(d)}
        self.versions = {i: d["v"] for i, d in self.open_cases.items()}

    def apply(self, seq: int, deltas: Iterable[dict[str, Any]]) -> bool:
        """Apply one published message. False: a message was missed, take a new snapshot."""
        if self.seq >= 0 and seq > self.seq + 1:
            return False
        if seq <= self.seq:
            return True  # already contained in the snapshot, or a repeat
        self.seq = seq
        for d in deltas:
            if not self.scope.admits(d):
                continue
            cid = d["id"]
            if d["v"] <= self.versions.get(cid, 0):
                continue
            self.versions[cid] = d["v"]
            if d["status"] in OPEN_VALUES:
                self.open_cases[cid] = d
            else:
                self.open_cases.pop(cid, None)
        return True
