"""Citizens told by SMS how their case goes: outbox, worker, Twilio stand-in, status callbacks."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import lifecycle, outbox
from dispatch.models import OutboxMessage, SmsOptOut
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.sms_gateway.conftest import CITIZEN, HOTLINE_NUMBER, Hotline, eventually, outbox_rows, ticket_of
from dispatch.actors import Actor

COMPLAINT = "小区门口垃圾三天没人清运，气味很大。"


def delivered(session: Session, kind: str) -> OutboxMessage | None:
    for row in outbox_rows(session):
        if row.kind == kind and row.delivery_status == "delivered":
            return row
    return None


def transfer_and_resolve(session: Session, operator: Actor, reply: str = "已安排环卫工人清运完毕。") -> None:
    ticket = ticket_of(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), operator)
    session.commit()
    staff = unit_staff(session, "qinyuan")
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, reply)
    session.commit()


def test_citizen_is_told_of_transfer_and_resolution_and_rating_3_reopens(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    hotline.text(COMPLAINT)
    transfer_and_resolve(session, operator)
    eventually(lambda: delivered(session, "resolved"))
    texts = [m.body for m in hotline.sim.sent_to(CITIZEN)]
    assert len(texts) == 2, texts  # the SMS reply already said "received"
    assert "已转交沁园街道办事处办理" in texts[0] or "已转交" in texts[0]
    assert "已办结：已安排环卫工人清运完毕" in texts[1] and "1满意 2基本满意 3不满意" in texts[1]
    assert all(m.from_ == HOTLINE_NUMBER for m in hotline.sim.sent_to(CITIZEN))

    # One text says both: the rating was taken, and who handles the ticket again by when.
    answer = hotline.text("3")
    assert "收到您的评价（不满意）" in answer.text and "已交沁园街道重新办理，办理时限" in answer.text
    ticket = ticket_of(session)
    assert ticket.state == "reopened" and ticket.rating == "unsatisfied"
    # Every change told once, each through its own event; the reopening by the citizen's
    # own text was told in the reply to it, not in a second text.
    rows = outbox_rows(session)
    assert [r.kind for r in rows] == ["transferred", "resolved"]
    assert len({r.event_id for r in rows}) == 2 and all(r.attempts == 1 for r in rows)
    assert len(hotline.sim.sent_to(CITIZEN)) == 2


def test_a_rating_asked_for_is_taken_past_the_flood_throttle_and_nothing_else_is(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    limit = hotline.channel.throttle.max_messages
    hotline.text(COMPLAINT)
    transfer_and_resolve(session, operator)
    for n in range(limit - 1):
        hotline.text(f"查询 {n}")
    # The eleventh text in the window: a rating of the citizen's resolved ticket.
    assert "收到您的评价（不满意）" in hotline.text("3").text
    assert ticket_of(session).state == "reopened"
    # Nothing is waiting for a rating any more: more digits are throttled like any text.
    warned = hotline.text("1").text
    assert "本条短信未受理" in warned and "10分钟后再发" in warned
    assert "<Message>" not in hotline.text("2").text
    assert ticket_of(session).state == "reopened"


def test_rating_1_closes_and_a_rating_without_a_question_is_refused(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    assert "没有待评价的工单" in hotline.text("1").text
    hotline.text(COMPLAINT)
    transfer_and_resolve(session, operator)
    assert "感谢您的评价（满意）" in hotline.text("1").text
    assert ticket_of(session).state == "closed"
    assert "没有待评价的工单" in hotline.text("2").text


def test_texting_rate_alone_asks_the_rating_question_again_and_files_nothing(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    from sqlalchemy import func, select

    from dispatch.models import Ticket

    def tickets() -> int:
        count = session.scalar(select(func.count()).select_from(Ticket)) or 0
        session.commit()
        return count

    # Nothing to rate yet: how rating works, and no ticket for the word.
    told = hotline.text("评价").text
    assert "您目前没有待评价的工单" in told and "回复数字即可：1满意 2基本满意 3不满意" in told
    assert tickets() == 0
    hotline.text(COMPLAINT)
    transfer_and_resolve(session, operator)
    number = ticket_of(session).number
    # A ticket waits for its rating: its question again, in either script.
    for word in ("评价", "評價"):
        assert f"您的工单{number}已办结，请回复数字评价：1满意 2基本满意 3不满意" in hotline.text(word).text
    assert tickets() == 1 and ticket_of(session).state == "resolved"
    assert "感谢您的评价（满意）" in hotline.text("评价 1").text
    assert ticket_of(session).state == "closed"


def test_a_web_ticket_with_a_mobile_number_is_told_it_was_received(hotline: Hotline, session: Session) -> None:
    created = hotline.client.post("/api/v1/tickets", json={"body": COMPLAINT, "phone": "13900003333"}).json()
    eventually(lambda: delivered(session, "received"))
    (message,) = hotline.sim.sent_to("+8613900003333")
    assert created["number"] in message.body and created["query_code"] in message.body
    # A landline cannot take a text: nothing is queued for it.
    hotline.client.post("/api/v1/tickets", json={"body": "另一件事：路灯不亮。", "phone": "0391-6612345"})
    assert [r.recipient for r in outbox_rows(session)] == ["+8613900003333"]


def test_td_opts_out_of_notifications_and_start_opts_back_in(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    hotline.text(COMPLAINT)
    opted_out = hotline.text("TD").text
    assert "您已退订" in opted_out and "回复“订阅”或START可重新订阅" in opted_out
    assert session.get(SmsOptOut, CITIZEN) is not None
    session.commit()
    ticket = ticket_of(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), operator)
    session.commit()
    eventually(lambda: any(r.status == outbox.OPTED_OUT for r in outbox_rows(session)))
    assert hotline.sim.sent_to(CITIZEN) == []

    assert "重新订阅" in hotline.text("订阅").text   # the Chinese word the opt-out named
    staff = unit_staff(session, "qinyuan")
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "已清运，经现场查看已清理干净。")
    session.commit()
    eventually(lambda: delivered(session, "resolved"))
    assert len(hotline.sim.sent_to(CITIZEN)) == 1


def test_an_undelivered_message_shows_to_staff_with_twilios_error_code(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    hotline.sim.undeliverable.add(CITIZEN)
    hotline.text(COMPLAINT)
    lifecycle.transfer(session, ticket_of(session), unit_by_code(session, "qinyuan"), operator)
    session.commit()

    def undelivered() -> list[OutboxMessage]:
        session.expire_all()
        found = outbox.failed_messages(session)
        session.commit()
        return found

    (failed,) = eventually(undelivered)
    assert (failed.status, failed.delivery_status, failed.error_code) == ("submitted", "undelivered", "30003")

    def both_callbacks() -> list[dict[str, str]] | None:
        # The stand-in notes a callback once our answer to it is back, just after our commit.
        found = [c for c in hotline.sim.callbacks if c["MessageSid"] == failed.provider_sid]
        return found if len(found) >= 2 else None

    callbacks = eventually(both_callbacks)
    assert [c["MessageStatus"] for c in callbacks] == ["sent", "undelivered"]
    assert all(c["_http_status"] == "204" for c in callbacks)


def test_a_forged_status_callback_is_refused_and_changes_nothing(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    hotline.text(COMPLAINT)
    lifecycle.transfer(session, ticket_of(session), unit_by_code(session, "qinyuan"), operator)
    session.commit()
    row = eventually(lambda: delivered(session, "transferred"))
    form = {"MessageSid": row.provider_sid, "MessageStatus": "failed", "ErrorCode": "30008"}
    assert hotline.post(f"/sms/twilio/status?id={row.id}", form, token="forged").status_code == 403
    assert hotline.post(f"/sms/twilio/status?id={row.id}", form, sign=False).status_code == 403
    assert outbox_rows(session)[0].delivery_status == "delivered"
    # A genuine late "sent" does not move a delivered message back.
    assert hotline.post(f"/sms/twilio/status?id={row.id}", form | {"MessageStatus": "sent"}).status_code == 204
    assert outbox_rows(session)[0].delivery_status == "delivered"


def test_the_simulators_phone_texts_the_hotline_through_a_signed_webhook(hotline: Hotline) -> None:
    import httpx

    response = httpx.post(f"{hotline.sim.url}/sim/inbound", data={"From": CITIZEN, "Body": COMPLAINT})
    assert response.status_code == 200 and "您的诉求已受理" in response.text


def test_rating_question_fits_two_sms_segments_whatever_the_reply(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    from dispatch.notifications import segments

    hotline.text(COMPLAINT)
    transfer_and_resolve(session, operator, reply="经现场核查，" + "已协调物业和环卫部门处理，" * 40)
    row = eventually(lambda: delivered(session, "resolved"))
    assert segments(row.body) <= 2 and row.body.endswith("回复TD退订。") and "…" in row.body


def merged_and_resolved(hotline: Hotline, session: Session, operator: Actor, other: str) -> None:
    """CITIZEN's complaint, and `other`'s merged into it; resolved, and `other` told of it."""
    hotline.text(COMPLAINT)
    hotline.text("门口的垃圾好几天没清了，太臭了", sender=other)
    lifecycle.merge(session, ticket_of(session, other), ticket_of(session), operator)
    session.commit()
    transfer_and_resolve(session, operator)
    eventually(lambda: [m for m in hotline.sim.sent_to(other) if "已办结" in m.body] or None)


def test_a_citizen_whose_ticket_was_merged_is_told_the_result_and_rates_it_by_text(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    other = "+8613900000077"
    merged_and_resolved(hotline, session, operator, other)
    told = [m.body for m in hotline.sim.sent_to(other)]
    assert any("合并办理" in body for body in told)
    assert any("已办结：已安排环卫工人清运完毕" in body and "1满意" in body for body in told)
    assert "感谢您的评价（基本满意）" in hotline.text("2", sender=other).text
    session.expire_all()
    duplicate = ticket_of(session, other)
    assert (duplicate.state, duplicate.rating, duplicate.rating_channel) == ("merged", "partly", "sms")
    assert ticket_of(session).state == "resolved"  # the main ticket waits for its own citizen


def test_a_duplicates_rating_waits_while_its_main_ticket_is_handled_again(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    """Its main ticket rated unsatisfied by its own citizen is reopened: the duplicate's "1" is
    no rating then (rating it failed, so the text went unanswered and unlogged)."""
    other = "+8613900000078"
    merged_and_resolved(hotline, session, operator, other)
    assert "不满意" in hotline.text("3").text
    session.expire_all()
    assert ticket_of(session).state == "reopened"
    answer = hotline.text("1", sender=other)
    assert answer.status_code == 200 and "感谢您的评价" not in answer.text
    session.expire_all()
    assert ticket_of(session, other).rating is None
