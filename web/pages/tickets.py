"""One ticket as staff see it (details, actions their role allows, the audit log) and its
actions. Every action goes through dispatch.lifecycle, carrying the version
the page showed, so a stale page gets a clear conflict instead of overwriting."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from classifier.features import message_text
from callcenter.handover import transfer_live_call
from dispatch import actions as dispatch_actions
from dispatch import (attachments, co_handling, flags, forwarding, kept_forms, lifecycle, media_fetches, open311, parts, progress, queries, reply_templates,
                      repeats, similarity, telephony)
from dispatch.actors import DISPATCH_ROLES
from dispatch.clock import utcnow
from dispatch.emergency import emergency_hints
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, Reason
from dispatch.models import CatalogueEntry, StaffUser, Ticket, TicketEvent, Unit
from dispatch.public import ticket_by_number
from dispatch.routing import Router
from dispatch.staff_detail import pending_requests
from dispatch.staff_view import staff_view, visible_ticket
from dispatch.attachments import Upload
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import LOW_CONFIDENCE_MARK_ZH, Channel, RequestType, Role
from web.auth import StaffIdentity, staff_only, stream_alive
from web.messages import describe
from web.pages.labels import (ACTIONS_ZH, CONFIDENTIAL_SHORT_ZH, CONFIDENTIAL_ZH, CORRECTION_FIELDS_ZH, MEDIA_LINKS_ZH, MMS_PHOTOS_ZH, NOTICE_DECIDE_LINK_ZH, NOTICE_DECIDED_AT, PART_FORMS_ZH, PART_ROLES_ZH, PART_STATUS_ZH, TICKET_CHANGED,
                              PHOTOS_NOT_SAVED, PHOTOS_WITHHELD, TICKET_CONFIRM_ZH, TICKET_DONE_ZH, TYPED_MOVED, TYPED_NOT_SAVED,
                              label)
from web.pages.attachments import MAX_FILES_IN_FORM, attachment_file, attachment_thumbnail, uploads_of
from web.pages.kept import page_with_token
from web.pages.site import TICKETS_TOPIC, Site
from web.pages.streams import event_stream, sse
from web.services import Services
from web.telephony import pbx_bridge

log = logging.getLogger(__name__)
ALL_STAFF = frozenset(Role)
MAX_SUGGESTIONS = 3

# (session, ticket) -> items with a unit (code, id or Unit), a probability and a reason.
# app.state.suggest replaces the default, routing_suggestions(), when set.
Suggest = Callable[[Session, Ticket], Sequence[Any]]


def routing_suggestions(router: Router) -> Suggest:
    """What routing proposed at intake (kept on the ticket), or, for a ticket filed while the
    classifier was not ready, what it proposes now."""

    def suggest(_session: Session, ticket: Ticket) -> list[dict[str, Any]]:
        routing = ticket.routing or {}
        if not routing.get("suggestions") and router.model is not None and routing.get("source") in (None, "manual"):
            routing = router.route(message_text(ticket.title, ticket.body), ticket.location).as_dict()
        items = list(routing.get("suggestions") or [])
        top = routing.get("unit_code")
        if top and not any(i.get("unit_code") == top for i in items):
            items.insert(0, {"unit_code": top, "probability": routing.get("probability"),
                             "detail": routing.get("reason")})
        return items

    return suggest


@dataclass(frozen=True)
class Suggestion:
    unit_code: str
    unit_name: str
    probability: float | None
    reason: str


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def suggestions(session: Session, suggest: Suggest | None, ticket: Ticket) -> list[Suggestion]:
    """The classifier's top units for the ticket; none (the plain picker) when it is off or fails."""
    if suggest is None:
        return []
    try:
        raw = list(suggest(session, ticket))
    except Exception:
        log.exception("suggestions failed", extra={"event": "suggest_failed", "ticket": ticket.number})
        return []
    units = {u.code: u for u in queries.active_units(session)}
    by_id = {u.id: u for u in units.values()}
    result: list[Suggestion] = []
    for item in raw:
        unit = _field(item, "unit", "unit_code", "unit_id")
        if isinstance(unit, Unit):
            unit = unit.code
        found = by_id.get(unit) if isinstance(unit, int) else units.get(str(unit))
        if found is None or any(s.unit_code == found.code for s in result):
            continue
        probability = _field(item, "probability", "confidence", "score")
        result.append(Suggestion(found.code, found.name, float(probability) if probability is not None else None,
                                 str(_field(item, "detail", "reason", "category") or "")))
        if len(result) == MAX_SUGGESTIONS:
            break
    return result


