"""One ticket as staff see it (details, actions their role allows, the audit log), its
actions, and the search. Every action goes through dispatch.lifecycle, carrying the version
the page showed, so a stale page gets a clear conflict instead of overwriting."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from classifier.features import message_text
from dispatch import lifecycle, queries
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES
from dispatch.errors import Conflict, DispatchError, IllegalTransition, InvalidInput, NotFound
from dispatch.models import Ticket, Unit
from dispatch.public import ticket_by_number
from dispatch.routing import Router
from dispatch.staff_view import may_see, staff_view
from dispatch.states import State
from dispatch.units import unit_by_code
from dispatch.vocabulary import Role
from web.auth import StaffIdentity, staff_only
from web.pages.labels import action_label, label
from web.pages.site import Site

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
            routing = router.route(message_text(ticket.title, ticket.body)).as_dict()
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


def allowed_actions(user: StaffIdentity, ticket: Ticket) -> set[str]:
    """The buttons to show; dispatch.lifecycle checks every one again when it is pressed."""
    state, role = State(ticket.state), user.role
    actions: set[str] = set()
    if role in DISPATCH_ROLES and state in (State.RECEIVED, State.RETURNED):
        actions.add("transfer")
        if state is State.RECEIVED:
            actions.add("answer")
    own = role is Role.ADMIN or (role is Role.UNIT_STAFF and ticket.unit_id == user.unit_id)
    if own:
        if state in (State.TRANSFERRED, State.REOPENED):
            actions.add("accept")
        if state is State.TRANSFERRED:
            actions.add("return")
        if state is State.IN_PROGRESS:
            actions.update({"resolve", "extend"})
        if state is State.REOPENED:
            actions.add("extend")
    if role in SUPERVISING_ROLES and state not in (State.ANSWERED, State.RESOLVED, State.CLOSED,
                                                   State.INVALID, State.MERGED):
        actions.add("escalate")
    return actions


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def ticket_context(session: Session, user: StaffIdentity, number: str, suggest: Suggest | None) -> dict[str, Any]:
    ticket = ticket_by_number(session, number)
    view = staff_view(session, user.actor, ticket)   # NotFound for another unit's ticket
    actions = allowed_actions(user, ticket)
    context: dict[str, Any] = {"t": view, "actions": actions, "overdue": lifecycle.is_overdue(ticket),
                               "extension": queries.pending_extension_of(session, ticket.id),
                               "suggestions": [], "units": [], "earlier": []}
    if "transfer" in actions:
        context["suggestions"] = suggestions(session, suggest, ticket)
        context["units"] = queries.active_units(session)
    if user.role is not Role.UNIT_STAFF and ticket.phone:
        context["earlier"] = [t for t in queries.tickets_of_phone(session, ticket.phone) if t.id != ticket.id]
    return context


DONE_MESSAGES = {"filed": "已受理，请转办或直接办结。", "transfer": "已转办。", "answer": "已直接办结。",
                 "accept": "已签收。", "return": "已退单，工单回到派单台。", "resolve": "已办结并答复市民。",
                 "extend": "延期申请已提交，等待督办员审批。", "escalate": "已督办，承办单位会在收件箱看到。"}


async def ticket_page(request: Request, *, error: str | None = None, status: int = 200,
                      form: FormData | None = None) -> Response:
    site, user = _site(request), request.state.user
    number = request.path_params["number"]
    suggest = getattr(request.app.state, "suggest", None) or routing_suggestions(site.services.router)
    context = await site.services.run(lambda s: ticket_context(s, user, number, suggest))
    context.update(error=error, done=DONE_MESSAGES.get(request.query_params.get("done", "")),
                   form=form or {})
    return site.render(request, "ticket.html", context, status)


def explain(exc: DispatchError) -> tuple[str, int]:
    """A domain refusal in words for the page, and its status."""
    if isinstance(exc, Conflict):
        return ("该工单已被他人处理或修改，您看到的是旧页面，本次操作没有保存。请查看下方最新状态后再操作。"
                f"（{exc.message}）", 409)
    if isinstance(exc, IllegalTransition):
        return f"工单当前状态为「{label(exc.state)}」，不能执行「{action_label(exc.action)}」。", 409
    if isinstance(exc, InvalidInput):
        fields = {"reply": "答复内容", "reason": "理由", "note": "说明", "unit": "承办单位",
                  "working_days": "延期天数", "body": "诉求内容", "phone": "联系电话", "title": "标题",
                  "phrases": "关键词"}
        return f"{fields.get(exc.field, exc.field)}填写有误：{exc.message}", 422
    return exc.message, 400


def _version(form: FormData) -> int:
    raw = str(form.get("expected_version") or "")
    if not raw.isdigit():
        raise InvalidInput("expected_version", "missing; reload the page")
    return int(raw)


def _safe_back(form: FormData, default: str) -> str:
    back = str(form.get("back") or "")
    return back if back.startswith("/") and not back.startswith("//") else default


def perform(session: Session, site: Site, user: StaffIdentity, number: str, action: str, form: FormData) -> None:
    ticket = ticket_by_number(session, number)
    actor = user.actor
    if not may_see(session, actor, ticket):
        raise NotFound(f"no ticket {number}")
    # The page's version is checked once, here, before anything changes: lifecycle functions
    # that flush midway (resolve, transfer with learn_from) would otherwise see their own
    # write as someone else's. Concurrent writers are still caught by the version column.
    lifecycle.check_version(ticket, _version(form))
    text = str(form.get("text") or "")
    if action == "transfer":
        unit = unit_by_code(session, str(form.get("unit_code") or ""))
        proposed = (ticket.routing or {}).get("unit_code")
        # The proposed unit keeps routing's own account of why (lifecycle fills it in);
        # another one says the operator chose it, from a suggestion or the picker.
        routing: dict[str, Any] | None = None
        if unit.code != proposed:
            routing = {"source": "operator", "by": user.username,
                       "picked": "suggestion" if form.get("source") == "suggestion" else "picker"}
        lifecycle.transfer(session, ticket, unit, actor, note=text.strip() or None, routing=routing,
                           learn_from=site.services.city)
    elif action == "answer":
        lifecycle.answer(session, ticket, actor, text)
    elif action == "accept":
        lifecycle.accept(session, ticket, actor)
    elif action == "return":
        lifecycle.return_ticket(session, ticket, actor, text)
    elif action == "resolve":
        lifecycle.resolve(session, ticket, actor, text)
    elif action == "extend":
        days = str(form.get("working_days") or "")
        if not days.isdigit():
            raise InvalidInput("working_days", "请填写 1 到 60 之间的工作日数")
        lifecycle.request_extension(session, ticket, actor, int(days), text)
    elif action == "escalate":
        lifecycle.escalate(session, ticket, actor, text)
    else:
        raise NotFound(f"no action {action}")
    log.info("ticket action", extra={"event": f"page_{action}", "ticket": number, "user": user.username})


async def ticket_action(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    number, action = request.path_params["number"], request.path_params["action"]
    try:
        await site.services.run(lambda s: perform(s, site, user, number, action, form))
    except (Conflict, IllegalTransition, InvalidInput) as exc:
        message, status = explain(exc)
        return await ticket_page(request, error=message, status=status, form=form)
    site.changed()
    back = _safe_back(form, f"/tickets/{quote(number)}")
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}done={action}", status_code=303)


async def search(request: Request) -> Response:
    site, user = _site(request), request.state.user
    text = request.query_params.get("q", "").strip()[:100]
    unit_id = user.unit_id if user.role is Role.UNIT_STAFF else None
    found = await site.services.run(lambda s: queries.search(s, text, unit_id=unit_id)) if text else []
    return site.render(request, "search.html", {"q": text, "found": found})


routes = [
    Route("/tickets/{number}", staff_only(ticket_page, ALL_STAFF), methods=["GET"]),
    Route("/tickets/{number}/{action}", staff_only(ticket_action, ALL_STAFF), methods=["POST"]),
    Route("/search", staff_only(search, ALL_STAFF), methods=["GET"]),
]
