"""A ticket's photos on the staff side: one served to staff who may see its ticket, and the
files a form sent read into uploads for dispatch.attachments (which checks and strips them).
The ticket page's forms that carry photos (上传图片, 办结答复) go through web/pages/tickets.py."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from dispatch import attachments
from dispatch.attachments import Upload
from dispatch.errors import NotFound, Reason
from web.auth import StaffIdentity

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


async def attachment_file(request: Request) -> Response:
    """GET /tickets/NUMBER/attachments/ID (and the staff API's same path): the photo as
    stored, to staff who may see the ticket; not found like the ticket page otherwise
    (another unit's ticket, an id of another)."""
    user: StaffIdentity = request.state.user
    number, attachment_id = asked_attachment(request)

    def read(session: Any) -> tuple[bytes, str, str]:
        found = attachments.fetch(session, user.actor, number, attachment_id)
        return found.content, found.media_type, found.file_name

    return file_response(*await request.app.state.services.read(read))


def file_response(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "X-Content-Type-Options": "nosniff", "Content-Disposition": content_disposition(name),
        "Cache-Control": "private, no-store"})
