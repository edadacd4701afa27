"""A citizen's picture message (MMS): the hotline answers the webhook at once, then fetches
each photo from the Twilio stand-in (real HTTP, Basic auth) and adds it to the ticket the
text created or joined, through the same checks as the web form's photos."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens, media_fetches, staff
from dispatch.actors import Actor
from dispatch.errors import NotFound, PermissionDenied
from dispatch.vocabulary import Role
from tests.web.pages_support import csrf, login, version_in
from dispatch.models import Attachment, MediaFetch, TicketEvent, Unit
from dispatch.outbox import RetryPolicy
from dispatch.units import City
from tests.images import GPS_LATITUDE, OWNER, PNG, jpeg_with_metadata
from tests.sms_gateway.conftest import ACCOUNT_SID, CITIZEN, HOTLINE_NUMBER, Hotline, eventually, new_sid, ticket_of
from web.media_fetcher import MediaFetcher, Refused, TwilioMedia

COMPLAINT = "济水大街路灯坏了一周，晚上很黑，请尽快修理。"
PASSWORD = "Mms-photos-2026!"


@pytest.fixture
def quick(hotline: Hotline) -> Hotline:
    """Retries due at once and a fetcher that looks often, so a test waits milliseconds."""
    media = hotline.channel.media
    assert media is not None
    media.policy = RetryPolicy(max_attempts=3, base_delay=dt.timedelta(milliseconds=10),
                               max_delay=dt.timedelta(milliseconds=10), lease=dt.timedelta(seconds=30))
    media._poll = 0.05
    return hotline


def mms(hotline: Hotline, body: str, urls: list[str], kinds: list[str] | None = None, *,
        sid: str | None = None) -> str:
    form = {"MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": HOTLINE_NUMBER,
            "Body": body, "NumMedia": str(len(urls)), "NumSegments": "1"}
    for i, url in enumerate(urls):
        form[f"MediaUrl{i}"] = url
        form[f"MediaContentType{i}"] = (kinds or ["image/jpeg"] * len(urls))[i]
    response = hotline.post("/sms/twilio", form)
    assert response.status_code == 200
    return response.text


def photos(session: Session, ticket_id: int) -> list[Attachment]:
    session.expire_all()
    found = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)))
    for photo in found:
        _ = photo.content
    session.commit()
    return found


def fetches(session: Session) -> list[MediaFetch]:
    session.expire_all()
    rows = list(session.scalars(select(MediaFetch).order_by(MediaFetch.id)))
    session.commit()
    return rows


def test_a_picture_message_s_photo_is_fetched_with_the_account_s_credentials_and_attached(
        quick: Hotline, session: Session) -> None:
    url = quick.sim.add_media(jpeg_with_metadata(), "image/jpeg")
    assert "已受理" in mms(quick, COMPLAINT, [url])
    ticket = ticket_of(session)
    [photo] = eventually(lambda: photos(session, ticket.id))
    assert photo.media_type == "image/jpeg" and photo.added_by == "citizen:sms"
    assert OWNER not in photo.content and GPS_LATITUDE not in photo.content   # the metadata cut out
    assert [r["authorised"] for r in quick.sim.media_requests] == ["True"]
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                      TicketEvent.action == "attach")).one()
    assert event.actor == "citizen:sms" and event.data["attachments"] == [photo.id]
    [row] = fetches(session)
    assert (row.status, row.attachment_id, row.declared_type) == ("attached", photo.id, "image/jpeg")
    # The link stays in the ticket's text, as before.
    assert url in ticket.body


def test_a_photo_whose_download_fails_is_fetched_again_later_not_lost(quick: Hotline, session: Session) -> None:
    quick.sim.fail_media_next(503, times=2)
    url = quick.sim.add_media(PNG, "image/png")
    mms(quick, COMPLAINT, [url])
    ticket = ticket_of(session)
    [photo] = eventually(lambda: photos(session, ticket.id))
    assert photo.media_type == "image/png"
    [row] = fetches(session)
    assert row.status == "attached" and row.attempts == 3


def test_a_photo_without_words_joins_the_open_ticket_with_its_photo(quick: Hotline, session: Session) -> None:
    mms(quick, COMPLAINT, [quick.sim.add_media(PNG, "image/png")])
    ticket = ticket_of(session)
    eventually(lambda: photos(session, ticket.id))
    assert "已将您的补充内容加入工单" in mms(quick, "", [quick.sim.add_media(jpeg_with_metadata())])
    assert ticket_of(session).id == ticket.id
    assert len(eventually(lambda: len(photos(session, ticket.id)) == 2 and photos(session, ticket.id))) == 2


def test_what_is_not_an_image_is_refused_for_good_with_the_reason_kept(quick: Hotline, session: Session) -> None:
    url = quick.sim.add_media(b"%PDF-1.4 not a photo", "image/jpeg")   # the declared type is not believed
    mms(quick, COMPLAINT, [url])
    ticket = ticket_of(session)
    row = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])[0]
    assert "不是图片" in row.last_error and row.attempts == 1
    assert photos(session, ticket.id) == []
    number = ticket.number
    session.commit()   # the reads above end their transaction: SQLite's would hold the write lock
    # Staff are told on the ticket's page; the link is still in the ticket's text.
    with quick.app.state.services.sessions.begin() as writing:
        staff.create_user(writing, "op-mms", PASSWORD, Role.OPERATOR)
    login(quick.client, "op-mms", PASSWORD)  # type: ignore[arg-type]
    page = quick.client.get(f"/tickets/{number}").text
    assert "市民彩信中的 1 张图片未能取回" in page and url in page


def test_a_photo_over_the_size_limit_is_refused(quick: Hotline, session: Session) -> None:
    media = quick.channel.media
    media.limits = type(media.limits)(max_bytes=len(PNG) - 1, per_ticket=9)
    mms(quick, COMPLAINT, [quick.sim.add_media(PNG, "image/png")])
    ticket = ticket_of(session)
    row = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])[0]
    assert "太大" in row.last_error
    assert photos(session, ticket.id) == []


def test_a_stream_of_unknown_size_is_read_no_further_than_the_limit(quick: Hotline, session: Session) -> None:
    media = quick.channel.media
    media.limits = type(media.limits)(max_bytes=4096, per_ticket=9)
    url = quick.sim.add_media(PNG + b"\0" * 100_000, "image/png")
    quick.sim.media_chunked.add(url.rsplit("/", 1)[1])
    mms(quick, COMPLAINT, [url])
    row = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])[0]
    assert "太大" in row.last_error and "0.1 MB" not in row.last_error   # stopped at 4 KB and a chunk


def test_a_redirect_to_another_media_link_of_the_account_is_followed(quick: Hotline, session: Session) -> None:
    first, second = quick.sim.add_media(b"moved"), quick.sim.add_media(PNG, "image/png")
    quick.sim.media_redirects[first.rsplit("/", 1)[1]] = second
    mms(quick, COMPLAINT, [first])
    ticket = ticket_of(session)
    [photo] = eventually(lambda: photos(session, ticket.id))
    assert photo.media_type == "image/png"
    assert [r["authorised"] for r in quick.sim.media_requests] == ["True", "True"]


def test_links_off_twilio_s_media_host_or_this_account_are_never_fetched(quick: Hotline, session: Session) -> None:
    own = quick.sim.add_media(PNG, "image/png")
    other_account = own.replace(ACCOUNT_SID, "AC" + "6" * 32)
    mms(quick, COMPLAINT, [other_account, "http://169.254.169.254/latest/meta-data/", quick.url + "/healthz"])
    rows = eventually(lambda: [r for r in fetches(session) if r.status == "failed"] == fetches(session)
                      and len(fetches(session)) == 3 and fetches(session))
    assert all("not a media link" in r.last_error for r in rows)
    assert quick.sim.media_requests == []   # not even asked


def test_a_redirect_off_the_provider_to_a_private_address_is_refused(quick: Hotline, session: Session) -> None:
    url = quick.sim.add_media(PNG, "image/png")
    quick.sim.media_redirects[url.rsplit("/", 1)[1]] = "https://127.0.0.1:1/secret.png"
    mms(quick, COMPLAINT, [url])
    row = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])[0]
    assert "not a public address" in row.last_error


def test_twilio_retrying_the_webhook_fetches_each_photo_once(quick: Hotline, session: Session) -> None:
    url = quick.sim.add_media(PNG, "image/png")
    sid = new_sid()
    first = mms(quick, COMPLAINT, [url], sid=sid)
    assert mms(quick, COMPLAINT, [url], sid=sid) == first
    ticket = ticket_of(session)
    eventually(lambda: photos(session, ticket.id))
    assert len(fetches(session)) == 1 and len(photos(session, ticket.id)) == 1


def test_the_stand_in_s_inbound_form_sends_a_photo_through_to_the_ticket(quick: Hotline, session: Session) -> None:
    import httpx
    with httpx.Client(base_url=quick.sim.url or "", timeout=10) as client:
        answer = client.post("/sim/inbound", data={"From": CITIZEN, "Body": COMPLAINT},
                             files={"Media": ("p.png", PNG, "image/png")})
    assert "已受理" in answer.text
    ticket = ticket_of(session)
    assert len(eventually(lambda: photos(session, ticket.id))) == 1


def test_only_twilio_s_host_and_the_configured_stand_in_own_media_links() -> None:
    media = TwilioMedia(ACCOUNT_SID, "token", "http://127.0.0.1:24555")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    assert media.owns("https://api.twilio.com" + path)
    assert media.owns("http://127.0.0.1:24555" + path)
    assert not media.owns("http://api.twilio.com" + path)            # not https
    assert not media.owns("https://api.twilio.com.evil.example" + path)
    assert not media.owns("https://user:pw@api.twilio.com" + path)
    assert not media.owns("http://127.0.0.1:24556" + path)            # another port
    assert not media.owns("https://api.twilio.com/2010-04-01/Accounts/ACx/Messages/MM1/Media/ME1")
    assert not media.owns(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/../../x/Media/y")
    with pytest.raises(Refused):
        MediaFetcher(None, media, media_fetches.attachments.AttachmentLimits()).download(  # type: ignore[arg-type]
            "https://example.com" + path)


def test_a_photo_given_up_is_fetched_again_when_the_centre_asks_and_the_api_shows_how_it_stands(
        quick: Hotline, session: Session) -> None:
    quick.sim.fail_media_next(503, times=3)   # the provider down for the whole round
    url = quick.sim.add_media(PNG, "image/png")
    mms(quick, COMPLAINT, [url])
    ticket = ticket_of(session)
    [row] = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])
    assert row.attempts == 3 and photos(session, ticket.id) == []
    number, fetch_id = ticket.number, row.id
    session.commit()   # the reads above end their transaction: SQLite's would hold the write lock
    services = quick.app.state.services
    with services.sessions.begin() as writing:
        operator = staff.create_user(writing, "op-refetch", PASSWORD, Role.OPERATOR)
        token = api_tokens.create(writing, operator, "test", lifetime=dt.timedelta(hours=1))[1]
    # The staff API says how the photo stands, without its link (the account's media address).
    api = {"Authorization": f"Bearer {token}"}
    [shown] = quick.client.get(f"/api/v1/staff/tickets/{number}", headers=api).json()["media_fetches"]
    assert (shown["id"], shown["status"], shown["attempts"], shown["last_error"]) == (fetch_id, "failed", 3, "HTTP 503")
    assert shown["position"] == 0 and "url" not in shown and ACCOUNT_SID not in str(shown)
    # The operator asks for it again on the ticket page (重新获取); the provider is back.
    login(quick.client, "op-refetch", PASSWORD)  # type: ignore[arg-type]
    page = quick.client.get(f"/tickets/{number}").text
    assert "第 1 张：HTTP 503（已尝试 3 次）" in page and f'id="refetch-{fetch_id}"' in page
    again = quick.client.post(f"/tickets/{number}/refetch_media", data={
        "csrf_token": csrf(quick.client, f"/tickets/{number}"), "expected_version": str(version_in(page)),
        "fetch_id": str(fetch_id)}, follow_redirects=False)  # type: ignore[arg-type]
    assert again.status_code == 303 and "done=refetch_media" in again.headers["location"]
    [photo] = eventually(lambda: photos(session, ticket.id))
    assert photo.added_by == "citizen:sms"
    [done] = fetches(session)
    assert (done.status, done.attempts, done.attachment_id) == ("attached", 1, photo.id)
    # Who asked, and how the round before had ended, in the ticket's log.
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                      TicketEvent.action == "refetch_media")).one()
    assert event.actor == "op-refetch" and event.data == {"fetch": fetch_id, "position": 0, "attempts": 3,
                                                          "last_error": "HTTP 503"}
    session.commit()
    assert quick.client.get(f"/api/v1/staff/tickets/{number}", headers=api).json()["media_fetches"] == []
    # Once attached there is nothing to fetch again: refused, as a form of an old page is.
    refused = quick.client.post(f"/tickets/{number}/refetch_media", data={
        "csrf_token": csrf(quick.client, f"/tickets/{number}"), "expected_version": "1",
        "fetch_id": str(fetch_id)}, follow_redirects=True)  # type: ignore[arg-type]
    assert "这张彩信图片正在获取或已经取回，无需重新获取。" in refused.text


def test_only_the_centre_fetches_a_photo_again_and_links_in_errors_keep_only_their_host(
        quick: Hotline, session: Session) -> None:
    mms(quick, COMPLAINT, ["https://example.com/2010-04-01/x.png"])   # not the account's link: refused
    ticket = ticket_of(session)
    [row] = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])
    error = row.last_error
    assert "example.com/2010" in error
    number, fetch_id = ticket.number, row.id
    session.commit()
    assert media_fetches.shown_error(error) == "not a media link of this Twilio account: https://example.com/…"
    assert media_fetches.shown_error("at https://AC1:secret@api.twilio.com/x?Signature=s") == "at https://api.twilio.com/…"
    with quick.app.state.services.sessions.begin() as writing:
        with pytest.raises(PermissionDenied):
            media_fetches.fetch_again(writing, Actor(label="unit-1", role=Role.UNIT_STAFF, unit_id=1),
                                      number, fetch_id)
        with pytest.raises(NotFound):
            media_fetches.fetch_again(writing, Actor(label="op", role=Role.OPERATOR), number, fetch_id + 99)


def test_the_staff_api_fetches_a_given_up_photo_again_for_the_centre_and_refuses_units(
        quick: Hotline, session: Session, units: City) -> None:
    """重新获取 from a script: the same rules as the ticket page's button, the answers in
    Chinese with their codes."""
    quick.sim.fail_media_next(503, times=3)
    url = quick.sim.add_media(PNG, "image/png")
    mms(quick, COMPLAINT, [url])
    ticket = ticket_of(session)
    [row] = eventually(lambda: [r for r in fetches(session) if r.status == "failed"])
    number, fetch_id = ticket.number, row.id
    session.commit()
    with quick.app.state.services.sessions.begin() as writing:
        unit_code = writing.scalars(select(Unit.code).order_by(Unit.id)).first()
        operator = staff.create_user(writing, "op-api-refetch", PASSWORD, Role.OPERATOR)
        unit = staff.create_user(writing, "unit-api-refetch", PASSWORD, Role.UNIT_STAFF, unit_code=unit_code)
        tokens = {user.username: api_tokens.create(writing, user, "test", lifetime=dt.timedelta(hours=1))[1]
                  for user in (operator, unit)}
    api = {"Authorization": f"Bearer {tokens['op-api-refetch']}"}
    address = f"/api/v1/staff/tickets/{number}/refetch_media"

    # A unit may never: 403 before its body is read. No token: 401.
    by_unit = quick.client.post(address, json={"fetch_id": fetch_id},
                                headers={"Authorization": f"Bearer {tokens['unit-api-refetch']}"})
    assert by_unit.status_code == 403 and by_unit.json()["error"] == "permission_denied"
    assert quick.client.post(address, json={"fetch_id": fetch_id}).status_code == 401
    missing = quick.client.post(address, json={}, headers=api)
    assert missing.status_code == 422 and missing.json()["field"] == "fetch_id"
    wrong = quick.client.post(address, json={"fetch_id": "一"}, headers=api)
    assert wrong.status_code == 422 and wrong.json()["reason"] == "not_integer"
    unknown = quick.client.post(address, json={"fetch_id": fetch_id + 99}, headers=api)
    assert unknown.status_code == 404 and unknown.json()["message"] == "该工单没有这张彩信图片。"
    assert unknown.json()["reason"] == "media_fetch_not_found"

    again = quick.client.post(address, json={"fetch_id": fetch_id}, headers=api)
    assert again.status_code == 200, again.text
    answer = again.json()
    assert answer["number"] == number and isinstance(answer["version"], int)
    assert (answer["fetch"]["id"], answer["fetch"]["status"], answer["fetch"]["attempts"]) == (fetch_id, "pending", 0)
    assert answer["fetch"]["last_error"] == "HTTP 503"   # kept until the next attempt
    [photo] = eventually(lambda: photos(session, ticket.id))
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                      TicketEvent.action == "refetch_media")).one()
    assert event.actor == "op-api-refetch" and event.data["attempts"] == 3
    session.commit()
    twice = quick.client.post(address, json={"fetch_id": fetch_id}, headers=api)
    assert twice.status_code == 409 and twice.json()["reason"] == "media_fetch_not_given_up"
    assert twice.json()["message"] == "这张彩信图片正在获取或已经取回，无需重新获取。"
    assert photo.added_by == "citizen:sms"
