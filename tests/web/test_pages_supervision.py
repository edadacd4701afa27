"""热点 and 考核 for supervisors: the pages and the staff API show the same figures, and
nobody else reads them (unit staff get 403, the API needs a supervisor's token)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import api_tokens, calendar_days
from dispatch.actors import Actor
from dispatch.clock import local_date, local_day_start, utcnow
from dispatch.intake import IntakeRequest, intake
from dispatch.models import StaffUser
from dispatch.vocabulary import Channel
from tests.web.pages_support import login
from web.services import Services

COMPLAINTS = ["济水街道宏达小区门口井盖丢失，晚上很危险。", "宏达小区门口的井盖丢了，济水街道请尽快补上。",
              "济水街道宏达小区门口井盖不见了，有人掉进去。", "反映济水街道宏达小区门口井盖丢失，请处理。"]


def token_for(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


@pytest.fixture
def burst(services: Services) -> None:
    """Four citizens about one manhole cover, just now, all on today's China day (ten minutes
    back would reach yesterday in the first minutes after midnight)."""
    def file(session: Session) -> None:
        now = utcnow()
        first = max(now - dt.timedelta(minutes=10), local_day_start(local_date(now)))
        for i, text in enumerate(COMPLAINTS):
            intake(session, IntakeRequest(channel=Channel.WEB, body=text, phone=f"1380391{i:04d}", category="城乡建设"),
                   services.rules, now=min(now, first + dt.timedelta(seconds=i)))

    services.run_sync(file)


def test_a_supervisor_sees_the_hotspots_page_with_the_same_figures_as_the_api(
        client: TestClient, services: Services, burst: None) -> None:
    api = client.get("/api/v1/hotspots", headers=token_for(services, "supervisor"))
    assert api.status_code == 200, api.text
    found = api.json()
    top = found["rising"][0]
    assert (top["category"], top["place"], top["count"]) == ("城乡建设", "济水街道", 4)
    assert found["clusters"][0]["count"] == 4
    login(client, "supervisor")
    page = client.get("/supervisor/hotspots")
    assert page.status_code == 200, page.text
    rising = page.text.split('id="rising"')[1].split('id="clusters"')[0]
    assert "济水街道" in rising and f"<strong>{top['score']}</strong>" in rising
    clusters = page.text.split('id="clusters"')[1]
    assert "4 件 · 4 位市民" in clusters
    assert all(t["number"] in clusters for t in found["clusters"][0]["tickets"])
    assert 'href="/supervisor/hotspots"' in client.get("/supervisor").text


def test_a_day_set_as_a_holiday_is_compared_with_the_rest_days_on_the_page_and_the_api(
        client: TestClient, services: Services, burst: None) -> None:
    today = local_date(utcnow())

    def set_holiday(session: Session) -> None:
        planned = calendar_days.plan_range(session, today.isoformat(), "", "holiday", "测试假日")
        calendar_days.apply(session, planned, Actor.system("test"))

    services.run_sync(set_holiday)
    services.rules.policy.calendar.table.invalidate()   # as the holidays page does
    top = client.get("/api/v1/hotspots", headers=token_for(services, "supervisor")).json()["rising"][0]
    assert (top["place"], top["count"], top["day_kind"], top["baseline_kind"]) == ("济水街道", 4, "rest_day", "rest_day")
    # No ticket in the baseline: expected = (0 + 0.5) / its rest days.
    assert top["baseline_tickets"] == 0 and 0 < top["baseline_days"] < 28
    assert top["expected"] == pytest.approx(0.5 / top["baseline_days"], abs=1e-4)
    login(client, "supervisor")
    rising = client.get("/supervisor/hotspots").text.split('id="rising"')[1].split('id="clusters"')[0]
    assert f"{today.isoformat()}（休息日）" in rising and f"{top['baseline_days']} 个休息日" in rising


def test_the_assessment_page_and_api_show_each_unit_in_its_tier(client: TestClient, services: Services) -> None:
    month = (utcnow().date().replace(day=1)).strftime("%Y-%m")
    api = client.get("/api/v1/assessment", params={"month": month}, headers=token_for(services, "supervisor"))
    assert api.status_code == 200, api.text
    found = api.json()
    assert found["month"] == month and set(found["tiers"]) == {"A", "B", "C", "D", "none"}
    login(client, "supervisor")
    page = client.get("/supervisor/assessment", params={"month": month})
    assert page.status_code == 200, page.text
    assert f'value="{month}"' in page.text
    for unit in found["units"]:
        section = "tier-" + (unit["tier"] or "none")
        assert unit["unit_name"] in page.text.split(f'id="{section}"')[1].split("</section>")[0]
    assert 'href="/supervisor/assessment"' in client.get("/supervisor").text
    # Only the streets and townships, and their counts.
    townships = [u for u in found["units"] if u["unit_kind"] == "township"]
    page = client.get("/supervisor/assessment", params={"month": month, "kind": "township"})
    assert all(u["unit_name"] not in page.text for u in found["units"] if u["unit_kind"] != "township")
    assert f"不定档 {sum(1 for u in townships if u['tier'] is None)} 个" in page.text


def test_a_bad_month_is_explained_in_chinese(client: TestClient, services: Services) -> None:
    api = client.get("/api/v1/assessment", params={"month": "2026-13"}, headers=token_for(services, "supervisor"))
    assert api.status_code == 422
    assert api.json()["field"] == "month" and "YYYY-MM" in api.json()["message"]
    login(client, "supervisor")
    assert client.get("/supervisor/assessment", params={"month": "11/2026"}).status_code == 422


@pytest.mark.parametrize("path", ["/supervisor/hotspots", "/supervisor/assessment"])
def test_unit_staff_and_operators_cannot_open_the_pages(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 303                    # anonymous: to the login page
    for username in ("housing", "operator"):
        login(client, username)
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/hotspots", "/api/v1/assessment"])
def test_the_api_needs_a_supervisors_token(client: TestClient, services: Services, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get(path, headers=token_for(services, "housing")).status_code == 403
    assert client.get(path, headers=token_for(services, "operator")).status_code == 403
    # A logged-in supervisor's cookie is not a token.
    login(client, "supervisor")
    assert client.get(path).status_code == 401
    assert client.get(path, headers=token_for(services, "admin")).status_code == 200
