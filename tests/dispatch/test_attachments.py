"""A ticket's photos (dispatch.attachments): images known by their first bytes, their
metadata cut out, the limits, who may add and see them, and the event each addition writes."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import attachments
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.attachments import AttachmentLimits, Upload
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.image_files import NotAnImage, image_type, strip_metadata
from dispatch.models import Attachment, Ticket, TicketEvent
from dispatch.units import City
from tests import images
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

LIMITS = AttachmentLimits()


@pytest.fixture
def ticket(session: Session, units: City) -> Ticket:
    found = new_ticket(session, body="小区门口井盖破损，晚上很危险，请尽快处理。")
    session.commit()
    return found


def test_a_phone_jpeg_loses_its_gps_and_owner_but_stays_the_same_picture() -> None:
    sent = images.jpeg_with_metadata(orientation=None)
    assert images.OWNER in sent and images.GPS_LATITUDE in sent
    kind, kept = strip_metadata(sent)
    assert kind == "image/jpeg"
    assert kept == images.JPEG   # every segment of the picture itself, byte for byte
    assert 0xE1 not in images.jpeg_segments(kept) and 0xED not in images.jpeg_segments(kept)


def test_a_jpeg_keeps_its_orientation_alone_so_an_upright_photo_stays_upright() -> None:
    kind, kept = strip_metadata(images.jpeg_with_metadata(orientation=6))
    assert images.OWNER not in kept and images.GPS_LATITUDE not in kept and b"GPS" not in kept
    markers = images.jpeg_segments(kept)
    assert markers[:2] == [0xE0, 0xE1]   # JFIF first, then the orientation's own EXIF
    assert markers.count(0xE1) == 1
    assert b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06" in kept   # Orientation = 6, big-endian
    assert kept.endswith(images.JPEG[images.JPEG.index(b"\xff\xc0"):])   # the picture as it came


def test_png_text_and_exif_chunks_are_cut_and_the_rest_is_the_same_png() -> None:
    sent = images.png_with_metadata()
    assert {b"eXIf", b"tEXt", b"zTXt", b"iTXt"} <= set(images.png_chunks(sent))
    kind, kept = strip_metadata(sent)
    assert kind == "image/png" and kept == images.PNG
    assert images.png_chunks(kept) == [b"IHDR", b"IDAT", b"IDAT", b"IEND"]   # every CRC checked too


def test_webp_exif_and_xmp_chunks_are_cut_and_the_header_no_longer_announces_them() -> None:
    sent = images.webp_with_metadata()
    kind, kept = strip_metadata(sent)
    assert kind == "image/webp"
    assert images.webp_chunks(kept) == [b"VP8X", b"ICCP", b"VP8 "]   # the RIFF size adds up
    assert kept[20] & 0x0C == 0 and kept == images.WEBP
    assert images.OWNER not in kept


def test_the_kind_comes_from_the_bytes_never_from_the_name() -> None:
    assert image_type(images.PNG) == "image/png"
    assert image_type(b"%PDF-1.7 not a photo") is None
    assert image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    with pytest.raises(InvalidInput) as refused:
        attachments.prepare([Upload("井盖.jpg", b"MZ\x90\x00 an executable named like a photo")], LIMITS)
    assert refused.value.reason is Reason.NOT_AN_IMAGE and refused.value.params["name"] == "井盖.jpg"
    # A PNG named .txt is still a PNG, and is kept under the name it was given.
    [(name, kind, _, _)] = attachments.prepare([Upload("photo.txt", images.PNG)], LIMITS)
    assert (name, kind) == ("photo.txt", "image/png")


def test_an_image_cut_short_is_not_an_image() -> None:
    for whole in (images.JPEG, images.PNG, images.WEBP):
        with pytest.raises(NotAnImage):
            strip_metadata(whole[:40])


def test_names_lose_their_paths_and_control_characters() -> None:
    assert attachments.safe_name("C:\\Users\\张伟\\IMG_0001.JPG", "image/jpeg") == "IMG_0001.JPG"
    assert attachments.safe_name("../../etc/passwd\x00\n", "image/png") == "passwd"
    assert attachments.safe_name("", "image/webp") == "图片.webp"
    long = attachments.safe_name("很长" * 100 + ".jpeg", "image/jpeg")
    assert len(long) == attachments.MAX_NAME_CHARS and long.endswith(".jpeg")


def test_an_operator_adds_photos_stripped_hashed_and_written_in_the_log(session: Session, ticket: Ticket,
                                                                        operator: Actor) -> None:
    added = attachments.add(session, ticket, operator, [Upload("井盖.jpg", images.jpeg_with_metadata()),
                                                        Upload("现场.png", images.png_with_metadata())], LIMITS)
    session.commit()
    stored = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                             .order_by(Attachment.id)).all()
    assert [a.file_name for a in stored] == ["井盖.jpg", "现场.png"]
    assert [a.media_type for a in stored] == ["image/jpeg", "image/png"]
    for a in stored:
        assert images.OWNER not in a.content and a.size == len(a.content)
        assert a.sha256 == hashlib.sha256(a.content).hexdigest()
        assert a.added_by == operator.label and a.staff_id == operator.user_id
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                            .order_by(TicketEvent.id.desc())).first()
    assert event is not None and event.action == "attach"
    assert event.data == {"attachments": [a.id for a in added], "names": ["井盖.jpg", "现场.png"]}
    assert [i.file_name for i in attachments.listed(session, ticket.id)] == ["井盖.jpg", "现场.png"]
    assert attachments.count(session, ticket.id) == 2


def test_limits_refuse_a_photo_too_large_and_one_too_many(session: Session, ticket: Ticket, operator: Actor) -> None:
    small = AttachmentLimits(max_bytes=500, per_ticket=2)
    with pytest.raises(InvalidInput) as refused:
        attachments.add(session, ticket, operator, [Upload("大图.jpg", images.JPEG)], small)
    assert refused.value.reason is Reason.IMAGE_TOO_LARGE and refused.value.params["limit_mb"] == "0"
    session.rollback()
    attachments.add(session, ticket, operator, [Upload("a.png", images.PNG)], small)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        attachments.add(session, ticket, operator, [Upload("b.png", images.PNG), Upload("c.png", images.PNG)], small)
    assert refused.value.reason is Reason.TOO_MANY_IMAGES
    assert refused.value.params == {"limit": 2, "already": 1, "given": 2}
    session.rollback()
    assert attachments.count(session, ticket.id) == 1   # all or nothing


def test_a_unit_adds_photos_only_to_a_ticket_it_handles_and_sees_only_its_own(
        session: Session, ticket: Ticket, operator: Actor) -> None:
    t0 = ticket.received_at
    housing, transport = unit_staff(session, "housing"), unit_staff(session, "transport")
    perform(session, operator, ticket.number, "transfer", {"unit": "housing"},
            ActionContext(now=t0 + dt.timedelta(minutes=5)))
    with pytest.raises(PermissionDenied):   # not before it accepted
        attachments.add(session, ticket, housing, [Upload("a.png", images.PNG)], LIMITS)
    perform(session, housing, ticket.number, "accept", {}, ActionContext(now=t0 + dt.timedelta(hours=1)))
    [photo] = attachments.add(session, ticket, housing, [Upload("办结.png", images.PNG)], LIMITS)
    session.commit()
    assert photo.unit_id == housing.unit_id
    assert attachments.fetch(session, housing, ticket.number, photo.id).content == images.PNG
    with pytest.raises(PermissionDenied):
        attachments.add(session, ticket, transport, [Upload("a.png", images.PNG)], LIMITS)
    with pytest.raises(NotFound):
        attachments.fetch(session, transport, ticket.number, photo.id)
    other = new_ticket(session)
    with pytest.raises(NotFound):   # an id of another ticket's photo under this number
        attachments.fetch(session, operator, other.number, photo.id)


def test_a_citizen_adds_photos_with_the_request(session: Session, ticket: Ticket) -> None:
    citizen = Actor.citizen("web")
    attachments.add(session, ticket, citizen, [Upload("垃圾.webp", images.webp_with_metadata())], LIMITS)
    [info] = attachments.listed(session, ticket.id)
    assert info.by_citizen and info.unit_id is None and info.staff_id is None


def test_on_a_confidential_ticket_units_see_the_units_photos_not_the_citizens(
        session: Session, ticket: Ticket, operator: Actor) -> None:
    """保密 hides the name, phone and place from every unit on the ticket, the lead and a 协办
    unit alike: the citizen's photos (and those the centre added) with them; a duplicate
    merged in keeps its own 保密."""
    t0 = ticket.received_at
    ticket.confidential = True
    citizen = Actor.citizen("web")
    [sent] = attachments.add(session, ticket, citizen, [Upload("门口.png", images.PNG)], LIMITS)
    [passed_on] = attachments.add(session, ticket, operator, [Upload("市民微信发来.png", images.PNG)], LIMITS)
    plain = new_ticket(session, body="小区门口井盖破损，晚上很危险，请尽快处理一下。")
    [plain_photo] = attachments.add(session, plain, citizen, [Upload("井盖.png", images.PNG)], LIMITS)
    perform(session, operator, plain.number, "merge", {"into": ticket.number}, ActionContext(now=t0))
    duplicate = new_ticket(session, body="井盖破损，担心有人掉下去，请尽快处理。")
    duplicate.confidential = True
    [secret_photo] = attachments.add(session, duplicate, citizen, [Upload("家.png", images.PNG)], LIMITS)
    perform(session, operator, duplicate.number, "merge", {"into": ticket.number}, ActionContext(now=t0))
    housing, transport = unit_staff(session, "housing"), unit_staff(session, "transport")
    perform(session, operator, ticket.number, "transfer", {"unit": "housing", "co_units": ["transport"]},
            ActionContext(now=t0 + dt.timedelta(minutes=5)))
    perform(session, housing, ticket.number, "accept", {}, ActionContext(now=t0 + dt.timedelta(hours=1)))
    perform(session, transport, ticket.number, "accept", {}, ActionContext(now=t0 + dt.timedelta(hours=1)))
    [lead_photo] = attachments.add(session, ticket, housing, [Upload("办结.png", images.PNG)], LIMITS)
    [co_photo] = attachments.add(session, ticket, transport, [Upload("协办.png", images.PNG)], LIMITS)
    session.commit()

    everything = [sent.id, passed_on.id, plain_photo.id, secret_photo.id, lead_photo.id, co_photo.id]
    assert [a.id for a in attachments.shown_to(session, operator, ticket)] == everything
    for unit in (housing, transport):
        # The plain duplicate's photo stays in sight: that citizen did not ask for 保密.
        assert [a.id for a in attachments.shown_to(session, unit, ticket)] == [plain_photo.id, lead_photo.id,
                                                                               co_photo.id]
        for hidden in (sent, passed_on, secret_photo):
            with pytest.raises(NotFound):
                attachments.fetch(session, unit, ticket.number, hidden.id)
    ticket.confidential = False   # the same ticket, not confidential: the unit sees all
    assert [a.id for a in attachments.shown_to(session, housing, ticket)] == \
        [sent.id, passed_on.id, plain_photo.id, lead_photo.id, co_photo.id]


def test_a_thumbnail_is_stored_with_each_photo_and_a_picture_too_big_to_draw_is_refused(
        session: Session, ticket: Ticket, operator: Actor) -> None:
    import io

    from PIL import Image

    from dispatch import thumbnails

    [photo] = attachments.add(session, ticket, operator, [Upload("a.webp", images.WEBP)], LIMITS)
    assert photo.thumbnail is not None and Image.open(io.BytesIO(photo.thumbnail)).format == "JPEG"
    # 48 million pixels in a 47 kB PNG: decoded whole it would take ~190 MB.
    bomb = io.BytesIO()
    Image.new("L", (8000, 6000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(InvalidInput) as refused:
        attachments.add(session, ticket, operator, [Upload("大图.png", bomb.getvalue())], LIMITS)
    assert refused.value.reason is Reason.IMAGE_UNREADABLE and refused.value.params["name"] == "大图.png"
    with pytest.raises(thumbnails.NoThumbnail):
        thumbnails.make(images.JPEG[:200] + b"\xff\xd9")   # cut inside its tables
