"""Texts the hotline sends on its own (notifications) cannot be pumped: only to allowed
countries, at most a few a day to one number and so many an hour in all."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle, outbox
from dispatch.actors import Actor
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.limits import Limits, SmsLimits
from dispatch.models import OutboxMessage
from dispatch.notifications import MAX_SEGMENTS, segments
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel
from tests.conftest import unit_staff


def _file(sessions: sessionmaker[Session], phone: str, body: str) -> None:
    with sessions.begin() as session:
        intake(session, IntakeRequest(channel=Channel.WEB, body=body, phone=phone), IntakeRules())


def _texts(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_no_text_is_queued_for_a_number_abroad(sessions: sessionmaker[Session],
                                               caplog: pytest.LogCaptureFixture) -> None:
    outbox.install(sessions, limits=SmsLimits())
    with caplog.at_level(logging.WARNING, logger="dispatch.outbox"):
        for n in range(5):
            _file(sessions, "+447700900123", f"第{n}件：路灯不亮。")
    assert _texts(sessions) == []
    assert [r.event for r in caplog.records].count("sms_blocked") == 5  # type: ignore[attr-defined]


def test_one_number_gets_at_most_its_daily_cap(sessions: sessionmaker[Session],
                                               caplog: pytest.LogCaptureFixture) -> None:
    outbox.install(sessions, limits=Limits.build(sms_per_recipient_per_day=3).sms)
    with caplog.at_level(logging.WARNING, logger="dispatch.outbox"):
        for n in range(8):
            _file(sessions, "13812345678", f"第{n}件：路灯不亮。")
        _file(sessions, "13900001111", "另一位市民：井盖丢了。")
    recipients = [m.recipient for m in _texts(sessions)]
    assert recipients.count("+8613812345678") == 3 and recipients.count("+8613900001111") == 1
    assert "sms_capped" in [r.event for r in caplog.records]  # type: ignore[attr-defined]


def test_all_numbers_together_get_at_most_the_hourly_cap(sessions: sessionmaker[Session]) -> None:
    outbox.install(sessions, limits=Limits.build(sms_per_hour=4).sms)
    for n in range(6):
        _file(sessions, f"139000011{n:02d}", "井盖丢了。")
    assert len(_texts(sessions)) == 4


def test_a_repeat_through_the_web_sends_the_code_to_the_phone_on_file(sessions: sessionmaker[Session]) -> None:
    outbox.install(sessions)
    _file(sessions, "13812345678", "小区门口垃圾三天没人清运。")
    _file(sessions, "138 1234 5678", "小区门口垃圾，三天没人清运！")
    received, repeat = _texts(sessions)
    assert (received.kind, repeat.kind) == ("received", "repeat_code")
    assert repeat.recipient == "+8613812345678"
    with sessions() as session:
        from dispatch.models import Ticket

        ticket = session.scalars(select(Ticket)).one()
    assert ticket.number in repeat.body and ticket.query_code in repeat.body


def test_repeats_send_the_code_once_a_day_however_many_they_are(sessions: sessionmaker[Session]) -> None:
    """Anyone who knows a phone and its words can repeat a request: the number and code go
    to that phone once a day, not once a repeat."""
    outbox.install(sessions)
    _file(sessions, "13812345678", "小区门口垃圾三天没人清运。")
    for n in range(4):
        _file(sessions, "13812345678", "小区门口垃圾三天没人清运！" + "！" * n)
    assert [m.kind for m in _texts(sessions)] == ["received", "repeat_code"]
    with sessions.begin() as session:   # the code was sent a day and an hour ago
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "repeat_code")).one()
        sent.created_at -= dt.timedelta(hours=25)
    _file(sessions, "13812345678", "小区门口垃圾三天没人清运。。")
    assert [m.kind for m in _texts(sessions)] == ["received", "repeat_code", "repeat_code"]


def test_a_reply_cut_to_fit_the_text_points_to_the_status_page_of_the_deployment(
        sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    outbox.install(sessions, status_url="https://12345.example.gov.cn/status")
    with sessions.begin() as session:
        ticket = intake(session, IntakeRequest(channel=Channel.WEB, body="烧烤摊油烟扰民。", phone="13812345678"),
                        IntakeRules()).ticket
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
        lifecycle.accept(session, ticket, unit_staff(session, "housing"))
        lifecycle.resolve(session, ticket, unit_staff(session, "housing"),
                          "经核查，" + "已责令摊主整改并安排夜间巡查，" * 12 + "咨询电话0391-6633110。")
    resolved = _texts(sessions)[-1]
    assert resolved.kind == "resolved" and segments(resolved.body) <= MAX_SEGMENTS
    assert "…（完整答复请凭查询码到 https://12345.example.gov.cn/status 查看）。请回复数字评价" in resolved.body