def proposed_entry(services: Services, ticket: Ticket, filed_under: CatalogueEntry | None = None) -> dict[str, Any] | None:
    """The catalogue entry routing proposed, as the catalogue now has it (path, unit), with
    the terms that found it; None when it proposed none or the entry is gone. A civic app's
    request is filed under the service the citizen chose: that entry is proposed (`chosen`)."""
    if filed_under is not None and ticket.channel == Channel.OPEN311.value and services.router.catalogue:
        chosen = services.router.catalogue.find(filed_under.code)
        if chosen is not None:
            return {"code": chosen.code, "path": chosen.path, "terms": [], "unit_code": chosen.unit_code,
                    "agrees": True, "chosen": True}
    routing = ticket.routing or {}
    proposal = routing.get("entry") or {}
    found = services.router.catalogue.find(proposal.get("code") or "") if services.router.catalogue else None
    if found is None:
        return None
    # agrees: of the proposal's category. An entry the model disagreed with is only offered
    # with its unit's suggestion, not filled in as the ticket's category.
    return {"code": found.code, "path": found.path, "terms": proposal.get("terms") or [],
            "unit_code": proposal.get("unit_code") or found.unit_code,
            "agrees": routing.get("category") in (None, found.level1)}


def suggestion_category(services: Services, session: Session, ticket: Ticket, unit_code: str) -> str | None:
    """The catalogue entry the page's 转办 button of the suggestion of `unit_code` carries
    (ticket.html: the proposed entry, when that is its unit), for the console's 受理并转办."""
    filed_under = session.get(CatalogueEntry, ticket.catalogue_entry_id) if ticket.catalogue_entry_id else None
    entry = proposed_entry(services, ticket, filed_under)
    return entry["code"] if entry is not None and entry["unit_code"] == unit_code else None


