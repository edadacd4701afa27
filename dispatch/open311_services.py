"""What the hotline offers as Open311 services, and the attributes a request may carry.

current_services() is the one place the list comes from: the dispatch catalogue's current
entries (派单目录: the entry's code, its level-3 name, level 1 as the group, the unit that
handles it, its terms as keywords). A database with no catalogue yet offers the city file's
level-1 categories (and the categories townships handle locally) instead.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch import catalogue
from dispatch.catalogue_match import Item
from dispatch.units import City
from dispatch.vocabulary import LABELS_ZH, RequestType


LOCAL_HANDLER_ZH = "事发地乡镇（街道）"
DISPATCHED_BY_HOTLINE_ZH = "12345热线派往有关单位"


@dataclass(frozen=True)
class Service:
    code: str                      # service_code: stable, ASCII, safe in a URL
    name: str                      # service_name
    description: str
    group: str
    keywords: tuple[str, ...]
    category: str                  # what a ticket filed for it carries as its category
    entry_code: str | None = None  # the catalogue entry: a ticket filed for it is dispatched under it
    entry_id: int | None = None


def category_code(name: str) -> str:
    """A code that stays the same however the city file is reordered or extended (only a
    renamed category gets a new one)."""
    return "c" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def current_services(session: Session, city: City) -> list[Service]:
    """The services clients may file under, in a stable order."""
    entries = catalogue.current_entries(session)
    if entries:
        return [Service(code=e.code, name=e.level3, group=e.level1, keywords=e.terms, category=e.level1,
                        description=f"{e.path}，由{_handler(e)}承办。",
                        entry_code=e.code, entry_id=e.entry_id) for e in entries]
    unit_names = {u.code: u.name for u in city.units}
    names = sorted(set(city.categories) | set(city.local_categories))
    services = []
    for name in names:
        if name in city.local_categories:
            handler = LOCAL_HANDLER_ZH
        else:
            handler = unit_names.get(city.categories[name], city.categories[name])
        services.append(Service(code=category_code(name), name=name, description=f"{name}类诉求，由{handler}承办。",
                                group=name, keywords=(), category=name))
    return services


def _handler(entry: Item) -> str:
    """Who handles an entry, as the public reads it: never a unit that was retired (停用),
    which takes no new work; the hotline dispatches those itself until the entry is changed."""
    if entry.local:
        return LOCAL_HANDLER_ZH
    return entry.unit_name if entry.unit_active and entry.unit_name else DISPATCHED_BY_HOTLINE_ZH


def service_by_code(session: Session, city: City, code: str) -> Service | None:
    return next((s for s in current_services(session, city) if s.code == code), None)


@dataclass(frozen=True)
class Attribute:
    """One attribute of a service definition (GeoReport v2 'GET Service Definition')."""

    code: str
    datatype: str                  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    description: str
    order: int
    values: tuple[tuple[str, str], ...] = ()   # (key, name)
    datatype_description: str = ""


REQUEST_TYPE = "request_type"
CONFIDENTIAL = "confidential"
YES, NO = "true", "false"

# Every service takes the same two: what kind of request it is (deadlines depend on it) and
# whether the citizen's name and number stay hidden from the unit (保密); a confidential
# request is also left out of GET requests.
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(REQUEST_TYPE, "singlevaluelist", False, "诉求类型（不填为投诉）", 1,
              tuple((t.value, LABELS_ZH[t.value]) for t in RequestType)),
    Attribute(CONFIDENTIAL, "singlevaluelist", False, "是否保密：承办单位看不到姓名和电话，也不公开", 2,
              ((NO, "不保密"), (YES, "保密"))),
)
