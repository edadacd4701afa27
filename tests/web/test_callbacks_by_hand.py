"""已回拨 marked by hand on the console's callback list, over HTTP against a real server: as
when a call back reaches the citizen, the same number's other missed calls leave the list
with it, each closing in the staff activity log; another number's stay."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select

from dispatch import telephony
from dispatch.clock import utcnow
from dispatch.models import Callback, StaffActivity
from tests.web.pages_support import csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

NOTE = "已用座机回拨，市民诉求已记录"


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def missed(services: Services, linkedid: str, caller: str, minutes_ago: int) -> None:
    at = utcnow() - dt.timedelta(minutes=minutes_ago)
    services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
        linkedid=linkedid, outcome="abandoned", caller=caller, dialed="12345", started_at=at, queue="hotline",
        entered_queue_at=at, ended_at=at), now=at))


def test_marking_one_missed_call_called_back_closes_the_numbers_others(
        client: httpx.Client, services: Services) -> None:
    # The citizen hung up three times while waiting; another caller once.
    for n, minutes in enumerate((30, 20, 10)):
        missed(services, f"1700000300.{n}", "13803910151", minutes)
    missed(services, "1700000300.9", "13803910152", 5)
    with services.sessions() as session:
        rows = {c.id: c.caller for c in telephony.pending_callbacks(session)}
    same = sorted(i for i, caller in rows.items() if caller == "+8613803910151")
    login(client, "operator")
    console = client.get("/operator").text
    assert len([c for c in rows.values() if c == "+8613803910151"]) == 3 and "13803910151" in console

    asked = client.post(f"/operator/callbacks/{same[-1]}/done", data={"csrf_token": csrf(client, "/operator"),
                                                                      "note": NOTE})
    assert asked.status_code == 200 and "确认后该号码的未接来电都将移出回拨列表" in asked.text
    done = client.post(f"/operator/callbacks/{same[-1]}/done", data={"csrf_token": csrf(client, "/operator"),
                                                                     "note": NOTE, "confirmed": "yes"})
    assert done.status_code == 303

    with services.sessions() as session:
        assert [c.caller for c in telephony.pending_callbacks(session)] == ["+8613803910152"]
        closed = {c.id: c for c in session.scalars(select(Callback).where(Callback.id.in_(same)))}
        assert {c.status for c in closed.values()} == {"done"}
        assert closed[same[-1]].note == NOTE
        assert {closed[i].note for i in same[:-1]} == {f"该号码另一次未接来电已标记为已回拨（{NOTE}），无需重复回拨"}
        assert len({c.done_by for c in closed.values()}) == 1 and closed[same[0]].done_by is not None
        # Each closing is in the activity log, as a call back that reached the number records it.
        logged = {a.target: a for a in session.scalars(select(StaffActivity)
                                                        .where(StaffActivity.kind == "callback_done"))}
        assert set(logged) == {f"callback:{i}" for i in same}
        assert logged[f"callback:{same[-1]}"].detail == {"caller": "+8613803910151", "via": "by_hand", "note": NOTE}
        for i in same[:-1]:
            assert logged[f"callback:{i}"].detail == {"caller": "+8613803910151", "via": "same_number",
                                                      "note": closed[i].note}
    listed = client.get("/operator").text
    assert "13803910151" not in listed and "13803910152" in listed
