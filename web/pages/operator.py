"""The operator console: the live call of this operator's phone (screen-pop over server-sent
events), filing the ticket from the call, tickets waiting for dispatch, missed calls to
call back. An operator tells the console which phone (agent interface) they sit at; it
is kept in their session."""
from __future__ import annotations

import copy
import dataclasses
import re
import uuid
from typing import Any, Callable

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from callcenter.handover import transfer_live_call
from dispatch import (agent_pause, attachments, callback_dialing, follow_up, handover, limits, proposal_transfer,
                      queries, repeats, shift_handover, telephony)
from dispatch.actors import DISPATCH_ROLES
from dispatch.clock import api_time
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, RateLimited, Reason
from dispatch.emergency import check_direct_answer, emergency_hints, handover_terms
from dispatch.request_type_hints import request_type_hint
from dispatch.intake import IntakeRequest, draft_proposal, draft_text, intake
from dispatch.routing import RoutingAnswer
from dispatch.numbers import whole_number
from dispatch.phone import national_form, normalise_phone
from dispatch.unit_cache import UnitCache
from dispatch.vocabulary import LOW_CONFIDENCE_MARK_ZH, PAUSE_REASONS_ZH, Channel, RequestType, Urgency
from web.auth import StaffIdentity, staff_only, stream_alive
from web.errors import status_of
from web.messages import NO_AGENT_FOR_POPS, describe, words
from web.pages import kb_console
from web.pages.attachments import MAX_FILES_IN_FORM, uploads_of
from web.pages.labels import (AGENT_PAUSE_ZH, CALL_RESULT, CALLBACK_DIALING_ZH, CALLBACK_LAST_ZH, CALLBACK_NOTE,
                              CALLBACK_REACHED_ZH, FOLLOW_UP_CALL_RESULT, OPERATOR_DONE_ZH, PHOTOS_NOT_SAVED,
                              REPEAT_MERGE_ZH, REPEAT_PROPOSAL_ZH, REQUEST_TYPE_HINT_ZH, WORDS_SEPARATOR_ZH, label,
                              percent, short_time)
from web.pages.site import Site
from web.pages.streams import event_stream, sse
from web.pages.tickets import suggestion_category
from web.telephony import AGENT_STATE_TOPIC, CALL_ENDED_TOPIC, pbx_bridge

DEMO_AGENTS = ("PJSIP/7001", "PJSIP/7002", "PJSIP/7003")
_AGENT = re.compile(r"^[A-Za-z0-9_./@:-]{1,120}$")
TYPES = [t.value for t in RequestType]
DEFAULT_TYPE = RequestType.CONSULTATION.value   # what 诉求类型 shows before the operator chooses
WAITING_SHOWN = 50   # the oldest; the count above the list says how many wait in all
HANDOVERS_SHOWN = 3  # the newest notes of the shift before; /operator/handover lists more


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def pop_message(pop: telephony.ScreenPop | dict[str, Any]) -> dict[str, Any]:
    """What the console shows of a screen-pop: the call's own (ScreenPop), or one published
    as plain data (from the process holding the bridge, maybe another)."""
    data = copy.deepcopy(pop) if isinstance(pop, dict) else dataclasses.asdict(pop)
    caller = data.get("caller")
    data["caller_display"] = national_form(caller) if caller and caller.startswith("+") else caller
    for earlier in data["earlier_tickets"]:
        earlier["state_label"] = label(earlier["state"])
    return data


def console_context(session: Session, agent: str | None, callbacks_page: int = 1, *,
                    units: UnitCache) -> dict[str, Any]:
    """The console's context but the tickets waiting for dispatch and those due a follow-up
    (waiting_context(), follow_up.due_with_calls(): ticket events change them, and the figures
    cache keeps them); the missed calls to call back (marked done without one) read each time."""
    call = queries.current_call(session, agent) if agent else None
    callbacks = telephony.callback_page(session, callbacks_page)
    return {
        "agents": sorted(set(queries.known_agents(session)) | set(DEMO_AGENTS)),
        "pop": pop_message(telephony.screen_pop(session, call)) if call is not None else None,
        "callbacks": callbacks,
        # Each row's 正在回拨… or last outcome: a reload mid-call shows it as the click did.
        "callback_states": {i: callback_message(state)
                            for i, state in callback_dialing.states(session, callbacks.items).items()},
        "unit_names": units.names(session),   # retired units too: a ticket keeps the unit it had
        # 示忙 / 示闲 as the PBX last reported the phone (the events stream tells changes).
        "pause": pause_message(agent_pause.pause_state(session, agent)) if agent else None,
        "pause_reasons": PAUSE_REASONS_ZH,
    }