def manual_triage_reason(ticket: Ticket) -> str | None:
    """Why routing left the ticket to an operator at intake ("内容过少，需人工分拣"), if it did."""
    routing = ticket.routing or {}
    return routing.get("reason") if routing.get("source") == "manual" else None


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def ticket_context(session: Session, services: Services, user: StaffIdentity, number: str,
                   suggest: Suggest | None) -> dict[str, Any]:
    ticket = ticket_by_number(session, number)
    view = staff_view(session, user.actor, ticket)   # NotFound for another unit's ticket
    actions = set(dispatch_actions.allowed_actions(session, user.actor, ticket))
    dispute, extension = pending_requests(session, user.actor, ticket)
    # A finished ticket (answered, resolved, closed, handed over, invalid, merged) shows its
    # deadline without a countdown: nothing is due any more.
    merged_in = queries.merged_into(session, ticket.id)
    context: dict[str, Any] = {"t": view, "actions": actions, "overdue": lifecycle.is_overdue(ticket),
                               "finished": State(ticket.state) in FINISHED_STATES,
                               "extension": extension, "dispute": dispute,
                               "suggestions": [], "units": [], "earlier": [], "similar": [], "flag": None,
                               "main": None, "merged_in": merged_in,
                               "reported_by": queries.citizens_reporting(ticket, merged_in),
                               "handover_to": ticket.handover_to, "live_call": False,
                               "follow_up_attempts": ticket.follow_up_attempts,
                               "follow_up_max": services.follow_up.max_attempts,
                               "triage_reason": manual_triage_reason(ticket),
                               "min_confidence": services.router.threshold, "low_label": LOW_CONFIDENCE_MARK_ZH}
    # What the page shows of the ticket: the live banner compares it with /tickets/N/stamp.
    context["stamp"] = queries.ticket_stamp(session, ticket.id)
    if "resolve" in actions:   # said before the reply is typed, not after it is refused
        waiting = parts.waiting_co_parts(session, ticket)
        names = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_([p.unit_id for p in waiting])))}
        context["waiting_co"] = [{"code": names[p.unit_id].code, "name": names[p.unit_id].name}
                                 for p in waiting if p.unit_id in names]
    if "resolve" in actions or "override_parts" in actions:
        news = co_handling.override_request_news(session, ticket)
        context["override_request"] = {"status": news[0], "event": news[1]} if news else None
        context["max_override_reason"] = co_handling.MAX_OVERRIDE_REASON_CHARS
    if extension is not None and user.role in (Role.SUPERVISOR, Role.ADMIN):
        # The 延期 is decided on the dashboard's list, not on this page.
        context["extension_decided_at"] = NOTICE_DECIDED_AT["extension_request"]
        context["decide_link"] = NOTICE_DECIDE_LINK_ZH
    if "answer" in actions or "handover" in actions:
        # The emergency numbers the words point to: a 直接办结 of them asks the operator to
        # confirm first (dispatch.emergency), and the refused form offers the confirmation;
        # 即时转 offers the first of them, as the refusal names it, not 110 whatever was said.
        hints = emergency_hints(f"{ticket.title or ''}\n{ticket.body or ''}")
        context["answer_emergency"] = [h.service.value for h in hints] if "answer" in actions else []
        context["handover_suggested"] = hints[0].service.value if hints else None
    if "request_extension" in actions:
        context["max_extension_days"] = services.rules.policy.extension_max_working_days
    if "progress" in actions:
        # The 督办 a progress note would answer, shown above the form so the unit reads it first.
        unanswered = progress.unanswered_escalation(session, ticket)
        context["unanswered_escalation"] = session.get(TicketEvent, unanswered) if unanswered else None
        context["max_progress"] = progress.MAX_PROGRESS_CHARS
    if "escalate" in actions:
        escalated = lifecycle.escalations(session, [ticket.id]).get(ticket.id)
        context["escalated_recently"] = lifecycle.recently_escalated(escalated, utcnow())
    if "merge" in actions:
        # The same number's earlier open ticket these words may repeat: a proposal for 合并.
        context["repeat_of"] = repeats.repeats_of_ticket(session, ticket, days=services.settings.repeat_proposal_days)
    if ticket.merged_into_id is not None:
        context["main"] = session.get(Ticket, ticket.merged_into_id)
    context["entry"] = session.get(CatalogueEntry, ticket.catalogue_entry_id) if ticket.catalogue_entry_id else None
    # The catalogue's deadline class that set the deadline at dispatch (紧急 1 working day ...).
    context["deadline_class"] = services.deadline_classes().get(ticket.deadline_class or "")
    context["proposed_entry"] = None
    if "transfer" in actions:
        context["suggestions"] = suggestions(session, suggest, ticket)
        context["units"] = queries.active_units(session)
        context["proposed_entry"] = proposed_entry(services, ticket, context["entry"])
    if user.role is not Role.UNIT_STAFF:
        if ticket.phone:
            context["earlier"] = [t for t in queries.tickets_of_phone(session, ticket.phone) if t.id != ticket.id]
        context["flag"] = flags.active_flag(session, ticket.phone)
        context["flagged_by"] = flags.flagger_name(session, context["flag"]) if context["flag"] else None
        if State(ticket.state) not in FINISHED_STATES:
            context["similar"] = similarity.similar_to_ticket(session, ticket, days=services.settings.similar_days,
                                                              places=services.places,
                                                              index=services.similar_index)
    # The actor's own part (协办 or 二次派单) names its forms in its role's words.
    mine = parts.open_part(session, ticket, user.actor.unit_id) \
        if user.role is Role.UNIT_STAFF and ticket.unit_id != user.actor.unit_id else None
    context["part_forms"] = PART_FORMS_ZH.get(mine.role) if mine is not None else None
    context["return_confirm"] = TICKET_CONFIRM_ZH[f"{mine.role}_return" if mine is not None else "return"]
    context.update(part_roles=PART_ROLES_ZH, part_status=PART_STATUS_ZH,
                   sub_units=forwarding.sub_units(session, ticket.unit_id) if "forward" in actions else [])
    if "handover" in actions:
        context["live_call"] = telephony.live_call_of_ticket(session, ticket.id) is not None
    # The ticket's photos (the citizen's, and those staff added), and whether this viewer may add.
    context["attachments"] = attachments.shown_to(session, user.actor, ticket)
    context["may_attach"] = attachments.may_attach(session, user.actor, ticket)
    # A unit on a 保密 ticket is told that photos are kept from it (the citizen's), not shown them.
    withheld = attachments.withheld(session, user.actor, ticket, context["attachments"])
    context["photos_withheld"] = PHOTOS_WITHHELD.format(count=withheld) if withheld else None
    # The photos this viewer may remove (删除图片): their own, or any as a supervisor, while open.
    context["removable"] = {a.id for a in context["attachments"] if attachments.may_remove(user.actor, ticket, a)}
    context["attachment_limits"] = services.attachment_limits
    context["media_links"] = open311.media_links(session, user.actor, ticket)
    context["media_words"] = MEDIA_LINKS_ZH
    outstanding = media_fetches.outstanding(session, ticket.id)
    context["mms_notes"] = [MMS_PHOTOS_ZH[kind].format(n=n) for kind, n in outstanding.items() if n]
    # The centre's staff may have a given-up photo fetched again (重新获取), each named by its place.
    context["mms_words"] = MMS_PHOTOS_ZH
    context["mms_given_up"] = [
        {"id": f.id, "text": MMS_PHOTOS_ZH["given_up"].format(position=f.position + 1, attempts=f.attempts,
                                                               error=media_fetches.shown_error(f.last_error) or "")}
        for f in media_fetches.of_ticket(session, ticket.id) if f.status == media_fetches.FAILED] \
        if outstanding["failed"] and user.role in DISPATCH_ROLES else []
    # Room left under the per-ticket limit: the ticket's own photos, not those merged in with others.
    context["photo_room"] = services.attachment_limits.per_ticket - attachments.count(session, ticket.id)
    people = {a.staff_id for a in context["attachments"] if a.staff_id is not None}
    context["photo_people"] = {i: name or login for i, name, login in session.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username).where(StaffUser.id.in_(people)))} \
        if people else {}
    context["photo_units"] = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({a.unit_id for a in context["attachments"] if a.unit_id is not None}))).all())
    # 常用语 for the reply boxes the page shows, filled in for this ticket ({编号}, {日期}).
    context["templates"] = reply_templates.filled_for(session, user.actor, ticket.number) \
        if actions & set(REPLY_FORMS) else []
    return context


