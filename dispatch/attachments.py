"""A ticket's attachments (附件): photos a citizen sends with the request (a broken manhole
cover, rubbish) and photos a unit adds of the result when it answers (办结照片). Kept in the
database beside the ticket, so SQLite and PostgreSQL behave alike and a backup holds them.

Only images are taken (JPEG, PNG, WebP, known by their first bytes: dispatch/image_files.py),
their metadata cut out before they are stored: a phone photo's EXIF carries the GPS position
and the camera owner's name. Each addition is an event in the ticket's log. Nothing here
commits: the caller's transaction holds the ticket and its photos together."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch import lifecycle, progress, thumbnails
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor
from dispatch.clock import api_time, utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.image_files import EXTENSIONS, NotAnImage, strip_metadata
from dispatch.models import Attachment, Ticket, TicketEvent, Unit
from dispatch.staff_view import has_left, visible_ticket
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import Role

ACTION = "attach"
REMOVAL = "detach"
FIELD = "photos"
MAX_BYTES = 5 * 1024 * 1024
PER_TICKET = 9
MAX_NAME_CHARS = 100
# A ticket merged away or closed as invalid takes no more photos: they belong on the main one.
CLOSED_TO_PHOTOS = frozenset({State.INVALID, State.MERGED})
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class AttachmentLimits:
    """HOTLINE_ATTACHMENT_MAX_BYTES and HOTLINE_ATTACHMENTS_PER_TICKET."""

    max_bytes: int = MAX_BYTES
    per_ticket: int = PER_TICKET


@dataclass(frozen=True)
class Upload:
    """A file as it came: the name its sender gave and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class AttachmentInfo:
    """What lists show of an attachment: everything but its bytes."""

    id: int
    file_name: str
    media_type: str
    size: int
    sha256: str
    added_at: dt.datetime
    added_by: str
    staff_id: int | None
    unit_id: int | None
    ticket_id: int | None = None
    # The number of the duplicate it is stored on, when it came with a ticket merged into this one.
    merged_from: str | None = None

    @property
    def by_citizen(self) -> bool:
        return self.added_by.startswith("citizen:")

    def as_dict(self, unit_codes: dict[int, str]) -> dict[str, object]:
        return {"id": self.id, "file_name": self.file_name, "media_type": self.media_type, "size": self.size,
                "sha256": self.sha256, "added_at": api_time(self.added_at), "added_by": self.added_by,
                "by_citizen": self.by_citizen,
                "unit_code": unit_codes.get(self.unit_id) if self.unit_id is not None else None,
                "merged_from": self.merged_from}