def pause_message(state: agent_pause.AgentPause | None) -> dict[str, Any]:
    """A phone's 示忙 / 示闲 as the console shows it, and as the events stream tells it (JSON)."""
    if state is None or not state.logged_in:
        return {"logged_in": False, "paused": False, "reason": None, "words": AGENT_PAUSE_ZH["out"]}
    if not state.paused:
        return {"logged_in": True, "paused": False, "reason": None, "words": AGENT_PAUSE_ZH["ready"]}
    reason = PAUSE_REASONS_ZH.get(state.reason or "", state.reason or "")
    return {"logged_in": True, "paused": True, "reason": state.reason,
            "words": AGENT_PAUSE_ZH["paused_for"].format(reason=reason) if reason else AGENT_PAUSE_ZH["paused"]}


def callback_message(state: callback_dialing.CallbackState) -> dict[str, Any]:
    """A missed call's row as the console shows it, and as its script is told (JSON)."""
    if state.dialing:
        shown = CALLBACK_DIALING_ZH
    elif state.done:
        shown = CALLBACK_REACHED_ZH
    elif state.result:
        # Who tried last, when and what came of it: the next operator sees whose try it was.
        shown = CALLBACK_LAST_ZH.format(attempt=" ".join(
            part for part in (state.last_by, short_time(state.last_at) if state.last_at else None,
                              label(state.result)) if part))
    else:
        shown = ""
    return {**dataclasses.asdict(state), "last_at": api_time(state.last_at) if state.last_at else None,
            "words": shown}


