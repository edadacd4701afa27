"""Reply templates (常用语): the near-identical replies a unit writes again and again, kept
once and inserted into a reply instead of typed from scratch.

A unit's staff keep their own unit's list; administrators keep the city-wide list, which
everyone is offered beside their own unit's. Unit staff neither see nor change another
unit's templates (another unit's template reads as not found, as a ticket out of sight
does), and read the city-wide ones without changing them. A template inserted into a reply
is only words in a box: the reply itself still goes through the reply rules
(dispatch/replies.py) when it is posted. Every change is in the staff activity log.
Nothing here commits."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import staff_activity
from dispatch.actors import Actor
from dispatch.clock import api_time, local_date, utcnow
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import ReplyTemplate, Unit
from dispatch.staff_activity import ActivityKind
from dispatch.vocabulary import TEMPLATE_DATE_ZH, TEMPLATE_DAY_ZH, TEMPLATE_NUMBER_ZH, Role

MAX_TITLE_CHARS = 50
MAX_TEXT_CHARS = 2_000
# Per owner (a unit, or the city-wide list): enough for every kind of matter a unit answers,
# few enough for one select on the ticket page.
MAX_TEMPLATES = 200
CITY = "city"


def scope_of(unit_id: int | None) -> str:
    return CITY if unit_id is None else f"unit:{unit_id}"


@dataclass(frozen=True)
class TemplateView:
    id: int
    title: str
    text: str
    city_wide: bool
    editable: bool          # by the actor the list was read for
    changed_at: dt.datetime
    changed_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text,
                "scope": CITY if self.city_wide else "unit", "editable": self.editable,
                "changed_at": api_time(self.changed_at), "changed_by": self.changed_by}


def owner_of(actor: Actor) -> int | None:
    """The list `actor` keeps: unit staff their unit's (its id), admins and the command line
    the city-wide one (None); operators and supervisors keep none."""
    if actor.is_system or actor.role is Role.ADMIN:
        return None
    if actor.role is Role.UNIT_STAFF and actor.unit_id is not None:
        return actor.unit_id
    raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label,
                           role=actor.role.value if actor.role else "citizen", what="reply_templates")


def _own_unit(actor: Actor) -> int | None:
    return actor.unit_id if actor.role is Role.UNIT_STAFF else None


def visible(session: Session, actor: Actor) -> list[TemplateView]:
    """What `actor` is offered: its unit's own templates, then the city-wide ones, each by title."""
    unit_id = _own_unit(actor)
    scopes = [CITY] if unit_id is None else [scope_of(unit_id), CITY]
    rows = session.scalars(select(ReplyTemplate).where(ReplyTemplate.scope.in_(scopes))
                           .order_by(case((ReplyTemplate.unit_id.is_(None), 1), else_=0), ReplyTemplate.title,
                                     ReplyTemplate.id))
    try:
        kept = scope_of(owner_of(actor))
    except PermissionDenied:
        kept = None
    return [TemplateView(id=t.id, title=t.title, text=t.text, city_wide=t.unit_id is None,
                         editable=t.scope == kept, changed_at=t.changed_at, changed_by=t.changed_by)
            for t in rows]


def fill(text: str, *, number: str, day: dt.date) -> str:
    """A template's words for one ticket: {编号} its number, {日期} the day (2026年12月7日).
    Other braces stay as written: a template is words, not a format string."""
    words = TEMPLATE_DAY_ZH.format(year=day.year, month=day.month, day=day.day)
    return text.replace(TEMPLATE_NUMBER_ZH, number).replace(TEMPLATE_DATE_ZH, words)


def filled_for(session: Session, actor: Actor, number: str, now: dt.datetime | None = None) -> list[TemplateView]:
    """visible(), each text filled in for the ticket `number` today."""
    day = local_date(now or utcnow())
    return [replace(t, text=fill(t.text, number=number, day=day)) for t in visible(session, actor)]


def _words(data: Mapping[str, Any], name: str, field: str, limit: int) -> str:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(field, Reason.NOT_TEXT)
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field, Reason.REQUIRED)
    if len(value) > limit:
        raise InvalidInput(field, Reason.TOO_LONG, limit=limit)
    return value