def safe_name(name: str, media_type: str) -> str:
    """The file's name as its sender gave it, without a path, control characters or quotes'
    worth of length; a name left empty becomes 图片 with the kind's extension."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _UNSAFE.sub("", base).strip().strip(".")
    if len(base) > MAX_NAME_CHARS:
        stem, dot, extension = base.rpartition(".")
        extension = extension[:10] if dot else ""
        base = (stem if dot else base)[:MAX_NAME_CHARS - len(extension) - 1] + (f".{extension}" if extension else "")
    return base or f"图片{EXTENSIONS[media_type]}"


def may_attach(session: Session, actor: Actor, ticket: Ticket) -> bool:
    """Operators, supervisors and admins on any ticket still standing; unit staff on a ticket
    their unit handles (accepted, not finished) or a part of it they accepted and still owe."""
    if State(ticket.state) in CLOSED_TO_PHOTOS:
        return False
    if actor.role in DISPATCH_ROLES:
        return True
    return progress.may_report(session, actor, ticket)


def count(session: Session, ticket_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.ticket_id == ticket_id)) or 0


def counts(session: Session, ticket_ids: Sequence[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    return dict(session.execute(select(Attachment.ticket_id, func.count()).where(Attachment.ticket_id.in_(ticket_ids))
                                .group_by(Attachment.ticket_id)).all())


def prepare(uploads: Sequence[Upload], limits: AttachmentLimits, *,
            already: int = 0) -> list[tuple[str, str, bytes, bytes]]:
    """Check each file and strip it: (name, media type, bytes, thumbnail). Refused as a whole,
    with the first file at fault named, so nothing half-saved is left to explain. A file that
    has an image's structure but cannot be drawn (damaged, or of far too many pixels) is
    refused too: staff could not look at it either."""
    uploads = [u for u in uploads if u.data or u.name]   # a file input left empty sends an empty part
    if already + len(uploads) > limits.per_ticket:
        raise InvalidInput(FIELD, Reason.TOO_MANY_IMAGES, limit=limits.per_ticket, already=already,
                           given=len(uploads))
    ready = []
    for upload in uploads:
        shown = _shown(upload.name)
        if len(upload.data) > limits.max_bytes:
            raise too_large(upload.name, len(upload.data), limits)
        try:
            kind, clean = strip_metadata(upload.data)
        except NotAnImage:
            raise InvalidInput(FIELD, Reason.NOT_AN_IMAGE, name=shown) from None
        try:
            small = thumbnails.make(clean)
        except thumbnails.NoThumbnail:
            raise InvalidInput(FIELD, Reason.IMAGE_UNREADABLE, name=shown) from None
        ready.append((safe_name(upload.name, kind), kind, clean, small))
    return ready


def too_large(name: str, size: int, limits: AttachmentLimits) -> InvalidInput:
    """The refusal of a file of `size` bytes over the limit; also for a download that
    announces its size before it is read (web/media_fetcher.py)."""
    return InvalidInput(FIELD, Reason.IMAGE_TOO_LARGE, name=_shown(name), limit_mb=_megabytes(limits.max_bytes),
                        size_mb=_megabytes(size))


def _shown(name: str) -> str:
    return safe_name(name, "image/jpeg") if name else "文件"


def add(session: Session, ticket: Ticket, actor: Actor, uploads: Sequence[Upload], limits: AttachmentLimits, *,
        now: dt.datetime | None = None, note: str | None = None) -> list[Attachment]:
    """Store the photos with the ticket and write one event naming them. Staff must be allowed
    on the ticket (may_attach); a citizen's come with the request, through intake's caller."""
    if actor.is_staff and not may_attach(session, actor, ticket):
        raise PermissionDenied(Reason.NOT_YOUR_UNIT, actor=actor.label, what="add attachments")
    if not [u for u in uploads if u.data or u.name]:
        return []
    # Checked, stripped and drawn (thumbnails take a while) before the ticket's row is locked;
    # under the lock, two uploads at once are counted one after the other.
    ready = prepare(uploads, limits, already=count(session, ticket.id))
    lifecycle.lock(ticket)
    already = count(session, ticket.id)
    if already + len(ready) > limits.per_ticket:
        raise InvalidInput(FIELD, Reason.TOO_MANY_IMAGES, limit=limits.per_ticket, already=already, given=len(ready))
    now = now or utcnow()
    added = [Attachment(ticket_id=ticket.id, added_at=now, added_by=actor.label, staff_id=actor.user_id,
                        unit_id=actor.unit_id, file_name=name, media_type=kind, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), content=data, thumbnail=small)
             for name, kind, data, small in ready]
    session.add_all(added)
    session.flush()
    lifecycle.record(session, ticket, ACTION, actor, now=now, note=note, unit_id=actor.unit_id,
                     data={"attachments": [a.id for a in added], "names": [a.file_name for a in added]})
    return added


def merged_in(session: Session, ticket_id: int) -> dict[int, str]:
    """The tickets merged into this one (合并), and those merged into them before, by id: their
    numbers. Their photos show with the main ticket's: the matter is handled there now."""
    found: dict[int, str] = {}
    frontier = [ticket_id]
    while frontier:
        rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.merged_into_id.in_(frontier))).all()
        frontier = [i for i, _ in rows if i not in found and i != ticket_id]
        found.update((i, n) for i, n in rows if i != ticket_id)
    return found


