"""Routing rules that supervisors add and remove on the rules page (phrase -> unit).

They win over the model like the city file's own rules, and come before them: the newest
word of the city. A rule is never deleted: removing it records who and when, so the page
shows the whole history.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actors import SUPERVISING_ROLES, Actor
from dispatch.city_file import MAX_PHRASES, PHRASE_CHARS
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import RoutingRule, Unit
from dispatch.routing import Rule, city_rules
from dispatch.staff_activity import ActivityKind, record
from dispatch.units import City

NOTE_MAX = 200
_SEPARATORS = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class RuleRow:
    """A rule as the page lists it."""

    id: int | None            # None: from the city file, edited there
    phrases: tuple[str, ...]
    unit_code: str
    unit_name: str
    note: str | None = None
    created_at: dt.datetime | None = None
    created_by: str | None = None
    removed_at: dt.datetime | None = None
    removed_by: str | None = None


def parse_phrases(text: str) -> tuple[str, ...]:
    """'井盖, 窨井盖、下水道' -> ('井盖', '窨井盖', '下水道'), checked."""
    phrases = tuple(dict.fromkeys(p for p in _SEPARATORS.split(text or "") if p))
    if not phrases:
        raise InvalidInput("phrases", Reason.REQUIRED)
    if len(phrases) > MAX_PHRASES:
        raise InvalidInput("phrases", Reason.TOO_MANY_PHRASES, limit=MAX_PHRASES)
    low, high = PHRASE_CHARS
    for phrase in phrases:
        if not low <= len(phrase) <= high:
            raise InvalidInput("phrases", Reason.PHRASE_LENGTH, phrase=phrase, low=low, high=high)
    return phrases


def add_rule(session: Session, phrases_text: str, unit_code: str, actor: Actor, *,
             note: str | None = None, now: dt.datetime | None = None) -> RoutingRule:
    _check_may_edit(actor)
    phrases = parse_phrases(phrases_text)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code, Unit.active.is_(True)))
    if unit is None:
        raise InvalidInput("unit", Reason.UNKNOWN_UNIT, code=unit_code)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput("note", Reason.TOO_LONG, limit=NOTE_MAX)
    rule = RoutingRule(phrases=list(phrases), unit_id=unit.id, note=note, created_at=now or utcnow(),
                       created_by=actor.label)
    session.add(rule)
    session.flush()
    record(session, ActivityKind.RULE_ADDED, actor, target=f"rule:{rule.id}",
           detail={"phrases": "、".join(phrases), "unit": unit.code, "note": note})
    return rule


def remove_rule(session: Session, rule_id: int, actor: Actor, *, now: dt.datetime | None = None) -> RoutingRule:
    _check_may_edit(actor)
    rule = session.get(RoutingRule, rule_id)
    if rule is None or rule.removed_at is not None:
        raise NotFound(Reason.RULE_NOT_FOUND, rule_id=rule_id)
    rule.removed_at = now or utcnow()
    rule.removed_by = actor.label
    session.flush()
    record(session, ActivityKind.RULE_REMOVED, actor, target=f"rule:{rule.id}", detail={"phrases": "、".join(rule.phrases)})
    return rule


def staff_rules(session: Session) -> tuple[Rule, ...]:
    """The active rules staff added, newest first, as the router reads them."""
    rows = session.execute(select(RoutingRule.phrases, Unit.code).join(Unit, Unit.id == RoutingRule.unit_id)
                           .where(RoutingRule.removed_at.is_(None)).order_by(RoutingRule.id.desc()))
    return tuple(Rule(tuple(phrases), code) for phrases, code in rows)


def router_rules(session: Session, city: City) -> tuple[Rule, ...]:
    """Every rule the router applies, in order: staff's newest first, then the city file's."""
    return staff_rules(session) + city_rules(city)


def listing(session: Session, city: City) -> tuple[list[RuleRow], list[RuleRow], list[RuleRow]]:
    """(active staff rules, the city file's rules, removed rules), for the page."""
    names = {code: name for code, name in session.execute(select(Unit.code, Unit.name))}
    rows = session.execute(select(RoutingRule, Unit.code, Unit.name).join(Unit, Unit.id == RoutingRule.unit_id)
                           .order_by(RoutingRule.id.desc()))
    staff = [RuleRow(r.id, tuple(r.phrases), code, name, r.note, r.created_at, r.created_by, r.removed_at,
                     r.removed_by) for r, code, name in rows]
    from_file = [RuleRow(None, tuple(r["phrases"]), r["unit"], names.get(r["unit"], r["unit"]))
                 for r in city.routing_rules]
    return ([r for r in staff if r.removed_at is None], from_file, [r for r in staff if r.removed_at is not None])


def _check_may_edit(actor: Actor) -> None:
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label, what="edit routing rules")
