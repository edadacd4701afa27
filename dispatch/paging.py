"""A page of a long list, for consoles that must stay a screen or two high."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

# Past this many, a console says "1000+": counting every row of a long list costs more
# than the page it heads.
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Bounded:
    """A count that stopped at COUNT_LIMIT; shown as "1000+" past it."""
    value: int
    more: bool = False

    @classmethod
    def of(cls, counted: int, limit: int = COUNT_LIMIT) -> Bounded:
        """From a count of at most limit + 1 rows."""
        return cls(min(counted, limit), counted > limit)

    def __str__(self) -> str:
        return f"{self.value}+" if self.more else str(self.value)

    def __bool__(self) -> bool:
        return self.value > 0


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int      # 1-based; a page past the end is the last one
    pages: int     # at least 1, even for an empty list
    total: int
    more: bool = False   # more than `total`: the count stopped at its limit
    following: bool = False   # rows follow this page (asked `past_count`: past the count too)
    keyset: bool = False   # read after a cursor (keyset_page): no page number, nothing counted

    @property
    def counted(self) -> Bounded:
        return Bounded(self.total, self.more)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.following and not self.keyset else None


def page_of(session: Session, statement: Select[Any], page: int, per_page: int, *,
            count_limit: int | None = None, past_count: bool = False) -> Page[Any]:
    """Run an ordered SELECT of one entity for one page, and count the whole list (up to
    `count_limit` rows when given: the pages then reach no further than that, but with
    `past_count`, for an API whose client pages on by `next_page`: a page past the end is then
    empty, not the last one). A first page short of full is the whole list: no count then.
    One row more than the page says whether another follows."""
    first = None
    if page <= 1:
        first = list(session.scalars(statement.limit(per_page + 1)))
        if len(first) < per_page and (count_limit is None or len(first) <= count_limit):
            return Page(first, 1, 1, len(first))
    counted = statement.order_by(None)
    if count_limit is not None:
        counted = counted.limit(count_limit + 1)
    rows = int(session.scalar(select(func.count()).select_from(counted.subquery())) or 0)
    found = Bounded(rows) if count_limit is None else Bounded.of(rows, count_limit)
    pages = max(1, -(-found.value // per_page))
    page = max(1, page) if past_count and found.more else min(max(1, page), pages)
    items = first if page == 1 and first is not None else \
        list(session.scalars(statement.offset((page - 1) * per_page).limit(per_page + 1)))
    return Page(items[:per_page], page, pages, found.value, found.more, following=len(items) > per_page)


# ---- keyset paging (cursors) ------------------------------------------------------------------

# OFFSET reads and drops every row before the page: page 2,000 of a city's tickets read 100,000
# rows to show 50. A cursor names the last row a page showed by the list's sort key, and the
# next page starts after it by that key alone, as cheap deep down as on top; rows filed between
# pages come before it (newest first), so none is skipped or shown twice.


@dataclass(frozen=True)
class Keyset:
    """The last row of a page by its sort key: (received_at, id) for tickets, id alone (at
    None) for notices."""
    id: int
    at: dt.datetime | None = None


def cursor_of(kind: str, id: int, at: dt.datetime | None = None) -> str:
    """An opaque cursor after the row (`at`, `id`) of the list `kind` ("t" tickets, "n" notices)."""
    if at is None:
        text = f"{kind}:{id}"
    else:
        at = at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc)
        micros = (at - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
        text = f"{kind}:{micros}:{id}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def keyset_of(kind: str, cursor: str, *, timed: bool) -> Keyset | None:
    """The Keyset a cursor of the list `kind` names, or None for one that is not such a cursor
    (made up, cut short, or another list's)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    fields = text.split(":")
    if fields[0] != kind or len(fields) != (3 if timed else 2) or not all(f.isdigit() for f in fields[1:]):
        return None
    try:
        at = (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=int(fields[1]))
              if timed else None)
    except OverflowError:
        return None
    return Keyset(int(fields[-1]), at)


def keyset_page(session: Session, statement: Select[Any], per_page: int) -> Page[Any]:
    """A page of an ordered SELECT already bounded after a cursor's row: its first rows, one
    more saying whether another follows; nothing counted."""
    items = list(session.scalars(statement.limit(per_page + 1)))
    return Page(items[:per_page], 0, 0, 0, following=len(items) > per_page, keyset=True)
