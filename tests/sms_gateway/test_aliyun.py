"""Alibaba Cloud SMS end to end on loopback: the hotline and the Alibaba stand-in are real
uvicorn servers, sending goes through the official SDK (alibabacloud-dysmsapi20170525)
signing every request, and receipts and citizens' texts come back by the HTTP push."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle, outbox
from dispatch.actors import Actor
from dispatch.models import OutboxMessage
from dispatch.units import City, unit_by_code
from sms_gateway.aliyun import AliyunSender
from sms_gateway.aliyun_simulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    DEMO_PUSH_TOKEN,
    DEMO_SIGN_NAME,
    AliyunSimulator,
    demo_template_codes,
)
from sms_gateway.simulator import ServerThread
from sms_gateway.worker import OutboxWorker
from tests.dispatch.helpers import new_ticket
from tests.held import held
from tests.sms_gateway.conftest import eventually, outbox_rows, ticket_of
from web.app import create_app
from web.config import AliyunSettings, Secret, Settings, SmsSettings

CITIZEN = "+8613812345678"
FAST = outbox.RetryPolicy(max_attempts=3, base_delay=dt.timedelta(milliseconds=10),
                          lease=dt.timedelta(milliseconds=200))


@pytest.fixture
def alisim() -> Iterator[AliyunSimulator]:
    simulator = AliyunSimulator(report_delay=0.01)
    server = ServerThread()
    simulator.url = server.url
    server.start(simulator.app())
    yield simulator
    server.stop()


@dataclass
class Hotline:
    url: str
    client: httpx.Client
    sim: AliyunSimulator

    def push(self, path: str, items: list[dict[str, object]], token: str | None = DEMO_PUSH_TOKEN) -> httpx.Response:
        query = {"token": token} if token is not None else {}
        return self.client.post(path, params=query, content=json.dumps(items, ensure_ascii=False).encode(),
                                headers={"content-type": "application/json"})


def aliyun_settings(database_url: str, endpoint: str) -> Settings:
    return Settings(database_url=database_url, sms=SmsSettings(
        account_sid="", auth_token=Secret(""), from_number="", public_url="", aliyun=AliyunSettings(
            access_key_id=DEMO_ACCESS_KEY_ID, access_key_secret=Secret(DEMO_ACCESS_KEY_SECRET),
            sign_name=DEMO_SIGN_NAME, push_token=Secret(DEMO_PUSH_TOKEN), templates=demo_template_codes(),
            endpoint=endpoint)))


@pytest.fixture
def hotline(database_url: str, sessions: sessionmaker[Session], alisim: AliyunSimulator) -> Iterator[Hotline]:
    server = ServerThread()
    app = create_app(aliyun_settings(database_url, alisim.url or ""))
    server.start(app)
    alisim.report_url = f"{server.url}/sms/aliyun/report?token={DEMO_PUSH_TOKEN}"
    alisim.up_url = f"{server.url}/sms/aliyun/up?token={DEMO_PUSH_TOKEN}"
    outbox.install(sessions, on_commit=app.state.sms.worker.wake)
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield Hotline(url=server.url, client=client, sim=alisim)
    server.stop()


def test_a_notification_goes_out_by_template_and_its_receipt_comes_back_by_push(
        hotline: Hotline, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions.begin() as session:
        ticket = new_ticket(session, phone=CITIZEN)
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), operator)
        number, code = ticket.number, ticket.query_code

    sent = eventually(lambda: len(hotline.sim.sent_to("13812345678")) >= 2 and hotline.sim.sent_to("13812345678"))
    received, transferred = sent[0], sent[1]
    codes = demo_template_codes()
    assert received.template_code == codes["received"] and transferred.template_code == codes["transferred"]
    assert received.params == {"number": number, "code": code}
    assert received.sign_name == DEMO_SIGN_NAME
    # The filled template is the very text the outbox holds (what Twilio would have sent).
    with sessions() as session:
        rows = outbox_rows(session)
    assert [r.body for r in rows] == [m.content for m in sent]
    assert rows[0].provider_sid == received.biz_id

    def delivered() -> list[OutboxMessage] | None:
        with sessions() as session:
            found = outbox_rows(session)
        return found if all(r.delivery_status == "delivered" for r in found) else None
    eventually(delivered)
    assert all(push["status"] == 200 for push in hotline.sim.pushes)


def test_an_undelivered_receipt_is_recorded_with_the_carriers_code(
        hotline: Hotline, sessions: sessionmaker[Session]) -> None:
    hotline.sim.undeliverable.add("13812345678")
    with sessions.begin() as session:
        new_ticket(session, phone=CITIZEN)

    def undelivered() -> OutboxMessage | None:
        with sessions() as session:
            rows = outbox_rows(session)
        return rows[0] if rows and rows[0].delivery_status == "undelivered" else None
    row = eventually(undelivered)
    assert row.error_code == "MK:0001"


def test_a_citizens_text_pushed_by_smsup_files_a_ticket_and_is_answered_by_template(
        hotline: Hotline, sessions: sessionmaker[Session]) -> None:
    answer = httpx.post(f"{hotline.sim.url}/sim/inbound", data={"From": "13812345678", "Body": "小区门口路灯坏了三天了"},
                        timeout=10)
    assert answer.status_code == 200 and answer.json()["code"] == 0
    with sessions() as session:
        ticket = ticket_of(session, CITIZEN)
    assert ticket is not None and ticket.channel == "sms" and "路灯" in ticket.body
    reply = eventually(lambda: hotline.sim.sent_to("13812345678"))[0]
    assert reply.template_code == demo_template_codes()["reply"]
    assert ticket.number in reply.content and ticket.query_code in reply.content


def test_the_same_smsup_pushed_again_files_and_answers_once(hotline: Hotline, sessions: sessionmaker[Session]) -> None:
    item = {"phone_number": "13812345678", "send_time": "2026-12-03 10:00:00", "content": "井盖丢了",
            "sign_name": DEMO_SIGN_NAME, "dest_code": "1234", "sequence_id": 777}
    assert hotline.push("/sms/aliyun/up", [item]).status_code == 200
    assert hotline.push("/sms/aliyun/up", [item]).status_code == 200
    eventually(lambda: hotline.sim.sent_to("13812345678"))
    with sessions() as session:
        rows = outbox_rows(session)
    assert [r.kind for r in rows] == ["reply"]


def test_a_forged_push_is_refused_and_changes_nothing(hotline: Hotline, sessions: sessionmaker[Session]) -> None:
    item = {"phone_number": "13812345678", "send_time": "2026-12-03 10:00:00", "content": "假的",
            "sign_name": DEMO_SIGN_NAME, "dest_code": "1234", "sequence_id": 1}
    assert hotline.push("/sms/aliyun/up", [item], token=None).status_code == 403
    assert hotline.push("/sms/aliyun/up", [item], token="guessed").status_code == 403
    report = {"phone_number": "13812345678", "send_time": "2026-12-03 10:00:00", "report_time": "2026-12-03 10:00:01",
              "success": False, "err_code": "MK:0001", "err_msg": "x", "sms_size": "1", "biz_id": "1^0", "out_id": "1"}
    assert hotline.push("/sms/aliyun/report", [report], token="guessed").status_code == 403
    with sessions() as session:
        assert ticket_of(session, CITIZEN) is None
        assert outbox_rows(session) == []
    # Twilio's routes are not this provider's: they do not exist here.
    assert hotline.client.post("/sms/twilio", data={"From": CITIZEN, "Body": "x"}).status_code == 404


def test_a_malformed_push_is_refused(hotline: Hotline) -> None:
    response = hotline.client.post("/sms/aliyun/report", params={"token": DEMO_PUSH_TOKEN}, content=b"{not json")
    assert response.status_code == 400


# ---- the worker and the SDK -----------------------------------------------------------------

@pytest.fixture
def sender(alisim: AliyunSimulator) -> AliyunSender:
    return AliyunSender(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_SIGN_NAME, demo_template_codes(),
                        endpoint=alisim.url, timeout_ms=5000)


def test_a_resend_asks_query_send_details_first_and_does_not_send_twice(
        sessions: sessionmaker[Session], sender: AliyunSender, alisim: AliyunSimulator) -> None:
    outbox.install(sessions)
    with sessions.begin() as session:
        new_ticket(session, phone=CITIZEN)
    worker = OutboxWorker(sessions, sender, policy=FAST)
    # The first attempt reaches Alibaba, then its answer is lost (the process dies): the
    # message stays "sending" until its lease runs out.
    with sessions.begin() as session:
        claim = outbox.claim_next(session, FAST)
    assert claim is not None
    sender.send(claim.recipient, claim.body, kind=claim.kind, params=claim.template_params, out_id=str(claim.id))
    assert len(alisim.sent_to("13812345678")) == 1

    eventually(lambda: worker.step(due_by=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)), timeout=5)
    assert alisim.actions() == ["SendSms", "QuerySendDetails"]
    assert len(alisim.sent_to("13812345678")) == 1
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert row.status == outbox.SUBMITTED and row.attempts == 2
    assert row.provider_sid == f"out:{row.id}"  # QuerySendDetails gives no BizId ...


def _claimed(sessions: sessionmaker[Session]) -> outbox.Claim:
    """A ticket's first text, claimed by a worker that has not sent it yet."""
    outbox.install(sessions)
    with sessions.begin() as session:
        new_ticket(session, phone=CITIZEN)
    with sessions.begin() as session:
        claim = outbox.claim_next(session, FAST)
    assert claim is not None
    return claim


