"""The knowledge base pages: the public search (/kb) and article (/kb/ID) with the
deflection button, the web form's suggestions (/kb/suggest), the staff list and editor
(/staff/kb), the operator console's suggestions (/operator/kb) and the editors' figures
(/supervisor/kb). dispatch.kb decides who may write and publish."""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dispatch import kb, kb_use, limits, queries
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES
from dispatch.clock import local_date, utcnow
from dispatch.errors import DispatchError, InvalidInput, NotFound, RateLimited, Reason
from dispatch.models import KbArticle, Unit
from dispatch.numbers import whole_number
from dispatch.reports import Period
from dispatch.vocabulary import Role
from web.auth import checked_form, client_key, staff_only
from web.errors import status_of
from web.messages import describe
from web.pages.labels import KB_DONE_ZH, KB_STATES_ZH, WHOLE_CATEGORY
from web.pages.site import Site

STAFF_ROLES = frozenset(Role)
MAX_QUERY_CHARS = 200


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in an article is shown as text, never run; links keep markdown-it's
    # own check (no javascript: or data: URLs).
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def category_choices(site: Site) -> list[tuple[str, list[tuple[str, str]]]]:
    """The article form's categories from the dispatch catalogue the router holds: each level 1
    (the whole class) and its entries by code, grouped by level 1."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in site.services.router.catalogue.items if site.services.router.catalogue else ():
        groups.setdefault(item.level1, [(item.level1, WHOLE_CATEGORY.format(level1=item.level1))]).append(
            (item.code, f"{item.level2} / {item.level3}"))
    if not groups:  # no catalogue: the city file's level-1 categories
        return [("", [(c, c) for c in sorted(site.services.city.categories)])]
    return list(groups.items())


def render_markdown(text: str) -> Markup:
    return Markup(_markdown().render(text))


def _query(request: Request) -> str:
    return (request.query_params.get("q") or "").strip()[:MAX_QUERY_CHARS]


def _search(request: Request, query: str, *, include_internal: bool, source: str | None, limit: int = 10):  # type: ignore[no-untyped-def]
    services = _site(request).services
    return services.run(lambda s: kb_use.search(s, services.kb_index, query, include_internal=include_internal,
                                                limit=limit, min_coverage=services.settings.kb_min_match,
                                                source=source))


# -- public ---------------------------------------------------------------------------------

async def public_search(request: Request) -> Response:
    site, query = _site(request), _query(request)
    result = None
    if query:
        services, client = site.services, client_key(request)

        def work(session: Session):  # type: ignore[no-untyped-def]
            # Answered always; recorded for the gap list up to the address's share.
            recorded = limits.kb_search_recorded(session, services.settings.limits, client)
            return kb_use.search(session, services.kb_index, query, include_internal=False, limit=10,
                                 min_coverage=services.settings.kb_min_match, source="public" if recorded else None)

        result = await services.run(work)
    return site.render(request, "kb_public.html", {"q": query, "result": result})


def _public_article(session: Session, article_id: int) -> tuple[KbArticle, Any, str]:
    article = session.get(KbArticle, article_id)
    text = kb.published_text(session, article) if article else None
    if article is None or text is None or not text.public or not kb.offered(text, local_date(utcnow())):
        raise NotFound(Reason.ARTICLE_NOT_FOUND, article_id=article_id)
    unit = session.get(Unit, article.unit_id)
    return article, text, unit.name if unit else ""


async def public_article(request: Request) -> Response:
    site = _site(request)
    article_id = request.path_params["article_id"]
    article, text, unit_name = await site.services.run(lambda s: _public_article(s, article_id))
    return site.render(request, "kb_article.html", {
        "article": article, "text": text, "unit_name": unit_name, "html": render_markdown(text.body),
        "q": _query(request), "from_form": request.query_params.get("from") == "form",
        "deflected": request.query_params.get("done") == "deflected"})


async def deflection(request: Request) -> Response:
    """这解决了我的问题: counted once per click, rate-limited per address like the form."""
    site = _site(request)
    form = await checked_form(request)
    article_id = request.path_params["article_id"]
    client, rules = client_key(request), site.services.settings.limits
    query = str(form.get("q") or "")[:MAX_QUERY_CHARS]

    def work(session: Session) -> None:
        # Counted in the database, so the limit holds across processes.
        limits.count_deflection(session, rules, client)
        kb_use.record_deflection(session, article_id, query)

    try:
        await site.services.run(work)
    except RateLimited as exc:
        raise HTTPException(429, describe(exc)) from None
    return RedirectResponse(f"/kb/{article_id}?done=deflected", status_code=303)


async def suggest(request: Request) -> Response:
    """The web form's suggestions while the citizen types: public articles, not counted
    (a search per pause in typing would swamp the gaps list)."""
    query = _query(request)
    if len(query) < 2:
        return JSONResponse({"results": []})
    result = await _search(request, query, include_internal=False, source=None, limit=3)
    return JSONResponse({"results": [{"id": h.article_id, "title": h.title, "snippet": h.snippet}
                                     for h in result.hits if h.coverage >= result.min_coverage / 2]})


# -- staff ----------------------------------------------------------------------------------

def _unit_choices(session: Session) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in queries.active_units(session)]


async def staff_list(request: Request, *, error: str | None = None, values: dict[str, Any] | None = None,
                     status: int = 200) -> Response:
    site, user = _site(request), request.state.user
    actor, query = user.actor, _query(request)

    def read(session: Session) -> dict[str, Any]:
        articles = list(session.scalars(kb.visible_articles(actor).limit(500)))
        names = dict(session.execute(select(Unit.id, Unit.name)).all())
        found = kb_use.search(session, site.services.kb_index, query, include_internal=True, limit=10,
                              min_coverage=site.services.settings.kb_min_match) if query else None
        stale = kb.stale(session, local_date(utcnow()),
                         unit_id=actor.unit_id if actor.role is Role.UNIT_STAFF else None)
        return {"articles": articles, "unit_names": names, "found": found, "stale": stale,
                "units": _unit_choices(session)}

    context = await site.services.run(read)
    context.update(q=query, error=error, values=values or {"public": True}, states=KB_STATES_ZH,
                   categories=category_choices(site), may_write=_may_write(user.role),
                   done=KB_DONE_ZH.get(request.query_params.get("done", "")), today=local_date(utcnow()))
    return site.render(request, "kb_staff.html", context, status)


def _may_write(role: Role) -> bool:
    return role in (Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN)


def _form_values(form: Any) -> dict[str, Any]:
    values = {k: str(form.get(k) or "") for k in ("title", "body", "keywords", "category", "valid_from",
                                                  "valid_until", "review_by", "unit_id")}
    values["public"] = form.get("public") == "on"
    return values


async def create(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = _form_values(form)

    def work(session: Session) -> int:
        unit_id = user.unit_id if user.role is Role.UNIT_STAFF else whole_number(values["unit_id"]) or 0
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise InvalidInput("unit", Reason.UNIT_REQUIRED, what="unit")
        return kb.create(session, unit, kb.parse_text(values), user.actor).id

    try:
        article_id = await site.services.run(work)
    except DispatchError as exc:
        return await staff_list(request, error=describe(exc), values=values, status=status_of(exc))
    return RedirectResponse(f"/staff/kb/{article_id}?done=created", status_code=303)


async def staff_article(request: Request, *, error: str | None = None, values: dict[str, Any] | None = None,
                        status: int = 200) -> Response:
    site, user = _site(request), request.state.user
    article_id = request.path_params["article_id"]

    def read(session: Session) -> dict[str, Any]:
        article = kb.get_article(session, article_id)
        if not kb.may_edit(user.actor, article) and article.state != "published":
            raise NotFound(Reason.ARTICLE_NOT_FOUND, article_id=article_id)
        unit = session.get(Unit, article.unit_id)
        return {"article": article, "versions": kb.versions(session, article), "unit_name": unit.name if unit else "",
                "published": kb.published_text(session, article)}

    context = await site.services.run(read)
    article = context["article"]
    shown = context["published"] or article
    may_edit = kb.may_edit(user.actor, article)
    if not may_edit:   # others read what is published, not the next version while it is written
        context["versions"] = [v for v in context["versions"] if v.version <= shown.version]
    context.update(
        shown=shown, about=article if may_edit else shown, html=render_markdown(shown.body), error=error,
        draft_html=render_markdown(article.body) if may_edit else "",
        may_edit=may_edit, may_publish=user.role in SUPERVISING_ROLES,
        values=values or {"title": article.title, "body": article.body, "keywords": article.keywords,
                          "category": article.category or "", "public": article.public,
                          "valid_from": article.valid_from or "", "valid_until": article.valid_until or "",
                          "review_by": article.review_by or ""},
        states=KB_STATES_ZH, categories=category_choices(site), today=local_date(utcnow()),
        done=KB_DONE_ZH.get(request.query_params.get("done", "")))
    return site.render(request, "kb_edit.html", context, status)


def _expected(form: Any) -> int | None:
    raw = str(form.get("expected_version") or "")
    return whole_number(raw)


async def edit(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    article_id, values = request.path_params["article_id"], _form_values(form)

    def work(session: Session) -> None:
        kb.edit(session, kb.get_article(session, article_id), kb.parse_text(values), user.actor,
                expected_version=_expected(form))

    try:
        await site.services.run(work)
    except DispatchError as exc:
        return await staff_article(request, error=describe(exc), values=values, status=status_of(exc))
    return RedirectResponse(f"/staff/kb/{article_id}?done=saved", status_code=303)


async def change_state(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    article_id, step = request.path_params["article_id"], request.path_params["step"]
    if step not in ("publish", "retire"):
        raise HTTPException(404)

    def work(session: Session) -> None:
        article = kb.get_article(session, article_id)
        if step == "publish":
            kb.publish(session, article, user.actor, expected_version=_expected(form))
        else:
            kb.retire(session, article, user.actor)

    try:
        await site.services.run(work)
    except DispatchError as exc:
        return await staff_article(request, error=describe(exc), status=status_of(exc))
    return RedirectResponse(f"/staff/kb/{article_id}?done={'published' if step == 'publish' else 'retired'}",
                            status_code=303)


# -- the operator console -------------------------------------------------------------------

async def console_suggestions(request: Request) -> Response:
    """While the operator types: the best articles (internal ones too). Not counted: the
    filed ticket is. (The classifier's proposal for the form comes from /operator/draft,
    which reads the whole request as intake does, not these first words of it.)"""
    query = _query(request)
    if len(query) < 2:
        return JSONResponse({"articles": []})
    result = await _search(request, query, include_internal=True, source=None, limit=5)
    return JSONResponse({
        "articles": [{"id": h.article_id, "title": h.title, "version": h.version, "score": h.score,
                      "snippet_html": h.snippet_html, "public": h.public} for h in result.hits]})


# -- the editors' figures -------------------------------------------------------------------

async def figures_page(request: Request) -> Response:
    site = _site(request)
    today = local_date(utcnow())
    try:
        days = max(1, min(int(request.query_params.get("days") or 30), 366))
    except ValueError:
        days = 30
    period = Period(since=today - dt.timedelta(days=days - 1), until=today)

    def read(session: Session) -> dict[str, Any]:
        figures = kb_use.figures(session, period, today=today)
        names = dict(session.execute(select(Unit.id, Unit.name)).all())
        waiting = list(session.scalars(select(KbArticle).where(
            (KbArticle.state == "draft") | ((KbArticle.state == "published")
                                            & (KbArticle.version != KbArticle.published_version)))
            .order_by(KbArticle.changed_at)))
        return {"figures": figures, "unit_names": names, "waiting": waiting}

    context = await site.services.run(read)
    context.update(period=period, days=days, states=KB_STATES_ZH)
    return site.render(request, "supervisor_kb.html", context)


routes = [
    Route("/kb", public_search, methods=["GET"]),
    Route("/kb/suggest", suggest, methods=["GET"]),
    Route("/kb/{article_id:id}", public_article, methods=["GET"]),
    Route("/kb/{article_id:id}/deflection", deflection, methods=["POST"]),
    Route("/staff/kb", staff_only(staff_list, STAFF_ROLES), methods=["GET"]),
    Route("/staff/kb", staff_only(create, frozenset({Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN})), methods=["POST"]),
    Route("/staff/kb/{article_id:id}", staff_only(staff_article, STAFF_ROLES), methods=["GET"]),
    Route("/staff/kb/{article_id:id}", staff_only(edit, frozenset({Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN})),
          methods=["POST"]),
    Route("/staff/kb/{article_id:id}/{step:str}", staff_only(change_state, SUPERVISING_ROLES), methods=["POST"]),
    Route("/operator/kb", staff_only(console_suggestions, DISPATCH_ROLES), methods=["GET"]),
    Route("/supervisor/kb", staff_only(figures_page, SUPERVISING_ROLES), methods=["GET"]),
]
