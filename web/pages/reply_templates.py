"""The reply templates' page (常用语): unit staff keep their unit's list at /unit/templates
(and read the city-wide one beside it), admins keep the city-wide list at /admin/templates.
dispatch/reply_templates.py decides who may change what; these routes read the form and
show the outcome. The ticket page offers the templates (web/pages/tickets.py)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import reply_templates
from dispatch.errors import DispatchError
from dispatch.vocabulary import TEMPLATE_DATE_ZH, TEMPLATE_NUMBER_ZH, Role
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe
from web.pages.labels import ADMIN_CONFIRM_ZH, TEMPLATES_DONE_ZH, TEMPLATES_HEADING_ZH
from web.pages.site import Site

UNIT_ROLES = frozenset({Role.UNIT_STAFF})
ADMIN_ROLES = frozenset({Role.ADMIN})


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _base(request: Request) -> str:
    return "/admin/templates" if request.url.path.startswith("/admin/") else "/unit/templates"


def _typed(form: Any) -> dict[str, str]:
    # Cut far past the limits: what is kept for the form again, the domain refuses whole.
    return {name: str(form.get(name) or "")[:reply_templates.MAX_TEXT_CHARS * 2] for name in ("title", "text")}


async def templates_page(request: Request, *, error: str | None = None, status: int = 200,
                         typed: dict[str, str] | None = None, editing: int | None = None) -> Response:
    site, user = _site(request), request.state.user
    shown = await site.services.run(lambda s: reply_templates.visible(s, user.actor))
    asked = request.query_params.get("edit", "")
    if editing is None and asked.isascii() and asked.isdigit() and len(asked) < 10:
        editing = int(asked)
    admin = user.role is Role.ADMIN
    return site.render(request, "reply_templates.html", {
        "templates": shown, "base": _base(request), "editing": editing, "error": error, "typed": typed or {},
        "done": TEMPLATES_DONE_ZH.get(request.query_params.get("done", "")), "section": "templates",
        "heading": TEMPLATES_HEADING_ZH["city" if admin else "unit"], "city_heading": TEMPLATES_HEADING_ZH["city"],
        "admin": admin, "max_title": reply_templates.MAX_TITLE_CHARS, "max_text": reply_templates.MAX_TEXT_CHARS,
        "max_templates": reply_templates.MAX_TEMPLATES,
        "delete_confirm": ADMIN_CONFIRM_ZH["delete_template"],
        "placeholders": (TEMPLATE_NUMBER_ZH, TEMPLATE_DATE_ZH)}, status)


async def add_template(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    typed = _typed(form)
    try:
        await site.services.run(lambda s: reply_templates.create(s, user.actor, typed))
    except DispatchError as exc:
        return await templates_page(request, error=describe(exc), status=status_of(exc), typed=typed)
    return RedirectResponse(f"{_base(request)}?done=added", status_code=303)


async def save_template(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    template_id, typed = int(request.path_params["template_id"]), _typed(form)
    try:
        await site.services.run(lambda s: reply_templates.update(s, user.actor, template_id, typed))
    except DispatchError as exc:
        return await templates_page(request, error=describe(exc), status=status_of(exc), typed=typed, editing=template_id)
    return RedirectResponse(f"{_base(request)}?done=saved#template-{template_id}", status_code=303)


async def delete_template(request: Request) -> Response:
    site, user = _site(request), request.state.user
    template_id = int(request.path_params["template_id"])
    try:
        await site.services.run(lambda s: reply_templates.delete(s, user.actor, template_id))
    except DispatchError as exc:
        return await templates_page(request, error=describe(exc), status=status_of(exc))
    return RedirectResponse(f"{_base(request)}?done=deleted", status_code=303)


def _routes(base: str, roles: frozenset[Role]) -> list[Route]:
    return [Route(base, staff_only(templates_page, roles), methods=["GET"]),
            Route(base, staff_only(add_template, roles), methods=["POST"]),
            Route(f"{base}/{{template_id:id}}", staff_only(save_template, roles), methods=["POST"]),
            Route(f"{base}/{{template_id:id}}/delete", staff_only(delete_template, roles), methods=["POST"])]


routes = [*_routes("/unit/templates", UNIT_ROLES), *_routes("/admin/templates", ADMIN_ROLES)]
