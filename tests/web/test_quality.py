"""质检 on a real server: two operators file tickets from the console; a supervisor opens 质检,
draws the week's sample (the same again on reload), scores one ticket (a score past an item's
points is refused in Chinese, a second inspection of it too), and reads 质检平均分; each operator
reads only their own result on 我的质检; unit staff are refused. The staff API's figure alike."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens, staff
from dispatch.clock import local_date, utcnow
from dispatch.demo import DEMO_PASSWORD
from dispatch.models import StaffActivity, StaffUser
from dispatch.vocabulary import Role
from tests.web.pages_support import csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

PASSWORD = "quality pass 1"
COMMENT = "开头语规范，但未核对来电人地址。"


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    services.run_sync(lambda s: staff.create_user(s, "zhou", PASSWORD, Role.OPERATOR, display_name="话务员 周敏"))
    with ServerThread(create_app(services.settings, services)) as running:
        yield running


def browser(server: ServerThread, username: str, password: str = DEMO_PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60, follow_redirects=False)
    login(client, username, password)  # type: ignore[arg-type]
    return client


def file(client: httpx.Client, title: str) -> str:
    token = csrf(client, "/operator")  # type: ignore[arg-type]
    filed = client.post("/operator/tickets", data={
        "csrf_token": token, "type": "complaint", "urgency": "normal", "title": title,
        "body": f"{title}，已经一周了，请尽快处理。", "phone": "13803917788"})
    assert filed.status_code == 303, filed.text[:500]
    return re.search(r"/tickets/([0-9-]+)", filed.headers["location"]).group(1)  # type: ignore[union-attr]


def sampled(page: str, operator: str) -> list[str]:
    section = next(s for s in page.split('class="card quality-operator"')[1:] if operator in s.split("</h2>")[0])
    return re.findall(r'id="sample-([0-9-]+)"', section.split("</section>")[0])


def error_of(page: httpx.Response) -> str:
    found = re.search(r'id="quality-error">([^<]*)<', page.text)
    assert found, page.text[:500]
    return html.unescape(found.group(1))


def token_of(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


def test_a_supervisor_scores_a_sampled_ticket_and_each_operator_reads_only_their_own(
        server: ServerThread, services: Services) -> None:
    wang, zhou = browser(server, "operator"), browser(server, "zhou", PASSWORD)
    wangs = [file(wang, f"小区路灯不亮{i}") for i in range(6)]
    zhous = [file(zhou, "道路积水严重")]

    chief = browser(server, "supervisor")
    page = chief.get("/supervisor/quality")
    assert page.status_code == 200 and 'id="nav-quality">质检</a>' in page.text
    today = local_date(utcnow())
    assert f'name="since" value="{(today - dt.timedelta(days=6)).isoformat()}"' in page.text   # the last 7 days
    first = sampled(page.text, "话务员 王芳")
    assert len(first) == 5 and set(first) <= set(wangs)
    assert sampled(page.text, "话务员 周敏") == zhous
    assert sampled(chief.get("/supervisor/quality").text, "话务员 王芳") == first   # the same on reload
    target = first[0]

    form = {"number": target, "since": (today - dt.timedelta(days=6)).isoformat(), "until": today.isoformat(),
            "seed": "1", "score_service": "18", "score_intake": "25", "score_routing": "30", "comment": COMMENT}
    assert chief.post("/supervisor/quality/inspections", data=form).status_code == 403   # no CSRF token
    token = csrf(chief, "/supervisor/quality")  # type: ignore[arg-type]
    over = chief.post("/supervisor/quality/inspections", data={**form, "csrf_token": token, "score_routing": "35"})
    assert over.status_code == 422 and error_of(over) == "「分类与派单正确」最多 30 分，得分应在 0 到 30 分之间。"
    assert COMMENT in over.text   # what was typed comes back
    missing = chief.post("/supervisor/quality/inspections", data={**form, "csrf_token": token, "score_intake": ""})
    assert missing.status_code == 422 and error_of(missing) == "请为「受理信息完整准确」打分（0 到 30 分）。"

    saved = chief.post("/supervisor/quality/inspections", data={**form, "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/supervisor/quality?")
    page = chief.get(saved.headers["location"])
    assert "已保存质检结果。" in page.text
    assert sampled(page.text, "话务员 王芳") == first[1:]   # inspected: out of the sample, the rest kept
    row = page.text.split(f'id="inspection-{target}"')[1].split("</tr>")[0]
    assert "话务员 王芳" in row and ">93<" in row and COMMENT in row   # 18 + 25 + 30 + 20 (not answered: full)
    figures = page.text.split('id="quality-figures"')[1].split("</section>")[0]
    assert re.search(r"话务员 王芳</td><td class=\"num\">1</td><td class=\"num\">93\.0<", figures)
    again = chief.post("/supervisor/quality/inspections", data={**form, "csrf_token": token})
    assert again.status_code == 409 and error_of(again) == f"工单「{target}」已由督办员 李强质检，每件工单只质检一次。"

    mine = wang.get("/operator/quality")
    assert mine.status_code == 200 and COMMENT in mine.text and target in mine.text
    assert 'id="my-average">93.0<' in mine.text
    theirs = zhou.get("/operator/quality")
    assert theirs.status_code == 200 and COMMENT not in theirs.text and target not in theirs.text
    assert zhou.get("/supervisor/quality").status_code == 403

    unit = browser(server, "housing")
    assert unit.get("/supervisor/quality").status_code == 403
    assert unit.get("/operator/quality").status_code == 403
    unit_token = csrf(unit, "/unit")  # type: ignore[arg-type]
    assert unit.post("/supervisor/quality/inspections", data={**form, "csrf_token": unit_token}).status_code == 403

    with services.sessions() as session:
        logged = session.execute(select(StaffActivity.kind, StaffActivity.actor, StaffActivity.target)
                                 .where(StaffActivity.kind == "quality_inspected")).all()
    assert logged == [("quality_inspected", "supervisor", f"ticket:{target}")]
    admin = browser(server, "admin")
    activity = admin.get("/admin/activity").text
    assert "质检" in activity and "总分：93；服务规范：18；受理信息完整准确：25" in activity
    admin.close()

    api = httpx.Client(base_url=f"{server.url}/api/v1", timeout=60)
    month = today.strftime("%Y-%m")
    found = api.get("/quality", params={"month": month}, headers=token_of(services, "supervisor"))
    assert found.status_code == 200, found.text
    assert found.json()["operators"] == [{"operator": "话务员 王芳", "inspected": 1, "points": 93, "average": 93.0}]
    assert [i["points"] for i in found.json()["checklist"]] == [20, 30, 30, 20]
    assert api.get("/quality", headers=token_of(services, "operator")).status_code == 403
    assert api.get("/quality", headers=token_of(services, "housing")).status_code == 403
    assert api.get("/quality").status_code == 401
    assert api.get("/quality", params={"month": "2026-13"}, headers=token_of(services, "admin")).status_code == 422
    for client in (wang, zhou, chief, unit, api):
        client.close()


def _filed_and_inspected(services: Services, filer: str, count: int, *, inspected_by: str = "supervisor") -> list[str]:
    """`count` phone tickets `filer` took, each inspected by `inspected_by`, a minute apart
    (the newest last); their numbers, oldest first."""
    from dispatch import quality
    from dispatch.intake import IntakeRequest, IntakeRules, intake
    from dispatch.vocabulary import Channel, RequestType

    def work(session: Session) -> list[str]:
        users = {u.username: staff.actor_for(u) for u in session.scalars(select(StaffUser))}
        start = utcnow() - dt.timedelta(minutes=count + 5)
        numbers = []
        for i in range(count):
            request = IntakeRequest(channel=Channel.PHONE, title=f"{filer}受理的工单{i}",
                                    body=f"{i}号楼楼道灯坏了，请尽快处理。", phone=f"1380392{len(filer):02d}{i:02d}",
                                    request_type=RequestType.COMPLAINT,
                                    channel_ref=f"console:{filer}:{i}")
            ticket = intake(session, request, IntakeRules(), actor=users[filer], now=start).ticket
            quality.inspect(session, users[inspected_by], ticket.number,
                            {"score_service": 20, "score_intake": 20 + i % 10, "score_routing": 30,
                             "comment": f"第{i}件"}, now=start + dt.timedelta(minutes=i))
            numbers.append(ticket.number)
        return numbers

    return services.run_sync(work)


def test_an_operator_reads_their_own_inspections_over_the_api_and_a_supervisor_any_operators(
        server: ServerThread, services: Services) -> None:
    wangs = _filed_and_inspected(services, "operator", 3)
    zhous = _filed_and_inspected(services, "zhou", 2, inspected_by="admin")
    api = httpx.Client(base_url=f"{server.url}/api/v1", timeout=60)

    own = api.get("/quality/inspections", headers=token_of(services, "zhou"))
    assert own.status_code == 200, own.text
    body = own.json()
    assert [i["number"] for i in body["inspections"]] == zhous[::-1]   # newest first, only theirs
    assert (body["page"], body["pages"], body["total"], body["next_page"]) == (1, 1, 2, None)
    first = body["inspections"][0]
    assert (first["operator"], first["inspector"], first["total"], first["comment"]) == ("话务员 周敏", "系统管理员", 91, "第1件")
    assert first["scores"] == {"service": 20, "intake": 21, "routing": 30, "reply": 20}
    refused = api.get("/quality/inspections", params={"operator": "operator"}, headers=token_of(services, "zhou"))
    assert refused.status_code == 403 and refused.json()["message"]   # not another operator's

    chief = token_of(services, "supervisor")
    everyone = api.get("/quality/inspections", headers=chief).json()
    assert {i["number"] for i in everyone["inspections"]} == set(wangs + zhous)
    one = api.get("/quality/inspections", params={"operator": "operator"}, headers=chief).json()
    assert [i["number"] for i in one["inspections"]] == wangs[::-1]
    unknown = api.get("/quality/inspections", params={"operator": "nobody"}, headers=chief)
    assert unknown.status_code == 422 and unknown.json()["message"] == "没有账号「nobody」。"
    assert api.get("/quality/inspections", params={"page": "0"}, headers=chief).status_code == 422
    assert api.get("/quality/inspections", headers=token_of(services, "housing")).status_code == 403
    assert api.get("/quality/inspections").status_code == 401
    api.close()


def test_a_supervisor_scores_a_ticket_over_the_api_with_the_same_checks_as_the_page(
        server: ServerThread, services: Services) -> None:
    wang = browser(server, "operator")
    number = file(wang, "小区路灯不亮")
    api = httpx.Client(base_url=f"{server.url}/api/v1", timeout=60)
    chief = token_of(services, "supervisor")
    scores = {"number": number, "score_service": 18, "score_intake": 25, "score_routing": 30, "comment": COMMENT}

    over = api.post("/quality/inspections", json={**scores, "score_routing": 35}, headers=chief)
    assert over.status_code == 422 and over.json()["field"] == "score_routing"
    assert over.json()["message"] == "「分类与派单正确」最多 30 分，得分应在 0 到 30 分之间。"
    missing = api.post("/quality/inspections", json={k: v for k, v in scores.items() if k != "score_intake"},
                       headers=chief)
    assert missing.status_code == 422 and missing.json()["message"] == "请为「受理信息完整准确」打分（0 到 30 分）。"
    assert api.post("/quality/inspections", json={**scores, "number": "20990101-0001"}, headers=chief).status_code == 404
    assert api.post("/quality/inspections", json=scores, headers=token_of(services, "operator")).status_code == 403
    assert api.post("/quality/inspections", json=scores, headers=token_of(services, "housing")).status_code == 403

    saved = api.post("/quality/inspections", json=scores, headers=chief)
    assert saved.status_code == 201, saved.text
    assert {k: saved.json()[k] for k in ("number", "operator", "inspector", "total", "comment")} == {
        "number": number, "operator": "话务员 王芳", "inspector": "督办员 李强", "total": 93, "comment": COMMENT}
    again = api.post("/quality/inspections", json=scores, headers=token_of(services, "admin"))
    assert again.status_code == 409 and again.json()["message"] == f"工单「{number}」已由督办员 李强质检，每件工单只质检一次。"
    mine = api.get("/quality/inspections", headers=token_of(services, "operator")).json()
    assert [i["total"] for i in mine["inspections"]] == [93]
    assert "/api/v1/quality/inspections" in api.get("/openapi.json").json()["paths"]
    wang.close()
    api.close()


def test_the_supervisors_latest_inspections_go_back_page_by_page(server: ServerThread, services: Services) -> None:
    numbers = _filed_and_inspected(services, "operator", 53)
    chief = browser(server, "supervisor")
    page = chief.get("/supervisor/quality", params={"seed": "3"})
    recent = page.text.split('id="recent-inspections"')[1]
    shown = re.findall(r'id="inspection-([0-9-]+)"', recent)
    assert shown == numbers[::-1][:50] and '<span class="count">53</span>' in recent
    assert "第 1 / 2 页" in recent
    older = html.unescape(re.search(r'<a href="([^"]+)" rel="next">更早</a>', recent).group(1))  # type: ignore[union-attr]
    assert "seed=3" in older and "page=2" in older   # the sample drawn stays as it was
    second = chief.get(older).text.split('id="recent-inspections"')[1]
    assert re.findall(r'id="inspection-([0-9-]+)"', second) == numbers[::-1][50:]
    assert "第 2 / 2 页" in second and 'rel="prev">更新</a>' in second
    api = httpx.Client(base_url=f"{server.url}/api/v1", timeout=60)
    listed = api.get("/quality/inspections", params={"page": "2"}, headers=token_of(services, "supervisor")).json()
    assert [i["number"] for i in listed["inspections"]] == numbers[::-1][50:] and listed["pages"] == 2
    chief.close()
    api.close()