# The forms whose box is a reply (to the citizen, or a part's to the lead unit): a template
# picked above them goes into their text.
REPLY_FORMS = ("answer", "resolve", "part_reply")


def template_prefill(request: Request, context: dict[str, Any]) -> dict[str, str]:
    """?template=ID&reply_for=FORM, the template picker without a script: that form's reply
    box filled with the template (one the viewer is offered; any other id fills nothing)."""
    form, asked = request.query_params.get("reply_for", ""), request.query_params.get("template", "")
    if form not in REPLY_FORMS or form not in context["actions"]:
        return {}
    chosen = next((t for t in context["templates"] if str(t.id) == asked), None)
    return {form: chosen.text} if chosen is not None else {}


# What the page says after a step; the staff API names the extension's form request_extension.
DONE_MESSAGES = {**TICKET_DONE_ZH, "request_extension": TICKET_DONE_ZH["extend"]}


# The console's steps that land here with the ticket still to be dispatched (受理, a repeat
# call joined to an open ticket, or filed and merged into it), and those that leave nothing
# to dispatch (受理并转办).
FROM_CONSOLE = ("filed", "joined", "filed_merged")
CONSOLE_STEPS = (*FROM_CONSOLE, "filed_transfer", "joined_transfer", "joined_kept")


def back_to_console(done: str, role: Role) -> bool:
    """Whether the step's notice offers 返回话务台: an operator's every step, a supervisor's
    or an admin's from the console (their other steps come from their own pages)."""
    return done in DONE_MESSAGES and (role is Role.OPERATOR or (role in DISPATCH_ROLES and done in CONSOLE_STEPS))


