"""A ticket's photos on the staff side: one served to staff who may see its ticket, and the
files a form sent read into uploads for dispatch.attachments (which checks and strips them).
The ticket page's forms that carry photos (上传图片, 办结答复) go through web/pages/tickets.py."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from dispatch import attachments, thumbnails
from dispatch.attachments import Upload
from dispatch.errors import NotFound, Reason
from web.auth import StaffIdentity
from web.messages import describe

log = logging.getLogger(__name__)

# Files one form may carry, for the form parser: more than any ticket holds, so the
# per-ticket limit (HOTLINE_ATTACHMENTS_PER_TICKET) refuses with its own words.
MAX_FILES_IN_FORM = 50


async def uploads_of(form: FormData, field: str = attachments.FIELD) -> list[Upload]:
    """The form's files under `field` (a file input left empty sends none worth keeping)."""
    found = []
    for value in form.getlist(field):
        if isinstance(value, UploadFile):
            data = await value.read()
            if data or value.filename:
                found.append(Upload(value.filename or "", data))
    return found


def content_disposition(name: str) -> str:
    """inline, the name as RFC 6266 / 5987 carries any characters (图片.jpg), and no other form
    of it: a quoted name would need escaping rules browsers disagree on."""
    return f"inline; filename*=UTF-8''{quote(name, safe='')}"


def asked_attachment(request: Request) -> tuple[str, int]:
    """The ticket number and photo id of a .../attachments/ID address; an id that is no
    whole number is not found, as an unknown one is."""
    number, raw = request.path_params["number"], request.path_params["attachment_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(Reason.ATTACHMENT_NOT_FOUND, number=number, attachment_id=raw)
    return number, int(raw)


# A photo's bytes never change under its id (removing one deletes it), so a browser keeps what
# it fetched for a while and then asks again with its ETag (304, no bytes): private, never in a
# shared cache, and Vary on the session and the token, so another login in the same browser
# asks the server, which checks who may see the ticket, rather than reading the cache.
MAX_AGE_SECONDS = 3600
CACHING = {"Cache-Control": f"private, max-age={MAX_AGE_SECONDS}", "Vary": "Cookie, Authorization"}


def etag(sha256: str, *, thumbnail: bool = False) -> str:
    """The bytes' SHA-256 names the photo; a thumbnail's says which way it was drawn too."""
    return f'"{sha256}-t{thumbnails.VERSION}"' if thumbnail else f'"{sha256}"'


def matches(request: Request, tag: str) -> bool:
    """If-None-Match names this ETag (weak or strong), or any (*)."""
    asked = request.headers.get("if-none-match", "")
    return any(t.strip() in (tag, f"W/{tag}", "*") for t in asked.split(",")) if asked else False


async def attachment_file(request: Request) -> Response:
    """GET /tickets/NUMBER/attachments/ID (and the staff API's same path): the photo as
    stored, to staff who may see the ticket; not found like the ticket page otherwise
    (another unit's ticket, an id of another)."""
    return await _serve(request, thumbnail=False)


async def attachment_thumbnail(request: Request) -> Response:
    """GET /tickets/NUMBER/attachments/ID/thumbnail (and the staff API's): the small JPEG the
    ticket page lists, under the same rules as the photo."""
    return await _serve(request, thumbnail=True)


async def _serve(request: Request, *, thumbnail: bool) -> Response:
    user: StaffIdentity = request.state.user
    number, attachment_id = asked_attachment(request)

    def read(session: Any) -> Response:
        found = attachments.fetch(session, user.actor, number, attachment_id)   # who may see it, first
        tag = etag(found.sha256, thumbnail=thumbnail)
        if matches(request, tag):   # the bytes are not read
            return Response(status_code=304, headers={"ETag": tag, **CACHING})
        if thumbnail:
            stem = found.file_name.rpartition(".")[0] or found.file_name
            small = attachments.thumbnail_of(session, found)   # drawn and stored, for a photo older than them
            return file_response(small, thumbnails.MEDIA_TYPE, f"{stem}.jpg", tag=tag)
        return file_response(found.content, found.media_type, found.file_name, tag=tag)

    try:
        return await request.app.state.services.read(read)  # type: ignore[no-any-return]
    except NotFound as exc:
        if exc.reason is not Reason.THUMBNAIL_UNREADABLE:
            raise
        # A photo stored before thumbnails were, damaged since: no thumbnail, but not a server
        # error either. Said once per request; the photo itself stays there to download.
        log.warning("thumbnail cannot be drawn", extra={
            "event": "thumbnail_unreadable", "ticket": number, "attachment_id": attachment_id,
            "error": exc.params.get("error")})
        if request.url.path.startswith("/api/"):
            raise   # JSON with its code, as every staff API error
        # A few words rather than the site's whole error page: an <img> asked for it.
        return PlainTextResponse(describe(exc), status_code=404, headers={"Cache-Control": "private, no-store"})


def file_response(content: bytes, media_type: str, name: str, *, tag: str | None = None) -> Response:
    return Response(content, media_type=media_type, headers={
        "X-Content-Type-Options": "nosniff", "Content-Disposition": content_disposition(name),
        **({"ETag": tag, **CACHING} if tag else {"Cache-Control": "private, no-store"})})
