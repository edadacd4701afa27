"""A citizen texting the hotline: Twilio's signed webhook in, TwiML out."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.limits import LOOKUP_FAILURES_PER_TICKET
from dispatch.models import IntakeSource, Notice, SmsInbound, Ticket, TicketEvent
from dispatch.units import City, unit_by_code
from tests.sms_gateway.conftest import ACCOUNT_SID, CITIZEN, Hotline, new_sid, ticket_of
from web.app import create_app
from web.config import Settings
from web.pages.labels import action_label

COMPLAINT = "济水大街路灯坏了一周，晚上很黑，请尽快修理。"
NUMBER = re.compile(r"工单号(\d{8}-\d{4})，查询码(\d{6})")


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_citizen_texts_a_complaint_and_is_told_number_and_query_code(hotline: Hotline, session: Session) -> None:
    response = hotline.text(COMPLAINT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    number, code = NUMBER.search(response.text).groups()
    ticket = ticket_of(session)
    assert (ticket.number, ticket.query_code, ticket.channel, ticket.body) == (number, code, "sms", COMPLAINT)
    assert "<Response><Message>【12345】您的诉求已受理" in response.text


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "signed for another url", "body changed"])
def test_a_forged_webhook_gets_403_and_nothing_is_stored(hotline: Hotline, session: Session, how: str) -> None:
    if how == "unsigned":
        response = hotline.text(COMPLAINT, sign=False)
    elif how == "wrong token":
        response = hotline.text(COMPLAINT, token="not-the-token")
    elif how == "signed for another url":
        from twilio.request_validator import RequestValidator

        form = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "Body": COMPLAINT}
        signature = RequestValidator("test-auth-token").compute_signature("https://elsewhere.example/sms/twilio", form)
        response = hotline.client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
    else:
        from twilio.request_validator import RequestValidator

        form = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "Body": "你好"}
        signature = RequestValidator("test-auth-token").compute_signature(hotline.url + "/sms/twilio", form)
        response = hotline.client.post("/sms/twilio", data=form | {"Body": COMPLAINT},
                                       headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert count(session, Ticket) == count(session, SmsInbound) == 0


def test_twilio_retrying_a_message_makes_one_ticket_and_gets_the_same_answer(hotline: Hotline, session: Session) -> None:
    sid = new_sid()
    first = hotline.text(COMPLAINT, sid=sid)
    again = hotline.text(COMPLAINT, sid=sid)
    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert count(session, Ticket) == 1 and count(session, IntakeSource) == 1 and count(session, SmsInbound) == 1


def test_status_query_answers_the_senders_own_ticket(hotline: Hotline) -> None:
    number, _code = NUMBER.search(hotline.text(COMPLAINT).text).groups()
    for query in (f"查询 {number}", f"cx{number.replace('-', '')}", "查询"):
        answer = hotline.text(query).text
        assert f"工单{number}：已受理" in answer, query


def test_status_query_never_shows_another_citizens_ticket_without_its_code(hotline: Hotline) -> None:
    number, code = NUMBER.search(hotline.text(COMPLAINT).text).groups()
    stranger = "+8613900001111"
    unknown = hotline.text("查询 20000101-0001", sender=stranger).text
    not_theirs = hotline.text(f"查询 {number}", sender=stranger).text
    wrong_code = hotline.text(f"查询 {number} {'000000' if code != '000000' else '111111'}", sender=stranger).text
    assert "未查到该工单" in not_theirs and not_theirs == unknown == wrong_code
    with_code = hotline.text(f"查询 {number} {code}", sender=stranger).text
    assert f"工单{number}：已受理" in with_code
    assert "13812345678" not in with_code


def test_wrong_codes_texted_from_many_numbers_lock_the_ticket_as_on_the_web(hotline: Hotline) -> None:
    number, code = NUMBER.search(hotline.text(COMPLAINT).text).groups()
    wrong = "000000" if code != "000000" else "111111"
    for n in range(LOOKUP_FAILURES_PER_TICKET):  # the ticket's cap of wrong codes an hour, each from a new number
        assert "未查到该工单" in hotline.text(f"查询 {number} {wrong}", sender=f"+86139000{n:05d}").text
    refused = hotline.text(f"查询 {number} {code}", sender="+8613900099999").text
    assert "查询失败次数过多" in refused and "分钟后再试" in refused and "已受理" not in refused
    assert hotline.client.get(f"/api/v1/tickets/{number}", params={"code": code}).status_code == 429
    # The citizen who filed it, texting from their own number, guesses nothing.
    assert f"工单{number}：已受理" in hotline.text(f"查询 {number}").text


def test_more_text_soon_after_is_added_to_the_open_ticket(hotline: Hotline, session: Session) -> None:
    number, _ = NUMBER.search(hotline.text(COMPLAINT).text).groups()
    added = hotline.text("补充：路灯在济水大街和学苑路交叉口。")
    assert f"已将您的补充内容加入工单{number}" in added.text
    also = hotline.text("另外旁边的井盖也松了。")
    assert f"工单{number}" in also.text
    forced = hotline.text("新诉求 小区门口垃圾三天没人清运。")
    assert "您的诉求已受理" in forced.text and number not in forced.text
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert count(session, Ticket) == 2
    sources = session.scalars(select(IntakeSource.body).where(IntakeSource.ticket_id == ticket.id)
                              .order_by(IntakeSource.id)).all()
    assert sources == [COMPLAINT, "路灯在济水大街和学苑路交叉口", "另外旁边的井盖也松了。"]
    actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                              .order_by(TicketEvent.id)).all()
    assert actions == ["receive", "addition", "addition"]


def test_a_flooding_number_is_throttled_with_the_reason_logged(hotline: Hotline, session: Session,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    limit = hotline.channel.throttle.max_messages
    caplog.set_level(logging.WARNING, logger="sms_gateway.conversation")
    answers = [hotline.text(f"查询 {i}").text for i in range(limit + 3)]
    assert all("过于频繁" not in a for a in answers[:limit])
    assert "过于频繁" in answers[limit]
    assert "<Message>" not in answers[limit + 1] and "<Message>" not in answers[limit + 2]
    throttled = [r for r in caplog.records if getattr(r, "event", None) == "sms_throttled"]
    assert len(throttled) == 3 and throttled[0].sender == CITIZEN and throttled[0].limit == limit
    # Another number is not affected.
    assert "过于频繁" not in hotline.text(COMPLAINT, sender="+8613900002222").text
    assert count(session, SmsInbound) == limit + 4


def test_a_message_that_is_not_a_twilio_form_is_refused(hotline: Hotline) -> None:
    response = hotline.post("/sms/twilio", {"AccountSid": ACCOUNT_SID, "Body": "x"})
    assert response.status_code == 400


def test_without_twilio_settings_sms_is_off_not_a_crash(database_url: str, sessions: object) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get("/").status_code == 200
        assert client.post("/sms/twilio", data={"Body": "x"}).status_code == 404
        assert client.post("/sms/twilio/status", data={"MessageSid": "SM1"}).status_code == 404


def test_a_texted_request_gets_the_same_routing_proposal_as_the_other_channels(
        hotline: Hotline, session: Session, small_model: object) -> None:
    hotline.app.state.services.router.model = small_model
    hotline.text("老板拖欠农民工工资三个月，共一万二千元，请劳动监察部门帮忙讨薪。")
    routing = ticket_of(session).routing
    assert routing is not None and routing["unit_code"] == "human-resources"
    # The model's level 1, then the dispatch catalogue's terms for the level-3 entry.
    assert routing["source"] == "catalogue" and routing["entry"]["path"].startswith("劳动和社会保障 / ")


def test_a_picture_message_keeps_its_picture_links_in_the_ticket(hotline: Hotline, session: Session) -> None:
    photo = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    form = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": "+12345550100",
            "Body": COMPLAINT, "NumMedia": "1", "MediaUrl0": photo, "MediaContentType0": "image/jpeg"}
    assert "已受理" in hotline.post("/sms/twilio", form).text
    ticket = ticket_of(session)
    assert ticket.body.splitlines() == [COMPLAINT, f"[彩信图片] {photo}"]
    # A picture with no words at all, a minute later, goes to the same open ticket.
    form = form | {"MessageSid": new_sid(), "Body": "", "MediaUrl0": photo + "2"}
    assert "已将您的补充内容加入工单" in hotline.post("/sms/twilio", form).text
    sources = session.scalars(select(IntakeSource.body).where(IntakeSource.ticket_id == ticket.id)
                              .order_by(IntakeSource.id)).all()
    assert sources[-1] == f"（彩信，无文字）\n[彩信图片] {photo}2"
    assert count(session, Ticket) == 1


def test_the_flood_limit_comes_from_the_settings(database_url: str, sessions: object) -> None:
    import dataclasses

    env = {"HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "HOTLINE_TWILIO_AUTH_TOKEN": "t",
           "HOTLINE_TWILIO_FROM": "+12345550100", "HOTLINE_PUBLIC_URL": "https://hotline.example"}
    default = Settings.from_env(env).sms
    assert default is not None and (default.throttle_max, default.throttle_window_minutes) == (10, 10.0)
    tuned = Settings.from_env(env | {"HOTLINE_SMS_THROTTLE_MAX": "3",
                                     "HOTLINE_SMS_THROTTLE_WINDOW_MINUTES": "1.5"}).sms
    assert tuned is not None and (tuned.throttle_max, tuned.throttle_window_minutes) == (3, 1.5)
    with pytest.raises(ValueError, match="HOTLINE_SMS_THROTTLE_MAX"):
        Settings.from_env(env | {"HOTLINE_SMS_THROTTLE_MAX": "many"})
    settings = Settings(database_url=database_url, sms=dataclasses.replace(tuned, api_base="http://127.0.0.1:9"))
    with TestClient(create_app(settings)) as client:
        throttle = client.app.state.sms.throttle
        assert (throttle.max_messages, throttle.window.total_seconds()) == (3, 90)


def test_an_addition_by_text_reaches_the_unit_and_the_citizen_reads_it_on_the_status_page(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    number, code = NUMBER.search(hotline.text("小区楼下烧烤店每晚很吵，油烟也大。").text).groups()
    ticket = ticket_of(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    session.commit()
    addition = "补充：烧烤店叫老王烧烤，晚上11点以后最吵，店主电话13912345678。"
    assert f"已将您的补充内容加入工单{number}" in hotline.text(addition).text

    # The unit holding the ticket is told, naming the ticket, with the citizen's words.
    session.expire_all()
    (notice,) = session.scalars(select(Notice).where(Notice.ticket_id == ticket.id)).all()
    assert notice.unit_id == unit_by_code(session, "housing").id and notice.kind == "addition"
    assert notice.text.startswith(f"工单{number}有市民补充：烧烤店叫老王烧烤，晚上11点以后最吵")
    # On the ticket's record it is the citizen's addition, not a repeat of the request.
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                            .order_by(TicketEvent.id.desc())).first()
    session.commit()
    assert (event.action, action_label(event.action)) == ("addition", "市民补充")
    assert event.note == "烧烤店叫老王烧烤，晚上11点以后最吵，店主电话13912345678"

    # The citizen sees their own addition on the status page, masked as the rest of it.
    page = hotline.client.get("/status", params={"number": number, "code": code}).text
    assert "市民补充" in page and "烧烤店叫老王烧烤，晚上11点以后最吵" in page and "重复诉求" not in page
    assert "13912345678" not in page and "139****5678" in page


def test_a_repeat_by_web_keeps_its_own_wording(hotline: Hotline, session: Session) -> None:
    from dispatch.intake import IntakeRequest, IntakeRules, intake
    from dispatch.vocabulary import Channel

    first = intake(session, IntakeRequest(channel=Channel.WEB, body=COMPLAINT, phone=CITIZEN), IntakeRules()).ticket
    again = intake(session, IntakeRequest(channel=Channel.WEB, body=COMPLAINT, phone=CITIZEN), IntakeRules())
    session.commit()
    assert again.repeat_of_open_ticket and again.ticket.id == first.id
    actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == first.id)
                              .order_by(TicketEvent.id)).all()
    session.commit()
    assert actions == ["receive", "repeat_contact"] and action_label("repeat_contact") == "重复诉求"
    assert session.scalar(select(func.count()).select_from(Notice)) == 0


def test_a_status_query_in_traditional_characters_is_answered_not_added(hotline: Hotline, session: Session) -> None:
    number, _ = NUMBER.search(hotline.text(COMPLAINT).text).groups()
    assert f"工单{number}：已受理" in hotline.text(f"查詢 {number}").text
    ticket = ticket_of(session)
    sources = session.scalar(select(func.count()).select_from(IntakeSource).where(IntakeSource.ticket_id == ticket.id))
    session.commit()
    assert sources == 1
