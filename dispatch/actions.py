"""Staff actions by name: the one place where an action's name (as the staff API and the
ticket page post it) meets its dispatch function. perform() parses the loose parameters of
a form or a JSON body into typed values, refuses a ticket the user may not see exactly like
an unknown one, checks the version the caller saw, and calls the domain function, which
checks the role and the move again. Nothing here commits."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import (catalogue, co_handling, corrections, disputes, emergency, flags, follow_up, forwarding, handover,
                      kb_use, lifecycle, notices, parts, progress, queries, staff_notices)
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import Conflict, InvalidInput, NotFound, Reason
from dispatch.follow_up import FollowUpPolicy
from dispatch.intake import IntakeRules
from dispatch.models import CatalogueEntry, ExtensionRequest, Ticket, TicketEvent, Transfer, Unit
from dispatch.numbers import MAX_INT, MIN_INT, signed_number
from dispatch.replies import REPLY_MIN_CHARS
from dispatch.staff_view import visible_ticket
from dispatch.states import FINISHED_STATES, UNIT_STATES, State
from dispatch.townships import Places
from dispatch.units import City
from dispatch.vocabulary import REQUEST_TYPE_BY_ZH, FollowUpOutcome, RequestType, Role, TransferOutcome, Urgency

# Names the ticket page posted before the API existed; both spellings mean the same action.
ACTION_ALIASES = {"extend": "request_extension", "override-request": "request_override"}
# The page's form fields, by the parameter they stand for: its one text box is the reply,
# the reason or the note, whichever the action needs.
FIELD_ALIASES = {"unit": ("unit_code",), "days": ("working_days",), "reply": ("text",),
                 "reason": ("text",), "note": ("text",), "progress": ("text",)}
@dataclass(frozen=True)
class ActionContext:
    """What the actions need from the running app besides the database."""

    city: City | None = None                  # transfers away from routing's proposal teach it
    follow_up: FollowUpPolicy = FollowUpPolicy()
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    now: dt.datetime | None = None            # for tests and replays; the clock when None
    reply_min_chars: int = REPLY_MIN_CHARS    # a reply to the citizen's least length (HOTLINE_REPLY_MIN_CHARS)
    max_body_chars: int = IntakeRules.max_body_chars   # a corrected request's most (HOTLINE_MAX_BODY_CHARS)
    places: Places | None = None              # townships a corrected place names (the city's gazetteer)

    @property
    def reopening(self) -> lifecycle.Reopening:
        catalogue = self.city.catalogue if self.city is not None else None
        return lifecycle.Reopening(self.deadlines, catalogue.deadline_classes if catalogue else {})


Params = Mapping[str, Any]
# A handler returns the actor's own part when the action was on it (a co-handling unit's or a
# sub-unit's accept, return or part reply), else None: the ticket stays with the lead then.
Handler = Callable[[Session, Actor, Ticket, Params, ActionContext], Transfer | None]


@dataclass(frozen=True)
class Done:
    """What an action did: the ticket as it now is, and the part acted on, if it was a part."""

    ticket: Ticket
    part: Transfer | None = None


def canonical(action: str) -> str:
    return ACTION_ALIASES.get(action, action)


def perform(session: Session, actor: Actor, ticket_number: str, action: str, params: Params,
            context: ActionContext = ActionContext()) -> Ticket:
    """Do `action` on the ticket as `actor`; returns the ticket as it now is (flushed)."""
    return perform_action(session, actor, ticket_number, action, params, context).ticket


def perform_action(session: Session, actor: Actor, ticket_number: str, action: str, params: Params,
                   context: ActionContext = ActionContext()) -> Done:
    """perform(), also saying which part the action was on (the staff API answers with it)."""
    handler = HANDLERS.get(canonical(action))
    if handler is None:
        raise NotFound(Reason.NO_SUCH_ACTION, action=action)
    ticket = visible_ticket(session, actor, ticket_number)   # an unknown ticket: 404 for every role
    require_action_role(actor, action)
    # Checked once, here, before anything changes: domain functions that flush midway
    # (resolve, transfer with learn_from) would otherwise see their own write as someone
    # else's. Concurrent writers are still caught by the version column at flush.
    lifecycle.check_version(ticket, optional_int(params, "expected_version"))
    part = handler(session, actor, ticket, params, context)
    session.flush()
    return Done(ticket, part)


# -- parsing ---------------------------------------------------------------------------------

def _raw(params: Params, name: str) -> Any:
    for key in (name, *FIELD_ALIASES.get(name, ())):
        value = params.get(key)
        if value is not None and value != "":
            return value
    return None


def optional_text(params: Params, name: str) -> str | None:
    value = _raw(params, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, Reason.NOT_TEXT)
    if len(value) > lifecycle.MAX_NOTE_CHARS:
        raise InvalidInput(name, Reason.TOO_LONG, limit=lifecycle.MAX_NOTE_CHARS)
    return value.strip() or None


def required_text(params: Params, name: str) -> str:
    value = optional_text(params, name)
    if value is None:
        raise InvalidInput(name, Reason.REQUIRED)
    return value


def optional_int(params: Params, name: str, *, low: int = MIN_INT, high: int = MAX_INT) -> int | None:
    """A JSON integer or a form's ASCII digits, from `low` to `high`: by default what the
    database's integer columns hold, so that a larger one is refused here, not by the database."""
    value = _raw(params, name)
    if value is None:
        return None
    if isinstance(value, str) and (number := signed_number(value)) is not None:
        # A sign is read (-3 is out of a count's range, not "not a number"); too large for the
        # database reads as past the range (and no int() of a million digits).
        value = number
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(name, Reason.NOT_INTEGER)
    if not low <= value <= high:
        raise InvalidInput(name, Reason.OUT_OF_RANGE, low=low, high=high)
    return value