def parse(data: Mapping[str, Any]) -> tuple[str, str]:
    """(title, text) from a form or a JSON body, trimmed; refused when empty or too long."""
    return (_words(data, "title", "template_title", MAX_TITLE_CHARS),
            _words(data, "text", "template_text", MAX_TEXT_CHARS))


def _title_free(session: Session, scope: str, title: str, template_id: int | None = None) -> None:
    taken = session.scalar(select(ReplyTemplate.id).where(ReplyTemplate.scope == scope,
                                                          ReplyTemplate.title == title))
    if taken is not None and taken != template_id:
        raise InvalidInput("template_title", Reason.TEMPLATE_TITLE_TAKEN, title=title)


def _saved(session: Session, template: ReplyTemplate) -> None:
    """Flush `template`; the same title saved by someone else meanwhile is refused as taken
    (the unique constraint), the caller's transaction still usable."""
    try:
        with session.begin_nested():
            session.add(template)
            session.flush()
    except IntegrityError:
        taken = session.scalar(select(ReplyTemplate.id).where(ReplyTemplate.scope == template.scope,
                                                              ReplyTemplate.title == template.title))
        if taken is None:
            raise
        raise InvalidInput("template_title", Reason.TEMPLATE_TITLE_TAKEN, title=template.title) from None


def create(session: Session, actor: Actor, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> ReplyTemplate:
    """A new template in the list `actor` keeps (owner_of)."""
    unit_id = owner_of(actor)
    title, text = parse(data)
    scope = scope_of(unit_id)
    _title_free(session, scope, title)
    count = session.scalar(select(func.count()).select_from(ReplyTemplate).where(ReplyTemplate.scope == scope)) or 0
    if count >= MAX_TEMPLATES:
        raise InvalidInput("template", Reason.TOO_MANY_TEMPLATES, limit=MAX_TEMPLATES)
    now = now or utcnow()
    template = ReplyTemplate(scope=scope, unit_id=unit_id, title=title, text=text, created_at=now, changed_at=now,
                             changed_by=actor.label)
    _saved(session, template)
    _record(session, ActivityKind.TEMPLATE_ADDED, actor, template, {"title": title, "text": text})
    return template


def editable(session: Session, actor: Actor, template_id: int) -> ReplyTemplate:
    """The template `actor` may change. Another unit's reads as not found; a city-wide one,
    which unit staff see, is refused."""
    template = session.get(ReplyTemplate, template_id)
    if template is None or (template.unit_id is not None and template.unit_id != _own_unit(actor)
                            and not actor.is_system):
        raise NotFound(Reason.TEMPLATE_NOT_FOUND, template_id=template_id)
    if template.scope != scope_of(owner_of(actor)):
        raise PermissionDenied(Reason.NOT_YOUR_TEMPLATE, actor=actor.label)
    return template


def update(session: Session, actor: Actor, template_id: int, data: Mapping[str, Any], *,
           now: dt.datetime | None = None) -> ReplyTemplate:
    template = editable(session, actor, template_id)
    title, text = parse(data)
    _title_free(session, template.scope, title, template.id)
    if (title, text) == (template.title, template.text):
        return template   # nothing changed: nothing to log
    detail: dict[str, Any] = {"title": title}
    if title != template.title:
        detail["old_title"] = template.title
    if text != template.text:
        detail |= {"text": text, "old_text": template.text}
    template.title, template.text = title, text
    template.changed_at, template.changed_by = now or utcnow(), actor.label
    _saved(session, template)
    _record(session, ActivityKind.TEMPLATE_CHANGED, actor, template, detail)
    return template


def delete(session: Session, actor: Actor, template_id: int) -> None:
    template = editable(session, actor, template_id)
    _record(session, ActivityKind.TEMPLATE_REMOVED, actor, template, {"title": template.title, "text": template.text})
    session.delete(template)
    session.flush()


def _record(session: Session, kind: ActivityKind, actor: Actor, template: ReplyTemplate,
            detail: dict[str, Any]) -> None:
    owner = ({"city_wide": True} if template.unit_id is None
             else {"unit": session.scalar(select(Unit.code).where(Unit.id == template.unit_id))})
    staff_activity.record(session, kind, actor, target=f"reply_template:{template.id}", detail={**owner, **detail})