def next_focus(done: str, actions: set[str], role: Role) -> str | None:
    """Where the page puts the cursor after a step: on arrival from the console with the
    ticket waiting for dispatch, its 转办 ("transfer": the top suggestion's, else the
    catalogue field); once nothing is left to dispatch here, 返回话务台 ("console"). None
    otherwise (the page as it always was)."""
    if "transfer" in actions:
        return "transfer" if done in FROM_CONSOLE and role in DISPATCH_ROLES else None
    return "console" if back_to_console(done, role) else None


# The posted form's name -> the allowed action that shows it (the rest are the same name).
FORM_ACTION = {"extend": "request_extension"}
# When the ticket moved on and the posted form is gone, the form its words belong in now: a
# 退单 reason typed while someone else accepted is a 改派申请 reason (DESIGN.md's words).
TYPED_GOES_TO = {"return": "dispute", "dispute": "return"}


def form_shown(action: str, context: dict[str, Any]) -> bool:
    """Whether ticket.html shows the form posting to `action` (the conditions it uses)."""
    allowed = FORM_ACTION.get(action, action)
    if allowed not in context["actions"]:
        return False
    if allowed == "request_extension" and context["extension"]:
        return False
    if allowed == "decide_dispute" and not context["dispute"]:
        return False
    return True


def typed_back(posted: str | None, form: Mapping[str, Any] | None, context: dict[str, Any]) -> dict[str, Any]:
    """Where the words of a refused form go on the page shown again: its own form when the
    page still has it, else the form they belong in now (`typed_into`), else a box to copy
    them from (`typed_lost`). Nothing typed is thrown away because someone else acted first."""
    text = str(form.get("text") or "").strip() if form is not None else ""
    if posted is None or not text or form_shown(posted, context):
        return {"typed_into": posted, "typed_moved": None, "typed_lost": None}
    other = TYPED_GOES_TO.get(posted)
    if other is not None and form_shown(other, context):
        return {"typed_into": other, "typed_lost": None,
                "typed_moved": TYPED_MOVED.format(was=ACTIONS_ZH.get(posted, posted), now=ACTIONS_ZH.get(other, other))}
    return {"typed_into": None, "typed_moved": None, "typed_lost": text, "typed_lost_label": TYPED_NOT_SAVED}


def refused_form(request: Request, number: str) -> tuple[str, dict[str, Any], str] | None:
    """The form of this ticket's page that was refused, brought back by its kept token
    (refuse_form): the action it posted to, its fields and what the page said; None when the
    page was asked for without one (or with a form kept across an expired login, which
    web/static/kept.js fills in)."""
    kept = getattr(request.state, "kept_form", None)
    prefix = f"/tickets/{number}/"
    if not kept or not kept.get("error") or not kept["action"].startswith(prefix):
        return None
    request.state.kept_form = None   # filled in here, with the page's own words, not by kept.js
    return kept["action"][len(prefix):], kept["fields"], kept["error"]