_TRUE, _FALSE = ("true", "yes", "on", "1", "approve"), ("false", "no", "off", "0", "refuse")


def boolean(params: Params, name: str, *, default: bool | None = None) -> bool:
    value = _raw(params, name)
    if value is None:
        if default is None:
            raise InvalidInput(name, Reason.DECISION_REQUIRED)
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInput(name, Reason.NOT_BOOLEAN)


def _days(params: Params, most: int) -> int:
    days = optional_int(params, "days", low=1, high=most)
    if days is None:
        raise InvalidInput("days", Reason.OUT_OF_RANGE, low=1, high=most)
    return days


def _unit(session: Session, params: Params, *, what: str = "unit") -> Unit:
    """The unit the params name; `what`: the kind of unit asked for when they name none
    ("unit", "sub_unit": words in web/messages.py)."""
    code = _raw(params, "unit")
    if code is not None and not isinstance(code, str):   # 123, ["housing"]: a code is text
        raise InvalidInput("unit", Reason.NOT_TEXT)
    if code is None or not code.strip():
        raise InvalidInput("unit", Reason.UNIT_REQUIRED, what=what)
    unit = session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise InvalidInput("unit", Reason.UNKNOWN_UNIT, code=code.strip())
    return unit


def _units(session: Session, params: Params, name: str) -> list[Unit]:
    """A list of unit codes: a JSON list, a form's repeated field, or codes separated by commas."""
    getlist = getattr(params, "getlist", None)
    raw: Any = getlist(name) if callable(getlist) else params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise InvalidInput(name, Reason.BAD_UNIT_LIST)
    codes = [c.strip() for item in raw for c in item.replace("，", ",").split(",") if c.strip()]
    found = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))} if codes else {}
    missing = next((c for c in codes if c not in found), None)
    if missing is not None:
        raise InvalidInput(name, Reason.UNKNOWN_UNIT, code=missing)
    return [found[c] for c in codes]


def _outcome(params: Params) -> FollowUpOutcome:
    value = _raw(params, "rating")
    try:
        return FollowUpOutcome(str(value))
    except ValueError:
        raise InvalidInput("rating", Reason.BAD_OUTCOME, value=str(value)) from None


def _main_ticket(session: Session, params: Params) -> Ticket:
    number = _raw(params, "into")
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput("into", Reason.REQUIRED)
    main = session.scalar(select(Ticket).where(Ticket.number == number.strip()))
    if main is None:
        raise InvalidInput("into", Reason.UNKNOWN_TICKET, number=number.strip())
    return main


# -- the actions -----------------------------------------------------------------------------