def listed(session: Session, ticket_id: int, *, unit_id: int | None = None,
           with_merged: bool = False) -> list[AttachmentInfo]:
    """The ticket's attachments, oldest first, without their bytes; `unit_id`: only that unit's;
    `with_merged`: the photos of the tickets merged into it too, each saying which it came from."""
    duplicates = merged_in(session, ticket_id) if with_merged else {}
    query = select(Attachment.id, Attachment.file_name, Attachment.media_type, Attachment.size,
                   Attachment.sha256, Attachment.added_at, Attachment.added_by,
                   Attachment.staff_id, Attachment.unit_id, Attachment.ticket_id) \
        .where(Attachment.ticket_id.in_([ticket_id, *duplicates]))
    if unit_id is not None:
        query = query.where(Attachment.unit_id == unit_id)
    return [AttachmentInfo(*row, merged_from=duplicates.get(row.ticket_id))
            for row in session.execute(query.order_by(Attachment.id))]


def shown_to(session: Session, actor: Actor, ticket: Ticket) -> list[AttachmentInfo]:
    """What the staff member sees of the ticket's photos (they may see the ticket), with those
    of the tickets merged into it: all of them, but a unit the ticket has left sees its own
    only, as it sees no names or words of the citizen any more (dispatch/staff_view.py); and on
    a confidential (保密) ticket no unit sees the photos the citizen sent, nor those the centre's
    staff added (often the citizen's, passed on): a photo shows the place, and often the
    person, that 保密 hides from units (staff_view hides the name, phone and place alike).
    The units' own photos (办结照片, a 协办 unit's) stay in sight, as their replies do."""
    if actor.role is not Role.UNIT_STAFF:
        return listed(session, ticket.id, with_merged=True)
    own_only = has_left(session, actor, ticket)
    shown = listed(session, ticket.id, unit_id=(actor.unit_id or -1) if own_only else None, with_merged=True)
    secret = _confidential(session, {ticket.id, *(a.ticket_id for a in shown if a.ticket_id is not None)})
    return [a for a in shown if a.unit_id is not None or a.ticket_id not in secret]


def withheld(session: Session, actor: Actor, ticket: Ticket, shown: Sequence[AttachmentInfo]) -> int:
    """How many of the ticket's photos 保密 keeps from this unit (`shown`: shown_to's), so its
    page can say so, as it says （保密） where the name is; none for a ticket that has left it."""
    if actor.role is not Role.UNIT_STAFF or has_left(session, actor, ticket):
        return 0
    return len(listed(session, ticket.id, with_merged=True)) - len(shown)


def _confidential(session: Session, ticket_ids: set[int]) -> set[int]:
    """Of these tickets (one and those merged into it: each keeps its own 保密), the confidential."""
    return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ticket_ids), Ticket.confidential.is_(True))))


def described(session: Session, actor: Actor, ticket: Ticket) -> list[dict[str, object]]:
    """shown_to() as the staff API gives it: each photo's metadata, the unit by its code."""
    shown = shown_to(session, actor, ticket)
    ids = {a.unit_id for a in shown if a.unit_id is not None}
    codes = dict(session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids))).all()) if ids else {}
    return [a.as_dict(codes) for a in shown]


def fetch(session: Session, actor: Actor, number: str, attachment_id: int) -> Attachment:
    """One attachment with its bytes, for staff who may see its ticket (a photo of a ticket
    merged into it too); NotFound, as for an unknown ticket, otherwise (another unit's ticket,
    an id of another ticket)."""
    ticket = visible_ticket(session, actor, number)
    found = session.get(Attachment, attachment_id)
    if found is None or found.id not in {a.id for a in shown_to(session, actor, ticket)}:
        raise NotFound(Reason.ATTACHMENT_NOT_FOUND, number=number, attachment_id=attachment_id)
    return found


def thumbnail_of(session: Session, found: Attachment) -> bytes:
    """The photo's thumbnail: the one made when it was stored, or, for a photo stored before
    thumbnails were, one drawn now and stored, so the next request reads it rather than
    drawing it again (one statement: safe in a page's autocommit read, and two requests
    drawing the same photo at once both store the same bytes). NotFound (THUMBNAIL_UNREADABLE)
    for one stored before that cannot be drawn (damaged in storage): there is no thumbnail
    to give, and the photo itself is still there to download."""
    if found.thumbnail is not None:
        return found.thumbnail
    try:
        small = thumbnails.make(found.content)
    except thumbnails.NoThumbnail as exc:
        raise NotFound(Reason.THUMBNAIL_UNREADABLE, attachment_id=found.id, name=found.file_name,
                       error=str(exc)) from None
    _store_thumbnail(session, found.id, small)
    return small


