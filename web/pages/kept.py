"""A staff form posted after its session ended: nothing typed is lost.

The login page says what happened; the typed fields are kept in the database
(dispatch/kept_forms.py) under a token the login form carries, and after login the page
of the form comes back with them filled in (web/static/kept.js; without script they are
listed on the page). Only forms posted from this site's own pages are kept (Origin or
Referer), so another site cannot plant text in a staff member's form, and a client address
may keep only a few forms per window."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dispatch import kept_forms, limits
from web.auth import client_key
from web.inputs import refuse_unstorable
from web import upload_gate
from web.pages import labels


def _own_site(request: Request) -> bool:
    """The POST came from a page of this site (a browser says so in Origin / Referer)."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    public_url = request.app.state.services.settings.public_url
    hosts = {request.headers.get("host", ""), urlsplit(public_url).netloc if public_url else ""} - {""}
    origin = request.headers.get("origin")
    if origin:
        return urlsplit(origin).netloc in hosts
    referer = request.headers.get("referer")
    return bool(referer) and urlsplit(referer).netloc in hosts


MAX_FILES = 50
_ONE_OFF = frozenset({"kept", "done", "call", "ticket"})


def _page_of_form(request: Request) -> str:
    """Where the form was: the referring page of this site, else the posted path's parent
    (/tickets/N/resolve -> /tickets/N)."""
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        # Not the page's one-off notices (done=..., the last call's result): they were news then.
        query = "&".join(p for p in parts.query.split("&") if p and p.split("=")[0] not in _ONE_OFF)
        if parts.path.startswith("/") and not parts.path.startswith("//") and parts.path != "/login":
            return parts.path + (f"?{query}" if query else "")
    parent = request.url.path.rstrip("/").rsplit("/", 1)[0]
    return parent or "/staff"


async def _keep(request: Request, page: str, user_id: int | None = None) -> str | None:
    """Keep what the form holds, when it came from our own pages; its token, or None."""
    site = request.app.state.site
    client = client_key(request)
    if not _own_site(request):
        return None
    # A form with photos (办结照片) comes as multipart with its file parts, empty ones too: read
    # past them; only the words are kept, a photo is chosen again (the body limit bounds them).
    form = await request.form(max_files=MAX_FILES, max_fields=50)
    refuse_unstorable(form.multi_items())
    fields = kept_forms.keepable(form.multi_items())
    if not fields:
        return None

    def keep(session: Session) -> str | None:
        # Counted in the database, so the share holds across processes.
        if not limits.kept_form_allowed(session, site.services.settings.limits, client):
            return None
        return kept_forms.keep(session, action=request.url.path, page=page, fields=fields, user_id=user_id)

    token: str | None = await site.services.run(keep)
    return token


async def stale_form(request: Request, user_id: int) -> Response | None:
    """A logged-in staff member posted a page older than their session (they logged in again
    in another tab): back to the page, filled in, rather than a bare 403. None when the form
    is not kept (not from our pages): the caller refuses it."""
    page = _page_of_form(request)
    token = await _keep(request, page, user_id)
    return None if token is None else RedirectResponse(page_with_token(page, token), status_code=303)


async def session_expired(request: Request) -> Response:
    site = request.app.state.site
    page = _page_of_form(request)
    large = upload_gate.large(request.headers.get("content-length"))
    token = await (_keep_large(request, page) if large else _keep(request, page))
    context = {"next": page, "username": "", "error": None, "kept": token,
               "notice": labels.SESSION_EXPIRED_KEPT if token else labels.SESSION_EXPIRED}
    site.auth.forget(request)  # the login form must carry a token that works without the session
    response: Response = site.render(request, "login.html", context, 401)
    site.auth.logout(request, response)
    if large:   # its body may be left unread: not read to its end for the next request
        response.headers["Connection"] = "close"
    return response


async def _keep_large(request: Request, page: str) -> str | None:
    """A form with photos posted without a session: anyone can send one (up to ~46 MB to a
    photo form), so, as for the citizen's form (web/upload_gate.py), it is read only while the
    address has some of its share of kept forms left and is not sending another such body, and
    while the process reads fewer than a few at once; otherwise it is not kept, its body unread."""
    site = request.app.state.site
    client = client_key(request)
    if not _own_site(request):
        return None
    if not await site.services.read(lambda s: limits.kept_form_share_left(s, site.services.settings.limits, client)):
        return None
    gate: upload_gate.UploadGate = request.app.state.upload_gate
    with gate.admit(client) as refused:
        return None if refused is not None else await _keep(request, page)


def page_with_token(page: str, token: str) -> str:
    return f"{page}{'&' if '?' in page else '?'}kept={token}"