def test_a_receipt_replaces_the_placeholder_id_of_a_reconciled_message(
        sessions: sessionmaker[Session]) -> None:
    claim = _claimed(sessions)
    with sessions.begin() as session:
        outbox.mark_submitted(session, claim.id, f"out:{claim.id}", "sent")
    with sessions.begin() as session:
        outbox.apply_delivery_status(session, provider_sid="123456^0", status="delivered", error_code=None,
                                     outbox_id=claim.id)
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert (row.provider_sid, row.delivery_status) == ("123456^0", "delivered")


def test_a_resend_after_an_attempt_that_never_arrived_sends_once(
        sessions: sessionmaker[Session], sender: AliyunSender, alisim: AliyunSimulator) -> None:
    outbox.install(sessions)
    with sessions.begin() as session:
        new_ticket(session, phone=CITIZEN)
    alisim.fail_next("isp.SYSTEM_ERROR", http_status=500)
    worker = OutboxWorker(sessions, sender, policy=FAST)
    assert worker.step()
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert row.status == outbox.PENDING and "isp.SYSTEM_ERROR" in (row.last_error or "")
    eventually(lambda: worker.step(), timeout=5)
    assert alisim.actions() == ["SendSms", "QuerySendDetails", "SendSms"]
    assert len(alisim.sent_to("13812345678")) == 1
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert row.status == outbox.SUBMITTED and row.provider_sid == alisim.messages[0].biz_id