def _store_thumbnail(session: Session, attachment_id: int, small: bytes) -> None:
    session.execute(update(Attachment).where(Attachment.id == attachment_id, Attachment.thumbnail.is_(None))
                    .values(thumbnail=small).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Drawn:
    """One batch of `hotline attachments thumbnails`."""

    drawn: int        # thumbnails drawn and stored
    unreadable: int   # photos that cannot be drawn (left without one)
    last_id: int      # the next batch starts after this photo
    more: bool        # a full batch: there may be more


def count_without_thumbnail(session: Session) -> int:
    """Photos stored before thumbnails were, still without one."""
    return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.thumbnail.is_(None))) or 0


def draw_missing_thumbnails(session: Session, *, after: int = 0, batch: int = 100) -> Drawn:
    """Draw and store the thumbnails of the next `batch` photos without one, by id after
    `after`: a photo that cannot be drawn is passed over, not asked again in the same run.
    The photos' bytes are read one at a time, so a batch never holds them all at once."""
    ids = list(session.scalars(select(Attachment.id).where(Attachment.thumbnail.is_(None), Attachment.id > after)
                               .order_by(Attachment.id).limit(batch)))
    drawn = unreadable = 0
    for attachment_id in ids:
        content = session.scalar(select(Attachment.content).where(Attachment.id == attachment_id))
        if content is None:   # removed meanwhile
            continue
        try:
            small = thumbnails.make(content)
        except thumbnails.NoThumbnail:
            unreadable += 1
            continue
        _store_thumbnail(session, attachment_id, small)
        drawn += 1
    return Drawn(drawn, unreadable, ids[-1] if ids else after, len(ids) >= batch)


def may_remove(actor: Actor, ticket: Ticket, photo: AttachmentInfo | Attachment) -> bool:
    """A photo added by mistake is removed by the staff member who added it, or by a
    supervisor or admin (a citizen's too), while its ticket is still open: once answered,
    resolved or merged away, the photos are part of what was done and said."""
    if photo.ticket_id != ticket.id or State(ticket.state) in FINISHED_STATES:
        return False
    return actor.role in SUPERVISING_ROLES or (actor.user_id is not None and photo.staff_id == actor.user_id)


def remove(session: Session, actor: Actor, number: str, attachment_id: int, reason: str | None, *,
           now: dt.datetime | None = None, expected_version: int | None = None) -> TicketEvent:
    """删除图片: the photo's bytes are deleted (a wrong photo may show a face), and a `detach`
    event keeps who removed which file (its name and SHA-256) and why. NotFound as fetch()
    for a photo the actor may not see."""
    found = fetch(session, actor, number, attachment_id)
    ticket = session.get_one(Ticket, found.ticket_id)
    if ticket.number != number:   # a merged ticket's photo, seen through its main ticket
        raise Conflict(Reason.PHOTO_KEPT, number=ticket.number, name=found.file_name)
    lifecycle.check_version(ticket, expected_version)
    if not (actor.role in SUPERVISING_ROLES or (actor.user_id is not None and found.staff_id == actor.user_id)):
        raise PermissionDenied(Reason.NOT_YOUR_PHOTO, name=found.file_name)
    if not may_remove(actor, ticket, found):
        raise Conflict(Reason.PHOTO_KEPT, number=ticket.number, name=found.file_name)
    reason = lifecycle.required_text("reason", reason)
    data = {"attachment": found.id, "name": found.file_name, "sha256": found.sha256, "size": found.size,
            "added_by": found.added_by}
    session.delete(found)
    session.flush()
    return lifecycle.record(session, ticket, REMOVAL, actor, now=now or utcnow(), note=reason,
                            unit_id=actor.unit_id, data=data)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