def waiting_context(queue: queries.DispatchQueue, render: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """The tickets waiting for dispatch and their rows (the `_waiting_rows.html` template's
    `render`), made once per cached queue."""
    return {"waiting": queue.tickets, "waiting_count": queue.count,
            "waiting_rows": Markup(render({"waiting": queue.tickets}))}


def done_message(done: str | None, call: str | None) -> str | None:
    """What the console says after a step; a call's result as the PBX told it."""
    message = OPERATOR_DONE_ZH.get(done or "")
    if message and call and call.startswith("dial_"):
        worded = FOLLOW_UP_CALL_RESULT if done == "follow_up_call" else CALL_RESULT
        message = worded.format(done=message, result=label(call))
    return message


def _page(request: Request, name: str) -> int:
    value = request.query_params.get(name, "")
    return whole_number(value, high=999_999) or 1


def _console_reads(request: Request, user: StaffIdentity, session: Session) -> tuple[tuple[int, int], dict[str, Any]]:
    """The console's reads but the dispatch queue and the follow-ups, and the change marker
    those are cached under. In the session that checks the staff session (staff_only's `reads`)."""
    site = _site(request)
    session_data = site.auth.session(request)
    agent = session_data.agent if session_data else None
    context = console_context(session, agent, _page(request, "callbacks_page"), units=site.services.units)
    # 交接班: the notes of the shift before, until someone takes them over (接班).
    context["handovers"] = shift_handover.pending(session, user.actor, shown=HANDOVERS_SHOWN, others_only=True)
    return queries.figures_marker(session), context


async def console(request: Request, *, values: dict[str, Any] | None = None, error: str | None = None,
                  status: int = 200, confirm_callback: dict[str, Any] | None = None,
                  error_field: str | None = None, confirm_answer: int | None = None) -> Response:
    site = _site(request)
    session_data = site.auth.session(request)
    agent = session_data.agent if session_data else None
    services, user = site.services, request.state.user
    changes, context = request.state.reads or await services.read(lambda s: _console_reads(request, user, s))
    # The tickets waiting for dispatch are every operator's same list: from the process's
    # figures cache at the marker read with the rest (a ticket changes, it is read again).
    rows = site.templates.get_template("_waiting_rows.html").render
    context |= await site.figures.get("dispatch queue", changes, lambda now: services.read(
        lambda session: waiting_context(queries.dispatch_queue(session, limit=WAITING_SHOWN), rows)))
    # Those due a follow-up, with the calls placed: each call writes a ticket event.
    follow_ups_page = _page(request, "follow_ups_page")
    # Beside them, how many resolved tickets have no number to call (left out of the queue).
    context["follow_ups"], context["follow_ups_no_phone"] = await site.figures.get(
        ("follow-ups", follow_ups_page), changes, lambda now: services.read(
            lambda session: (follow_up.due_with_calls(session, follow_ups_page),
                             follow_up.waiting_without_phone(session))))
    context.update(agent=agent, types=TYPES, values=values or {"type": DEFAULT_TYPE}, default_type=DEFAULT_TYPE, error=error,
                   form_id=uuid.uuid4().hex, bridge_on=getattr(request.app.state, "bridge", None) is not None,
                   done=done_message(request.query_params.get("done"), request.query_params.get("call")),
                   called=request.query_params.get("ticket"), max_attempts=site.services.follow_up.max_attempts,
                   confirm_callback=confirm_callback, close_after_days=site.services.follow_up.close_after.days,
                   error_field=error_field, confirm_answer=confirm_answer,
                   photo_limit=site.services.attachment_limits.per_ticket)
    return site.render(request, "operator.html", context, status)


async def choose_agent(request: Request) -> Response:
    agent = str(request.state.form.get("agent") or "").strip()
    response = RedirectResponse("/operator", status_code=303)
    if agent and not _AGENT.match(agent):
        return await console(request, error=words(Reason.BAD_AGENT, {}), status=422)
    _site(request).auth.update(request, response, agent=agent or None)
    return response


async def file_ticket(request: Request) -> Response:
    """受理 from the console: the same intake as every channel, as a phone request, linked to
    the call it came from."""
    site, user, form = _site(request), request.state.user, request.state.form
    values = {k: str(form.get(k) or "") for k in ("type", "urgency", "title", "body", "phone", "name", "location",
                                                    "linkedid")}
    values["confidential"] = form.get("confidential") == "on"
    linkedid = values["linkedid"].strip()[:64] or None
    form_id = str(form.get("form_id") or "")[:64] or uuid.uuid4().hex
    try:
        kind = RequestType(values["type"] or DEFAULT_TYPE)
        urgency = Urgency(values["urgency"] or Urgency.NORMAL.value)
    except ValueError:
        return await console(request, values=values, error=words(Reason.TYPE_AND_URGENCY_REQUIRED, {}), status=422)
    # 直接办结 from an article, or confirmed so after the emergency question (check_direct_answer).
    confirmed_article = str(form.get("answer_confirmed") or "")
    article_id = whole_number(confirmed_article or str(form.get("answer_article") or ""))
    # The answer's photos, as the ticket page's 直接办结 takes them; the other steps take none.
    photos = await uploads_of(form) if article_id is not None else []
    unsaved = PHOTOS_NOT_SAVED if photos else ""   # a browser cannot be given files back
    # The console's 即时转 beside an emergency hint: filed and handed over at once.
    raw_service = str(form.get("handover_to") or "")
    try:
        service = handover.parse_service(raw_service) if raw_service else None
    except InvalidInput as exc:
        return await console(request, values=values, error=describe(exc), status=422)
    if service is not None:
        kind, urgency = handover_terms(kind)
    elif article_id is not None:
        try:  # before anything is filed: the operator confirms, or hands over, on the form kept
            check_direct_answer(f"{values['title']}\n{values['body']}", confirmed=bool(confirmed_article))
        except InvalidInput as exc:
            return await console(request, values=values, error=describe(exc) + unsaved, status=422,
                                 error_field=exc.field, confirm_answer=article_id)
    intake_request = IntakeRequest(channel=Channel.PHONE, body=values["body"], title=values["title"],
                                   phone=values["phone"], name=values["name"], location=values["location"],
                                   request_type=kind, urgency=urgency, confidential=bool(values["confidential"]),
                                   channel_ref=f"{linkedid or 'console'}:{form_id}", call_linkedid=linkedid)

    proposal = await site.services.propose(intake_request)
    # 受理并转办 beside a proposed unit: filed and transferred to it at once (not with a
    # hand-over or an answer, which finish the ticket).
    transfer_to = str(form.get("transfer_to") or "").strip()[:64] if service is None and article_id is None else ""
    # 受理并并入 beside a proposed repeat: filed and merged into the caller's open ticket at once.
    merge_into = str(form.get(repeats.FIELD) or "").strip()[:64] \
        if service is None and article_id is None and not transfer_to else ""

    def work(session: Session) -> tuple[str, bool, bool, bool]:
        result = intake(session, intake_request, site.services.rules, actor=user.actor,
                        router=site.services.router, proposal=proposal)
        if linkedid:  # a call not written yet is linked when it is (its Linkedid is on the source)
            telephony.link_ticket_to_call(session, result.ticket, linkedid)
        transferred = False
        if service is not None:
            # The ticket page's 即时转, as one step with the filing (a repeat of an open ticket
            # is handed over as that ticket).
            handover.handover(session, result.ticket, user.actor, service)
        else:
            if photos:   # stored first, in the same transaction: a refused answer files nothing
                attachments.add(session, result.ticket, user.actor, photos, site.services.attachment_limits)
            kb_console.answer_or_count(session, site.services, result.ticket, user.actor, article_id)
        if merge_into and result.created:
            # The ticket page's 合并 into the proposed ticket, in the same transaction: refused,
            # nothing is filed. (Words intake joined by itself are in that ticket already.)
            repeats.merge_filed(session, user.actor, result.ticket, merge_into, site.services.action_context())
            return merge_into, False, False, True
        if transfer_to:
            # The ticket page's 转办 of that suggestion, in the same transaction: refused, nothing is filed.
            category = suggestion_category(site.services, session, result.ticket, transfer_to)
            transferred = proposal_transfer.transfer_filed(
                session, user.actor, result.ticket, transfer_to, site.services.action_context(),
                category=category, joined=result.repeat_of_open_ticket)
        return result.ticket.number, result.repeat_of_open_ticket, transferred, False

    try:
        number, joined, transferred, merged = await site.services.run(work)
    except (InvalidInput, IllegalTransition) as exc:
        # The cursor goes to the field to correct: the operator is still talking.
        field = exc.field if isinstance(exc, InvalidInput) and exc.field not in (
            proposal_transfer.FIELD, repeats.FIELD, "into", attachments.FIELD) else None
        return await console(request, values=values, error=describe(exc) + unsaved, status=422, error_field=field)
    site.changed()
    done = _filed_as(handed_over=service is not None, answered=article_id is not None, joined=joined,
                     transfer_asked=bool(transfer_to), transferred=transferred, merged=merged)
    bridge = pbx_bridge(request.app.state)
    if service is not None and bridge is not None:
        # Saved; the caller still on the line is sent on to the number, as from the ticket page.
        outcome = await transfer_live_call(bridge, site.services.sessions, number, user.actor,
                                           dict(site.services.settings.handover_numbers))
        if outcome is not None:
            done += f"&call={outcome.value}"
    return RedirectResponse(f"/tickets/{number}?done={done}", status_code=303)


def type_hint(text: str) -> dict[str, Any] | None:
    """The 诉求类型 the words suggest, with the console's sentences for it (REQUEST_TYPE_HINT_ZH)."""
    hint = request_type_hint(text)
    if hint is None:
        return None
    kind = hint.request_type.value
    words = {"label": label(kind), "words": WORDS_SEPARATOR_ZH.join(hint.words)}
    return {"type": kind, "label": label(kind), "words": list(hint.words),
            **{key: sentence.format_map(words) for key, sentence in REQUEST_TYPE_HINT_ZH.items()}}


def _filed_as(*, handed_over: bool, answered: bool, joined: bool, transfer_asked: bool, transferred: bool,
              merged: bool = False) -> str:
    """What the ticket page says after a filing from the console (web/pages/labels.py
    TICKET_DONE_ZH). A repeat call was joined to the caller's open ticket: said there, not
    "filed"; one already with a unit is not transferred again. 受理并并入 lands on the ticket
    the new one was merged into."""
    if handed_over:
        return "handover"
    if merged:
        return "filed_merged"
    if transferred:
        return "joined_transfer" if joined else "filed_transfer"
    if joined:
        return "joined_kept" if transfer_asked else "joined"
    return "answer" if answered else "filed"


async def draft(request: Request) -> Response:
    """While the operator types: routing's proposal for the ticket the form would file (the
    text and location intake() routes, so the figure is the one the ticket page shows), and
    the emergency numbers its words point to. Each is counted against the account's limit
    (HOTLINE_DRAFTS_PER_MINUTE) before it is classified; past it the answer is 200 with
    `limited` (the words to show) and `retry_after`: the console keeps its last proposal and
    nothing reads as a failed request. The emergency hint and the 诉求类型 the words suggest
    (`request_type`, dispatch/request_type_hints.py) are word matches and always come."""
    site, form, user = _site(request), request.state.form, request.state.user
    title, body, location, phone = (str(form.get(k) or "") for k in ("title", "body", "location", "phone"))
    services, router = site.services, site.services.router
    emergency = [{"to": h.service.value, "label": label(h.service.value), "words": list(h.words)}
                 for h in emergency_hints(f"{title}\n{body}")]
    request_type = type_hint(f"{title}\n{body}")   # a word match, like the emergency hint: always

    def count_and_read(session: Session) -> tuple[dict[str, str], list[dict[str, Any]]]:
        limits.count_draft(session, services.settings.limits, user.id)
        # The caller's open tickets these words may repeat: a handful of that number's, compared here.
        found = repeats.repeat_proposals(session, phone, draft_text(title, body),
                                         days=services.settings.repeat_proposal_days)
        return {u.code: u.name for u in services.units.active(session)}, [repeat_message(p) for p in found]

    try:
        by_code, repeat_of = await services.read(count_and_read)
    except RateLimited as exc:
        return JSONResponse({"limited": describe(exc), "retry_after": exc.retry_after, "emergency": emergency,
                             "request_type": request_type})
    answer = await services.classify(lambda: draft_proposal(router, title=title, body=body, location=location))
    listed = _draft_suggestions(answer)
    # A unit the console cannot transfer to (retired, or missing for its category) is named
    # with why, and offers no 受理并转办.
    missing = {code: category for code, category, _ in listed if code not in by_code}
    refused = await services.read(lambda session: draft_refusals(session, missing)) if missing else {}
    # Each suggestion is judged against the threshold routing uses, not the top one alone: a
    # second or third unit below it is a hint, marked so (`low`).
    suggestions = [{"category": category, "unit": by_code.get(code, code), "unit_code": code,
                    "probability": probability, "refused": refused.get(code),
                    "percent": percent(probability) if probability is not None else None,
                    "low": probability is not None and probability < router.threshold}
                   for code, category, probability in listed]
    return JSONResponse({
        "suggestions": suggestions,
        "sure": answer is not None and not answer.manual_triage,
        "reason": answer.reason if answer is not None and answer.manual_triage else None,
        "threshold": percent(router.threshold),
        "low_label": LOW_CONFIDENCE_MARK_ZH,
        "emergency": emergency,
        "request_type": request_type,
        "repeat_of": repeat_of,
    })


def repeat_message(proposal: repeats.RepeatProposal) -> dict[str, Any]:
    """A proposed repeat as the console shows it: 可能与 … 重复, and its 受理并并入 button."""
    return {**proposal.as_dict(), "state_label": label(proposal.state),
            "words": REPEAT_PROPOSAL_ZH.format(number=proposal.number),
            "merge": REPEAT_MERGE_ZH.format(number=proposal.number)}


def _draft_suggestions(answer: RoutingAnswer | None) -> list[tuple[str, str | None, float | None]]:
    """(unit code, category, probability) of the top three units, as the ticket page lists
    them: a rule's unit, which comes with no suggestions, first."""
    if answer is None:
        return []
    found = [(s.unit_code, s.category, s.probability) for s in answer.suggestions]
    if answer.unit_code and all(code != answer.unit_code for code, _, _ in found):
        found.insert(0, (answer.unit_code, answer.category, answer.probability))
    return found[:3]


def draft_refusals(session: Session, categories: dict[str, str | None]) -> dict[str, str]:
    """Why 受理并转办 would be refused for each of these proposed units (unit code -> the
    category it was proposed for), in words by code."""
    refusals = {}
    for code, category in categories.items():
        try:
            proposal_transfer.check_unit(session, code, category)
        except InvalidInput as exc:
            refusals[code] = describe(exc)
    return refusals


async def caller(request: Request) -> Response:
    """A number the operator typed: its latest tickets and its flag, as a screen-pop shows
    them (a repeat caller is seen before the ticket is filed). A number that is not one
    answers with nothing: the form says why when it is filed."""
    raw = request.query_params.get("phone", "")[:64]
    try:
        phone = normalise_phone(raw)
    except InvalidInput:
        return JSONResponse({"phone": None, "earlier_tickets": [], "flagged": None})
    earlier, flagged = await _site(request).services.read(lambda s: telephony.caller_history(s, phone))
    for ticket in earlier:
        ticket["state_label"] = label(ticket["state"])
    return JSONResponse({"phone": national_form(phone), "earlier_tickets": earlier, "flagged": flagged})


async def callback_done(request: Request) -> Response:
    """已回拨 without a call through the console: the row, and the same number's other missed
    calls, leave the list for good, so the operator confirms it first (operator.js asks in
    the page; without script the console comes back with the question, naming the number)."""
    site, user, form = _site(request), request.state.user, request.state.form
    callback_id = int(request.path_params["callback_id"])
    note = str(form.get("note") or "").strip() or CALLBACK_NOTE
    try:
        if form.get("confirmed") != "yes":
            callback = await site.services.read(lambda s: telephony.pending_callback(s, callback_id))
            return await console(request, confirm_callback={"id": callback.id, "caller": callback.caller,
                                                            "note": note})
        await site.services.run(lambda s: telephony.mark_callback_done(s, callback_id, user.actor, note))
    except (InvalidInput, Conflict, NotFound) as exc:
        return await console(request, error=describe(exc), status=status_of(exc))
    return RedirectResponse("/operator?done=callback", status_code=303)


async def screen_pops(request: Request) -> Response:
    """This operator's screen-pops as server-sent events (event "pop", JSON data), the
    end of their calls (event "ended", the call's linkedid), and their phone's 示忙 / 示闲
    as the PBX reports it (event "pause", pause_message())."""
    site = _site(request)
    session_data = site.auth.session(request)
    agent = session_data.agent if session_data else None
    if not agent:
        return Response(NO_AGENT_FOR_POPS, status_code=409)
    ended, paused = f"{CALL_ENDED_TOPIC}:{agent}", f"{AGENT_STATE_TOPIC}:{agent}"

    def encode(topic: str, message: Any) -> str:
        if topic == ended:
            return sse("ended", message)
        if topic == paused:
            return sse("pause", pause_message(agent_pause.AgentPause(**message)))
        return sse("pop", pop_message(message))

    return event_stream(site.hub, [f"screen-pop:{agent}", ended, paused], encode,
                        hello=sse("hello", {"agent": agent}), alive=stream_alive(request))


routes = [
    Route("/operator", staff_only(console, DISPATCH_ROLES, reads=_console_reads), methods=["GET"]),
    Route("/operator/agent", staff_only(choose_agent, DISPATCH_ROLES), methods=["POST"]),
    # 引用此文直接办结 may carry the answer's photos, as the ticket page's 直接办结 does.
    Route("/operator/tickets", staff_only(file_ticket, DISPATCH_ROLES, max_files=MAX_FILES_IN_FORM), methods=["POST"]),
    Route("/operator/draft", staff_only(draft, DISPATCH_ROLES), methods=["POST"]),
    Route("/operator/callbacks/{callback_id:id}/done", staff_only(callback_done, DISPATCH_ROLES), methods=["POST"]),
    Route("/operator/events", staff_only(screen_pops, DISPATCH_ROLES), methods=["GET"]),
    Route("/operator/caller", staff_only(caller, DISPATCH_ROLES), methods=["GET"]),
]
