"""Ids under a watched maximum that were not there when it was read. The live pages' watcher
reads the newest event (or notice) id and then the rows up to it; on PostgreSQL a transaction
may commit after a later one was read, so a missing id under the maximum is looked for again
for a while, and its change still reaches the pages it concerns."""
from __future__ import annotations

from collections.abc import Collection

# How long a missing id is looked for (a transaction still committing; a rolled-back one's id
# never comes), and how wide a read's ids are checked for gaps (a bigger one: pages look anyway).
LATE_SECONDS = 10.0
MOST_LATE = 1000


class LateIds:
    def __init__(self) -> None:
        self._since: dict[int, float] = {}   # missing id -> when it was first missed

    def __bool__(self) -> bool:
        return bool(self._since)

    def asked(self, now: float) -> list[int]:
        """The ids to look for again with the next read; those missing too long are dropped."""
        self._since = {i: since for i, since in self._since.items() if now - since < LATE_SECONDS}
        return sorted(self._since)

    def read(self, before: int, upto: int, found: Collection[int], now: float, *, whole: bool) -> None:
        """After a read of (before, upto] and the asked ids: forget those found, note the ones
        of the window that were not. `whole`: the read listed every row (not cut short)."""
        for i in [i for i in self._since if i in found]:
            del self._since[i]
        if whole and upto - before <= MOST_LATE:
            for i in range(before + 1, upto + 1):
                if i not in found:
                    self._since.setdefault(i, now)
