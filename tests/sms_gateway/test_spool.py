"""A citizen texts while the database refuses writes: Twilio will not hold the text for
us, so the hotline keeps it in its spool, says so, and files it once writes work again,
texting the ticket number then. Real servers on loopback, a really read-only database."""
from __future__ import annotations

import dataclasses

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.db import make_sessionmaker
from dispatch.models import SmsInbound, Ticket
from sms_gateway.simulator import ServerThread, TwilioSimulator
from tests.read_only import Switch
from tests.sms_gateway.conftest import CITIZEN, Hotline, eventually, new_sid, sms_settings
from web.app import create_app
from web.services import Services
from web.sms import REPLY_SPOOLED

COMPLAINT = "济水大街路灯坏了一周，晚上很黑，请尽快修理。"


def count(session: Session, model: type) -> int:
    session.expire_all()
    n = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return n


def test_a_text_during_a_read_only_database_is_kept_and_filed_later(
        database_url, sessions, session, sim: TwilioSimulator, tmp_path) -> None:
    switch = Switch(database_url)
    server = ServerThread()
    base = sms_settings(database_url, server.url, sim.url or "")
    settings = dataclasses.replace(base, sms=dataclasses.replace(
        base.sms, spool=tmp_path / "sms-spool.jsonl", spool_retry_seconds=0.05))
    built = Services.build(settings)
    services = dataclasses.replace(built, engine=switch.engine, sessions=make_sessionmaker(switch.engine))
    app = create_app(settings, services)
    server.start(app)
    try:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            hotline = Hotline(url=server.url, app=app, sim=sim, client=client)
            sid = new_sid()
            answered = hotline.text(COMPLAINT, sid=sid)
            assert answered.status_code == 200
            assert REPLY_SPOOLED in answered.text  # told at once; the text is safe
            assert app.state.sms.spool.waiting() == 1
            assert client.get("/readyz").json()["checks"]["sms_spool"] == {"ok": False, "waiting": 1}
            assert count(session, Ticket) == 0

            switch.writable()
            eventually(lambda: count(session, Ticket) == 1)
            eventually(lambda: app.state.sms.spool.waiting() == 0)
            # the reply the webhook could not give goes out as a message of its own
            reply = eventually(lambda: [m for m in sim.sent_to(CITIZEN) if "工单号" in m.body])
            assert len(reply) == 1

            # Twilio retrying the same message now changes nothing
            again = hotline.text(COMPLAINT, sid=sid)
            assert again.status_code == 200 and "工单号" in again.text
            assert count(session, Ticket) == 1 and count(session, SmsInbound) == 1
    finally:
        server.stop()
        services.close()
        built.close()