async def ticket_page(request: Request) -> Response:
    site, user = _site(request), request.state.user
    number = request.path_params["number"]
    suggest = getattr(request.app.state, "suggest", None) or routing_suggestions(site.services.router)
    context = await site.services.run(lambda s: ticket_context(s, site.services, user, number, suggest))
    done_key = request.query_params.get("done", "")
    done = DONE_MESSAGES.get(done_key)
    call = request.query_params.get("call", "")
    if done and call.startswith("dial_"):
        done = f"{done}{label(call)}。"
    posted, fields, error = refused_form(request, number) or (None, {}, None)
    values = kept_forms.values_of(fields)
    # `form`: each field's first value (the words typed); `picked`: all of them, for the
    # boxes ticked and the options chosen.
    form = {name: found[0] for name, found in values.items() if found}
    back = typed_back(posted, form, context)
    context.update(error=error, done=done, form=form, posted=posted, confirm=TICKET_CONFIRM_ZH,
                   picked=values if back["typed_into"] == posted else {},
                   changed_banner=TICKET_CHANGED, typed_not_saved=TYPED_NOT_SAVED,
                   prefill=template_prefill(request, context),
                   bridge_on=pbx_bridge(request.app.state) is not None,
                   correction_fields=CORRECTION_FIELDS_ZH, confidential_choices=CONFIDENTIAL_ZH,
                   confidential_short=CONFIDENTIAL_SHORT_ZH, request_types=[k.value for k in RequestType],
                   back_to_console=back_to_console(done_key, user.role),
                   # A 直接办结 refused as a possible emergency: the same form offers 仍直接办结.
                   confirm_answer=posted == "answer" and bool(context.get("answer_emergency")),
                   focus=None if error else next_focus(done_key, context["actions"], user.role), **back)
    return site.render(request, "ticket.html", context)


def _safe_back(form: FormData, default: str) -> str:
    back = str(form.get("back") or "")
    return back if back.startswith("/") and not back.startswith("//") else default


# The forms that may carry photos: 上传图片 on its own, the operator's 直接办结 reply, the unit's
# 办结 reply (办结照片) and a co-handling unit's or sub-unit's reply to the lead (协办答复).
PHOTO_FORMS = ("attach", "answer", "resolve", "part_reply")


def perform(session: Session, site: Site, user: StaffIdentity, number: str, action: str, form: FormData,
            photos: Sequence[Upload] = ()) -> str:
    """The page's forms go the way the staff API's requests go: dispatch.actions.perform.
    The key of the message to show: a co-handling unit's or sub-unit's return is of its part,
    and the ticket stays with the lead. Photos sent with a reply are stored first, in the same
    transaction: a refused reply keeps none of them."""
    if form.get("expected_version") is None:
        raise InvalidInput("expected_version", Reason.PAGE_EXPIRED)
    if action == attachments.REMOVAL:
        attachments.remove(session, user.actor, number, _photo_id(form), str(form.get("reason") or ""),
                           expected_version=dispatch_actions.optional_int(form, "expected_version"))
        log.info("ticket photo removed", extra={"event": "page_detach", "ticket": number, "user": user.username})
        return action
    if action == media_fetches.REFETCH:
        media_fetches.fetch_again(session, user.actor, number, _form_id(form, "fetch_id"))
        return action
    if photos or action == "attach":
        ticket = visible_ticket(session, user.actor, number)
        attachments.add(session, ticket, user.actor, photos, site.services.attachment_limits)
        if action == "attach":
            if not photos:
                raise InvalidInput(attachments.FIELD, Reason.REQUIRED)
            log.info("ticket photos", extra={"event": "page_attach", "ticket": number, "user": user.username})
            return action
    dispatch_actions.perform(session, user.actor, number, action, form, site.services.action_context())
    log.info("ticket action", extra={"event": f"page_{action}", "ticket": number, "user": user.username})
    if action == "return" and user.actor.unit_id is not None:
        lead = session.scalar(select(Ticket.unit_id).where(Ticket.number == number))
        if lead is not None and lead != user.actor.unit_id:
            return "part_return"
    return action


def _photo_id(form: FormData) -> int:
    return _form_id(form, "attachment_id")


def _form_id(form: FormData, field: str) -> int:
    raw = str(form.get(field) or "")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(field, Reason.NOT_INTEGER)
    return int(raw)