def _category(session: Session, params: Params) -> CatalogueEntry | None:
    """The catalogue entry a transfer names (`category`: its code or level path), if any."""
    value = _raw(params, "category")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("category", Reason.NOT_TEXT)
    return catalogue.find_current(session, value)


def _transfer(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    entry = _category(session, params)
    if _raw(params, "unit") is None and entry is not None and entry.unit_id is not None and not entry.local:
        unit = session.get_one(Unit, entry.unit_id)   # the entry's own unit when none is named
    else:
        unit = _unit(session, params)
    co_units = _units(session, params, "co_units")
    co_handling.check_co_units(unit, co_units)
    proposed = (ticket.routing or {}).get("unit_code")
    if entry is None and unit.code == proposed and ticket.transfer_count == 0 and ticket.catalogue_entry_id:
        # Confirming the proposal confirms the catalogue entry it came with, and its deadline class.
        entry = session.get(CatalogueEntry, ticket.catalogue_entry_id)
    # The proposed unit keeps routing's own account of why (lifecycle fills it in); another
    # one says a person chose it, from a suggestion or the picker.
    routing: dict[str, Any] | None = None
    if unit.code != proposed:
        routing = {"source": "operator", "by": actor.label,
                   "picked": "suggestion" if params.get("source") == "suggestion" else "picker"}
    moved = lifecycle.transfer(session, ticket, unit, actor, note=optional_text(params, "note"), routing=routing,
                               learn_from=context.city, now=context.now, entry=entry, deadlines=context.deadlines)
    notices.tell_new_work(session, ticket, moved, now=context.now)
    # Sent on (away from a unit whose request was left waiting): that request asks nothing more.
    staff_notices.settle_requests_of(session, ticket, now=context.now)
    if co_units:
        co_handling.add_co_units(session, ticket, co_units, actor, now=context.now)


def _has_part(session: Session, actor: Actor, ticket: Ticket) -> bool:
    """Unit staff of a co-handling unit or a sub-unit act on their part, not the ticket."""
    return (actor.role is Role.UNIT_STAFF and ticket.unit_id != actor.unit_id
            and parts.open_part(session, ticket, actor.unit_id) is not None)


def _answer(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    article_id = optional_int(params, "article_id", low=1)
    # Words the emergency rule flags are answered only once the operator said they checked
    # (`answer_confirmed`), as on the console: the page and the API ask the same question.
    if State(ticket.state) is State.RECEIVED:
        emergency.check_ticket_answer(ticket, confirmed=boolean(params, "answer_confirmed", default=False))
    if article_id is not None:  # from a knowledge base article: the reply cites it, the note is added
        kb_use.answer_from_article(session, ticket, actor, article_id, note=optional_text(params, "reply"),
                                   now=context.now, min_chars=context.reply_min_chars)
        return
    lifecycle.answer(session, ticket, actor, required_text(params, "reply"), now=context.now,
                     min_chars=context.reply_min_chars)


def _part_of(session: Session, event: TicketEvent) -> Transfer:
    """The part a part's step (its event names it) was on."""
    return session.get_one(Transfer, (event.data or {})["part"])


def _accept(session: Session, actor: Actor, ticket: Ticket, params: Params,
            context: ActionContext) -> Transfer | None:
    if _has_part(session, actor, ticket):
        return _part_of(session, co_handling.accept_part(session, ticket, actor, now=context.now))
    lifecycle.accept(session, ticket, actor, now=context.now)
    return None


def _return(session: Session, actor: Actor, ticket: Ticket, params: Params,
            context: ActionContext) -> Transfer | None:
    if _has_part(session, actor, ticket):
        return _part_of(session, co_handling.return_part(session, ticket, actor, required_text(params, "reason"),
                                                         now=context.now))
    lifecycle.return_ticket(session, ticket, actor, required_text(params, "reason"), now=context.now)
    staff_notices.settle_requests_of(session, ticket, now=context.now)   # the unit's requests lapsed with it
    return None


def _part_reply(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> Transfer:
    return _part_of(session, co_handling.reply_part(session, ticket, actor, required_text(params, "reply"),
                                                    now=context.now))


def _forward(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    forwarding.forward(session, ticket, actor, _unit(session, params, what="sub_unit"),
                       note=optional_text(params, "note"),
                       now=context.now)


def _progress(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    text = _raw(params, "progress")
    if text is not None and not isinstance(text, str):
        raise InvalidInput("progress", Reason.NOT_TEXT)
    note = progress.report_progress(session, ticket, actor, text or "", public=boolean(params, "public", default=False),
                                    now=context.now)
    staff_notices.tell_escalation_answered(session, ticket, note, now=context.now)


def _override_parts(session: Session, actor: Actor, ticket: Ticket, params: Params,
                    context: ActionContext) -> None:
    event = co_handling.override_parts(session, ticket, actor, required_text(params, "reason"), now=context.now)
    _settle_override_request(session, event, context)


def _request_override(session: Session, actor: Actor, ticket: Ticket, params: Params,
                      context: ActionContext) -> None:
    request = co_handling.request_override(session, ticket, actor, required_text(params, "reason"), now=context.now)
    staff_notices.tell_override_requested(session, ticket, request, now=context.now)


def _refuse_override(session: Session, actor: Actor, ticket: Ticket, params: Params,
                     context: ActionContext) -> None:
    event = co_handling.refuse_override(session, ticket, actor, required_text(params, "reason"), now=context.now)
    _settle_override_request(session, event, context)


def _settle_override_request(session: Session, decision: TicketEvent, context: ActionContext) -> None:
    """A 先行办结申请 decided: the supervisors' notice of it asks nothing more."""
    request = (decision.data or {}).get("request")
    if request is not None:
        staff_notices.settle(session, staff_notices.override_key(request), by=decision.actor_id, now=context.now)


def _request_extension(session: Session, actor: Actor, ticket: Ticket, params: Params,
                       context: ActionContext) -> None:
    most = context.deadlines.extension_max_working_days
    request = lifecycle.request_extension(session, ticket, actor, _days(params, most), required_text(params, "reason"),
                                          now=context.now, max_days=most)
    staff_notices.tell_extension_requested(session, ticket, request, now=context.now)


def _decide_extension(session: Session, actor: Actor, ticket: Ticket, params: Params,
                      context: ActionContext) -> None:
    approve = boolean(params, "approve")
    note = optional_text(params, "reason")
    request = queries.pending_extension_of(session, ticket.id)
    if request is None:
        require_role(actor, SUPERVISING_ROLES, "decide extension requests")
        raise Conflict(Reason.NO_PENDING_EXTENSION, number=ticket.number)
    decide_extension(session, actor, request, approve=approve, policy=context.deadlines, note=note, now=context.now)


def decide_extension(session: Session, actor: Actor, request: ExtensionRequest, *, approve: bool,
                     policy: DeadlinePolicy, note: str | None = None, now: dt.datetime | None = None) -> TicketEvent:
    """The decision, and the asking unit told of it: one path for the staff API and the
    supervisor's page."""
    event = lifecycle.decide_extension(session, request, actor, approve=approve, policy=policy, note=note, now=now)
    notices.tell_extension_decided(session, session.get_one(Ticket, request.ticket_id), event, now=now)
    staff_notices.settle(session, staff_notices.extension_key(request), by=actor.user_id, now=now)
    return event


def _resolve(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    forwarded = parts.open_forward(session, ticket)
    resolved = lifecycle.resolve(session, ticket, actor, required_text(params, "reply"), now=context.now,
                                 min_chars=context.reply_min_chars)
    staff_notices.tell_escalated_resolved(session, ticket, resolved, now=context.now)
    staff_notices.settle_requests_of(session, ticket, now=context.now)
    if forwarded is not None and forwarded.outcome == TransferOutcome.WITHDRAWN.value:
        notices.tell_forward_withdrawn(session, ticket, forwarded.id, now=context.now)


def _escalate(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    event = lifecycle.escalate(session, ticket, actor, required_text(params, "note"), now=context.now,
                               again=boolean(params, "again", default=False))
    notices.tell_escalation(session, ticket, event, now=context.now)


def _follow_up(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    follow_up.follow_up(session, ticket, actor, _outcome(params), note=optional_text(params, "note"),
                        policy=context.follow_up, now=context.now, reopening=context.reopening)


def _close(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    lifecycle.close(session, ticket, actor, required_text(params, "note"), now=context.now)


def _merge(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    lifecycle.merge(session, ticket, _main_ticket(session, params), actor, now=context.now)
    staff_notices.settle_requests_of(session, ticket, now=context.now)   # followed on the main ticket now


def _invalidate(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    reason = required_text(params, "reason")
    flag = boolean(params, "flag_number", default=False)
    if flag and not ticket.phone:
        raise InvalidInput("flag_number", Reason.NO_PHONE_TO_FLAG)
    lifecycle.invalidate(session, ticket, actor, reason, now=context.now)
    if flag:
        flags.flag(session, ticket.phone, actor, reason, ticket_id=ticket.id, now=context.now)


def _handover(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    service = handover.parse_service(_raw(params, "to"))
    handover.handover(session, ticket, actor, service, note=optional_text(params, "note"), now=context.now)


def _dispute(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    dispute = disputes.raise_dispute(session, ticket, actor, required_text(params, "reason"), now=context.now)
    staff_notices.tell_dispute_raised(session, ticket, dispute, now=context.now)


def _decide_dispute(session: Session, actor: Actor, ticket: Ticket, params: Params,
                    context: ActionContext) -> None:
    approve = boolean(params, "approve")
    dispute = disputes.open_dispute(session, ticket)
    event = disputes.decide_dispute(session, ticket, actor, approve=approve,
                                    reason=required_text(params, "reason"), now=context.now)
    notices.tell_dispute_decided(session, ticket, event, now=context.now)
    if dispute is not None:
        staff_notices.settle(session, staff_notices.dispute_key(dispute), by=actor.user_id, now=context.now)
    if approve:   # taken back from the unit: what else it asked for lapsed
        staff_notices.settle_requests_of(session, ticket, now=context.now)


def _field_sent(params: Params, name: str) -> str | None:
    """A correction's field as sent: None when it was not (left as it is); "" is sent empty."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, Reason.NOT_TEXT)
    return value


def _correction(params: Params) -> corrections.Correction:
    kind, urgency = _raw(params, "type"), _raw(params, "urgency")
    try:
        request_type = None if kind is None else REQUEST_TYPE_BY_ZH.get(str(kind)) or RequestType(kind)
    except ValueError:
        raise InvalidInput("type", Reason.BAD_REQUEST_TYPE) from None
    try:
        level = None if urgency is None else Urgency(urgency)
    except ValueError:
        raise InvalidInput("urgency", Reason.BAD_URGENCY) from None
    confidential = None if _raw(params, "confidential") is None else boolean(params, "confidential")
    return corrections.Correction(request_type=request_type, urgency=level, phone=_field_sent(params, "phone"),
                                  body=_field_sent(params, "body"), location=_field_sent(params, "location"),
                                  name=_field_sent(params, "name"), confidential=confidential)


def _correct(session: Session, actor: Actor, ticket: Ticket, params: Params, context: ActionContext) -> None:
    event = corrections.correct(session, ticket, actor, _correction(params), policy=context.deadlines,
                                max_body_chars=context.max_body_chars, places=context.places, now=context.now)
    notices.tell_corrected(session, ticket, event, now=context.now)


HANDLERS: dict[str, Handler] = {
    "transfer": _transfer, "answer": _answer, "accept": _accept, "return": _return,
    "request_extension": _request_extension, "decide_extension": _decide_extension,
    "resolve": _resolve, "escalate": _escalate, "follow_up": _follow_up, "close": _close,
    "merge": _merge, "invalidate": _invalidate, "handover": _handover, "dispute": _dispute,
    "decide_dispute": _decide_dispute, "part_reply": _part_reply, "forward": _forward,
    "override_parts": _override_parts, "progress": _progress,
    "request_override": _request_override, "refuse_override": _refuse_override, "correct": _correct,
}
ACTIONS = tuple(HANDLERS)

# The roles that may ever take each action (the unit's own: its staff, or an admin acting for
# it; a part's or a progress note: unit staff alone). The domain functions check the ticket
# and the unit again; this table only lets a role that may never act hear 403 before
# anything it sent is read, so that no 422 about its input tells it what the action expects.
UNIT_ACTING_ROLES = frozenset({Role.UNIT_STAFF, Role.ADMIN})
ACTION_ROLES: dict[str, frozenset[Role]] = {
    "transfer": DISPATCH_ROLES, "answer": DISPATCH_ROLES, "merge": DISPATCH_ROLES, "invalidate": DISPATCH_ROLES,
    "handover": DISPATCH_ROLES, "follow_up": DISPATCH_ROLES, "correct": DISPATCH_ROLES,
    "accept": UNIT_ACTING_ROLES, "return": UNIT_ACTING_ROLES, "resolve": UNIT_ACTING_ROLES,
    "request_extension": UNIT_ACTING_ROLES, "dispute": UNIT_ACTING_ROLES, "forward": UNIT_ACTING_ROLES,
    "request_override": UNIT_ACTING_ROLES,
    "part_reply": frozenset({Role.UNIT_STAFF}), "progress": frozenset({Role.UNIT_STAFF}),
    "close": SUPERVISING_ROLES, "escalate": SUPERVISING_ROLES, "decide_extension": SUPERVISING_ROLES,
    "decide_dispute": SUPERVISING_ROLES, "override_parts": SUPERVISING_ROLES, "refuse_override": SUPERVISING_ROLES,
}


def require_action_role(actor: Actor, action: str) -> None:
    """NotFound for an action with no name; PermissionDenied when the actor's role may never
    take it. The staff API asks this before it reads the body; perform_action again, after the
ticket is found (an unknown ticket is 404 for every role there) and before any parameter is read."""
    name = canonical(action)
    if name not in HANDLERS:
        raise NotFound(Reason.NO_SUCH_ACTION, action=action)
    require_role(actor, ACTION_ROLES[name], name)


def allowed_actions(session: Session, actor: Actor, ticket: Ticket) -> list[str]:
    """The actions to offer this user on this ticket, in HANDLERS order. perform() and the
    domain functions check each again when it is taken."""
    state, role = State(ticket.state), actor.role
    allowed: set[str] = set()
    if role in DISPATCH_ROLES:
        if state in (State.RECEIVED, State.RETURNED):
            allowed.update({"transfer", "invalidate", "merge", "handover"})
        if state is State.RECEIVED:
            allowed.add("answer")
        if corrections.may_correct(ticket, actor):
            allowed.add("correct")
        if state is State.RESOLVED:
            allowed.add("follow_up")
    own = role is Role.ADMIN or (role is Role.UNIT_STAFF and ticket.unit_id == actor.unit_id)
    waiting_extension = queries.pending_extension_of(session, ticket.id) is not None
    if own:
        if state in (State.TRANSFERRED, State.REOPENED):
            allowed.add("accept")
        if state is State.TRANSFERRED:
            allowed.add("return")
        if state is State.IN_PROGRESS:
            allowed.add("resolve")
            if parts.waiting_co_parts(session, ticket) and co_handling.open_override_request(session, ticket) is None:
                allowed.add("request_override")
        if state in disputes.DISPUTABLE_STATES:
            if not waiting_extension:
                allowed.add("request_extension")
            if ticket.open_dispute_id is None:
                allowed.add("dispute")
        if state is State.IN_PROGRESS and parts.open_forward(session, ticket) is None \
                and forwarding.sub_units(session, ticket.unit_id):
            allowed.add("forward")
    part = parts.open_part(session, ticket, actor.unit_id) \
        if role is Role.UNIT_STAFF and not own and state in UNIT_STATES else None
    if part is not None:
        allowed.add("return")
        allowed.add("accept" if part.outcome == TransferOutcome.PENDING.value else "part_reply")
    if progress.may_report(session, actor, ticket):
        allowed.add("progress")
    if role in SUPERVISING_ROLES:
        if state not in FINISHED_STATES:
            allowed.add("escalate")
        if state not in FINISHED_STATES and parts.waiting_co_parts(session, ticket):
            allowed.add("override_parts")
            if co_handling.open_override_request(session, ticket) is not None:
                allowed.add("refuse_override")
        if state is State.RESOLVED:
            allowed.add("close")
        if waiting_extension:
            allowed.add("decide_extension")
        if ticket.open_dispute_id is not None:
            allowed.add("decide_dispute")
    return [name for name in ACTIONS if name in allowed]