def test_a_refused_template_is_given_up_at_once(sessions: sessionmaker[Session], alisim: AliyunSimulator) -> None:
    outbox.install(sessions)
    with sessions.begin() as session:
        new_ticket(session, phone=CITIZEN)
    codes = demo_template_codes() | {"received": "SMS_NOT_APPROVED"}
    sender = AliyunSender(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_SIGN_NAME, codes, endpoint=alisim.url)
    assert OutboxWorker(sessions, sender, policy=FAST).step()
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert row.status == outbox.FAILED and "isv.SMS_TEMPLATE_ILLEGAL" in (row.last_error or "")


def test_a_wrong_access_key_secret_is_refused_by_the_stand_in(alisim: AliyunSimulator) -> None:
    wrong = AliyunSender(DEMO_ACCESS_KEY_ID, "not-the-secret", DEMO_SIGN_NAME, demo_template_codes(),
                         endpoint=alisim.url)
    with pytest.raises(Exception) as refused:
        wrong.send(CITIZEN, "x", kind="reply", params={"content": "x"}, out_id="1")
    assert "SignatureDoesNotMatch" in str(refused.value) and alisim.messages == []


def test_the_readme_lists_every_template_to_apply_for_with_its_exact_words() -> None:
    from pathlib import Path

    from dispatch.notifications import provider_templates

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for kind, text in provider_templates().items():
        assert f"| `{kind}` | {text} |" in readme, kind


def test_a_receipt_pushed_while_the_send_is_being_recorded_is_kept(sessions: sessionmaker[Session]) -> None:
    """Alibaba Cloud pushes "delivered" as soon as the handset has the text, which may be
    before the worker has recorded the send's answer. Both read the row before either wrote;
    the worker writes last, and used to write its older "sent" over the receipt."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: the two cannot cross")
    claim = _claimed(sessions)
    engine = sessions.kw["bind"]
    reads_row = "FROM sms_outbox \nWHERE sms_outbox.id ="
    recorded: list[str] = []

    def record_send() -> None:
        with sessions.begin() as session:
            outbox.mark_submitted(session, claim.id, "123456^0", "sent")
        recorded.append("send")

    def push_receipt() -> None:
        with sessions.begin() as session:
            outbox.apply_delivery_status(session, provider_sid="123456^0", status="delivered",
                                         error_code=None, outbox_id=claim.id)
        recorded.append("receipt")

    def late_write(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE sms_outbox") and threading.current_thread().name == "send":
            time.sleep(0.5)   # the worker's write comes after the receipt's commit

    event.listen(engine, "before_cursor_execute", late_write)
    try:
        with held(engine, lambda statement: reads_row in statement, 2):
            threads = [threading.Thread(target=record_send, name="send"),
                       threading.Thread(target=push_receipt, name="receipt")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", late_write)
    assert sorted(recorded) == ["receipt", "send"]
    with sessions() as session:
        (row,) = outbox_rows(session)
    assert (row.status, row.provider_sid, row.delivery_status) == (outbox.SUBMITTED, "123456^0", "delivered")