async def ticket_action(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    number = request.path_params["number"]
    action = request.path_params.get("action") or request.url.path.rsplit("/", 1)[-1]
    photos = await uploads_of(form) if action in PHOTO_FORMS else []
    try:
        shown = await site.services.run(lambda s: perform(s, site, user, number, action, form, photos))
    except (Conflict, IllegalTransition, InvalidInput) as exc:
        # A browser cannot be given files back: the page says to choose them again.
        return await refuse_form(request, number, form, describe(exc) + (PHOTOS_NOT_SAVED if photos else ""))
    site.changed()
    back, _, fragment = _safe_back(form, f"/tickets/{quote(number)}").partition("#")
    separator = "&" if "?" in back else "?"
    done = f"done={shown}"
    bridge = pbx_bridge(request.app.state)
    if action == "handover" and bridge is not None:
        # The hand-over is saved; the caller still on the line is sent on to the number.
        result = await transfer_live_call(bridge, site.services.sessions, number, user.actor,
                                          dict(site.services.settings.handover_numbers))
        if result is not None:
            done += f"&call={result.value}"
    return RedirectResponse(f"{back}{separator}{done}" + (f"#{fragment}" if fragment else ""), status_code=303)


async def refuse_form(request: Request, number: str, form: FormData, error: str) -> Response:
    """A refused form goes back to the ticket page by a redirect (Post/Redirect/Get): what was
    typed, every box ticked and option chosen, and the refusal are kept for a while
    (dispatch/kept_forms.py) under a token the page's address carries, so the page shows the
    form filled in and the error, and a reload shows them again rather than posting anew."""
    site, user = _site(request), request.state.user
    page = f"/tickets/{quote(number)}"
    fields = kept_forms.keepable(form.multi_items())

    def keep(session: Session) -> str:
        action = request.path_params.get("action") or request.url.path.rsplit("/", 1)[-1]
        return kept_forms.keep(session, action=f"/tickets/{number}/{action}", page=page,
                               fields=fields, user_id=user.id, error=error)

    token = await site.services.run(keep)
    return RedirectResponse(page_with_token(page, token), status_code=303)


async def ticket_stamp(request: Request) -> Response:
    """The ticket's last event, for an open page to tell that it changed (ticket.js asks
    when the live stream says some ticket did); not found like the page for one out of sight."""
    site, user, number = _site(request), request.state.user, request.path_params["number"]
    stamp = await site.services.read(
        lambda s: queries.ticket_stamp(s, visible_ticket(s, user.actor, number).id))
    return JSONResponse({"stamp": stamp}, headers={"Cache-Control": "no-store"})


async def ticket_events(request: Request) -> Response:
    """Server-sent `changed` whenever this ticket may have changed (its number among the
    changed ones, or a change too big to list), so an open page asks /stamp only then; not
    found like the page for a ticket out of sight."""
    site, user, number = _site(request), request.state.user, request.path_params["number"]
    await site.services.read(lambda s: visible_ticket(s, user.actor, number).id)

    def encode(_topic: str, numbers: frozenset[str] | None) -> str:
        return sse("changed", {}) if numbers is None or number in numbers else ""

    return event_stream(site.hub, [TICKETS_TOPIC], encode, hello=sse("hello", {}), alive=stream_alive(request))


routes = [
    Route("/tickets/{number}", staff_only(ticket_page, ALL_STAFF), methods=["GET"]),
    Route("/tickets/{number}/stamp", staff_only(ticket_stamp, ALL_STAFF), methods=["GET"]),
    Route("/tickets/{number}/events", staff_only(ticket_events, ALL_STAFF), methods=["GET"]),
    Route("/tickets/{number}/attachments/{attachment_id}", staff_only(attachment_file, ALL_STAFF), methods=["GET"]),
    Route("/tickets/{number}/attachments/{attachment_id}/thumbnail", staff_only(attachment_thumbnail, ALL_STAFF),
          methods=["GET"]),
    # The forms that may carry photos take files; the rest take none.
    *(Route(f"/tickets/{{number}}/{action}", staff_only(ticket_action, ALL_STAFF, max_files=MAX_FILES_IN_FORM),
            methods=["POST"]) for action in PHOTO_FORMS),
    Route("/tickets/{number}/{action}", staff_only(ticket_action, ALL_STAFF), methods=["POST"]),
]
