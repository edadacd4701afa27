"""A page of a long list, for consoles that must stay a screen or two high."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int      # 1-based; a page past the end is the last one
    pages: int     # at least 1, even for an empty list
    total: int


def page_of(session: Session, statement: Select[Any], page: int, per_page: int) -> Page[Any]:
    """Run an ordered SELECT of one entity for one page, and count the whole list."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(statement.offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, pages, total)
