"""The knowledge base over HTTP: GET /api/v1/kb for citizens and staff tokens, the public
page with escaped highlights and the deflection button, the staff editor where a unit
edits only its own articles and a supervisor publishes, and the editors' figures."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch import api_tokens, kb
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.limits import Limits
from dispatch.models import KbArticle, KbDeflection, KbSearch, StaffUser
from dispatch.units import unit_by_code
from tests.web.pages_support import csrf, login, token_in
from web.app import create_app
from web.services import Services


def _article(services: Services, title: str, *, unit: str = "human-resources", public: bool = True,
             body: str = "先挂失，再带身份证到服务大厅补办。") -> int:
    def work(session):  # type: ignore[no-untyped-def]
        article = kb.create(session, unit_by_code(session, unit),
                            kb.parse_text({"title": title, "body": body, "public": public}), Actor.system("test"))
        kb.publish(session, article, Actor.system("test"))
        return article.id

    return services.run_sync(work)


def _token(services: Services, username: str) -> str:
    with services.sessions.begin() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]


def test_the_api_answers_citizens_with_public_articles_and_staff_tokens_with_internal_ones_too(
        client: TestClient, services: Services) -> None:
    internal = _article(services, "社保卡补办内部口径", public=False, body="内部：社保卡补办可加急。")
    response = client.get("/api/v1/kb", params={"q": "社保卡丢了怎么补办"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["title"] == "社会保障卡丢失怎么补办"      # a demo article
    assert set(results[0]) >= {"id", "title", "score", "snippet"}
    assert results == sorted(results, key=lambda r: -r["score"])
    assert internal not in [r["id"] for r in results]

    staff = client.get("/api/v1/kb", params={"q": "社保卡补办加急"},
                       headers={"Authorization": f"Bearer {_token(services, 'operator')}"})
    assert internal in [r["id"] for r in staff.json()["results"]]
    assert client.get("/api/v1/kb", params={"q": "社保卡"}, headers={"Authorization": "Bearer nope"}).status_code == 401
    missing = client.get("/api/v1/kb")
    assert missing.status_code == 422 and missing.json()["field"] == "q"
    with services.sessions() as session:
        assert session.scalar(select(func.count(KbSearch.id)).where(KbSearch.source == "api")) == 2


def test_the_public_page_highlights_escaped_passages_and_counts_a_deflection(client: TestClient,
                                                                             services: Services) -> None:
    article_id = _article(services, "<script>标题</script>社保卡补办", body="社保卡<b>补办</b>请到服务大厅。")
    page = client.get("/kb", params={"q": "社保卡补办"})
    assert page.status_code == 200
    assert "<script>标题" not in page.text and "&lt;script&gt;标题" in page.text
    assert "<mark>社保卡</mark>" in page.text or "<mark>补办</mark>" in page.text
    assert "<b>补办</b>" not in page.text

    article = client.get(f"/kb/{article_id}")
    assert article.status_code == 200 and "&lt;b&gt;补办&lt;/b&gt;" in article.text   # raw HTML shown as text
    done = client.post(f"/kb/{article_id}/deflection", data={"csrf_token": token_in(article.text), "q": "社保卡补办"})
    assert done.status_code == 303
    assert client.post(f"/kb/{article_id}/deflection", data={"q": "x"}).status_code == 403  # no CSRF token
    with services.sessions() as session:
        assert session.scalar(select(func.count(KbDeflection.id))) == 1
    suggested = client.get("/kb/suggest", params={"q": "暖气不热怎么办"}).json()["results"]
    assert suggested and suggested[0]["title"] == "暖气不热怎么办"


def test_a_unit_edits_only_its_own_articles_and_a_supervisor_publishes(client: TestClient,
                                                                       services: Services) -> None:
    login(client, "housing")
    token = csrf(client, "/staff/kb")
    created = client.post("/staff/kb", data={"csrf_token": token, "title": "楼道灯坏了找谁", "body": "联系物业。",
                                             "public": "on", "review_by": "2027-01-31"})
    assert created.status_code == 303
    own = int(created.headers["location"].split("/")[3].split("?")[0])
    hr_article = _article(services, "失业金申领", unit="human-resources")
    hr_page = client.get(f"/staff/kb/{hr_article}")
    assert hr_page.status_code == 200 and 'id="kb-edit-form"' not in hr_page.text
    refused = client.post(f"/staff/kb/{hr_article}", data={"csrf_token": token, "title": "改", "body": "改"})
    assert refused.status_code == 403
    assert client.post(f"/staff/kb/{own}/publish", data={"csrf_token": token}).status_code == 403
    edited = client.post(f"/staff/kb/{own}", data={"csrf_token": token, "title": "楼道灯坏了找谁",
                                                   "body": "联系物业维修。", "expected_version": "1"})
    assert edited.status_code == 303

    login(client, "supervisor")
    token = csrf(client, f"/staff/kb/{own}")
    assert client.post(f"/staff/kb/{own}/publish", data={"csrf_token": token, "expected_version": "2"}).status_code == 303
    with services.sessions() as session:
        article = session.get(KbArticle, own)
        assert article is not None and (article.state, article.published_version) == ("published", 2)
        hr = session.get(KbArticle, hr_article)
        assert hr is not None and hr.title == "失业金申领" and hr.version == 1
    figures = client.get("/supervisor/kb")
    assert figures.status_code == 200 and 'id="kb-direct-rate"' in figures.text


def test_a_published_articles_next_version_is_read_only_by_those_who_may_edit_it(client: TestClient,
                                                                                 services: Services) -> None:
    """Another unit, or an operator, reads what is published: not the edit waiting for a
    supervisor (its title, text, category or its line in the versions)."""
    hr_article = _article(services, "失业金申领", unit="human-resources")

    def edit(session):  # type: ignore[no-untyped-def]
        kb.edit(session, session.get(KbArticle, hr_article),
                kb.parse_text({"title": "失业金申领（草稿）", "body": "内部草稿：尚未核实的新规定。", "public": False}),
                Actor.system("test"))
    services.run_sync(edit)
    for reader in ("housing", "operator"):
        login(client, reader)
        page = client.get(f"/staff/kb/{hr_article}").text
        assert "失业金申领" in page and "先挂失" in page
        assert "草稿" not in page and "待发布的修改" not in page and "内部" not in page, reader
    login(client, "hr")
    page = client.get(f"/staff/kb/{hr_article}").text
    assert "待发布的修改" in page and "内部草稿" in page and "失业金申领（草稿）" in page


def test_a_stale_article_is_flagged_on_the_supervisors_page(client: TestClient, services: Services) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        article = kb.create(session, unit_by_code(session, "water"),
                            kb.parse_text({"title": "停水通知在哪看", "body": "看公众号。", "review_by": "2020-01-01"}),
                            Actor.system("test"))
        kb.publish(session, article, Actor.system("test"))

    login(client, "supervisor")
    assert 'id="kb-stale-notice"' not in client.get("/supervisor").text
    services.run_sync(work)
    page = client.get("/supervisor")
    assert 'id="kb-stale-notice"' in page.text and "1 篇文章已过复核日期" in page.text
    assert "停水通知在哪看" in client.get("/supervisor/kb").text


def test_the_staff_api_answers_a_ticket_from_an_article(client: TestClient, services: Services) -> None:
    from dispatch.models import Ticket, TicketEvent

    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.title == "建议增加公交班次")).one()
        article = session.scalars(select(KbArticle).where(KbArticle.title == "到王屋山景区怎么坐公交")).one()
        number, version, article_id = ticket.number, ticket.version, article.id
    headers = {"Authorization": f"Bearer {_token(services, 'operator')}"}
    response = client.post(f"/api/v1/staff/tickets/{number}/answer", headers=headers,
                           json={"article_id": article_id, "expected_version": version})
    assert response.status_code == 200, response.text
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.action == "answer")).one()
    assert ticket.state == "answered" and "《到王屋山景区怎么坐公交》" in (ticket.reply or "")
    assert event.data == {"article_id": article_id, "article_version": 1}


def test_a_reply_from_an_article_reads_without_markdown_on_the_ticket_page_status_and_api(
        client: TestClient, services: Services) -> None:
    from dispatch.models import Ticket

    with services.sessions() as session:
        article = session.scalars(select(KbArticle).where(KbArticle.title == "社会保障卡丢失怎么补办")).one()
        article_id = article.id
    login(client, "operator")
    console = client.get("/operator").text
    response = client.post("/operator/tickets", data={
        "csrf_token": token_in(console), "form_id": "kb-plain", "type": "consultation", "urgency": "normal",
        "phone": "13803910124", "body": "社保卡丢了怎么补办", "answer_article": str(article_id)})
    assert response.status_code == 303 and response.headers["location"].endswith("?done=answer")
    number = response.headers["location"].split("/")[2].split("?")[0]
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        reply, code = ticket.reply or "", ticket.query_code
    assert "演示内容：本文为演示数据" in reply and "*" not in reply and "#" not in reply
    assert reply.startswith("《社会保障卡丢失怎么补办》\n先挂失\n社会保障卡丢失后")
    assert "演示内容：本文为演示数据" in client.get(f"/tickets/{number}").text
    api = client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()
    assert api["reply"] == reply
    client.cookies.clear()
    status = client.get("/status", params={"number": number, "code": code})
    assert status.status_code == 200 and "演示内容：本文为演示数据" in status.text
    assert "*演示内容" not in status.text


OLD_REPLY = ("《社会保障卡丢失怎么补办》\n## 先挂失\n社保卡丢失后请**先挂失**，可在 [河南社保](https://hnsi.example.cn/app) 办理。"
             "\n\n- 带*身份证*\n- 到服务大厅\n\n*演示内容：以有关部门公布为准。*")
PLAIN = ("先挂失", "社保卡丢失后请先挂失，可在 河南社保 (https://hnsi.example.cn/app) 办理。", "带身份证",
         "演示内容：以有关部门公布为准。")


def _reads_plain(text: str) -> None:
    assert all(line in text for line in PLAIN), text
    assert not any(mark in text for mark in ("**先挂失", "*身份证", "## ", "- 带", "](", "*演示")), text


def test_a_reply_stored_from_an_article_with_its_markdown_reads_as_plain_text_wherever_shown(
        client: TestClient, services: Services) -> None:
    """Replies answered from an article before its Markdown was removed at answering are
    stored with it; they are shown plain, and the row is not rewritten."""
    from dispatch import lifecycle
    from dispatch.intake import IntakeRequest, intake
    from dispatch.models import Ticket
    from dispatch.notifications import Kind, notification_text
    from dispatch.staff import actor_for
    from dispatch.vocabulary import Channel, RequestType

    def answer_as_before(session: object) -> tuple[str, str]:
        operator = actor_for(session.scalars(select(StaffUser).where(StaffUser.username == "operator")).one())  # type: ignore[attr-defined]
        ticket = intake(session, IntakeRequest(channel=Channel.PHONE, body="社保卡丢了怎么补办", phone="13803910125",  # type: ignore[arg-type]
                                               request_type=RequestType.CONSULTATION), services.rules).ticket
        lifecycle.answer(session, ticket, operator, OLD_REPLY)  # type: ignore[arg-type]
        return ticket.number, ticket.query_code

    number, code = services.run_sync(answer_as_before)
    login(client, "operator")
    page = client.get(f"/tickets/{number}").text
    _reads_plain(page)   # the reply, and the answer event's note in the log
    headers = {"Authorization": f"Bearer {_token(services, 'operator')}"}
    staff_api = client.get(f"/api/v1/staff/tickets/{number}", headers=headers).json()
    _reads_plain(staff_api["reply"])
    _reads_plain(next(e["note"] for e in staff_api["events"] if e["action"] == "answer"))
    client.cookies.clear()
    _reads_plain(client.get("/status", params={"number": number, "code": code}).text)
    public = client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()
    _reads_plain(public["reply"])
    _reads_plain(next(e["reply"] for e in public["timeline"] if e["action"] == "answer"))
    _reads_plain(client.get("/board").text)   # the latest resolved cases
    _reads_plain(client.get(f"/open311/v2/requests/{number}.json").json()[0]["status_notes"])
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.reply == OLD_REPLY
        text = notification_text(Kind.RESOLVED, ticket, None)
    assert "社保卡丢失后请先挂失" in text and "**先挂失" not in text and "## " not in text


# ---- what the citizens typed into the search box, as the gap list keeps it -----------------

def _searches(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(KbSearch.query).order_by(KbSearch.id)))


def test_a_public_search_is_kept_for_the_gap_list_with_its_numbers_masked(client: TestClient,
                                                                          services: Services) -> None:
    assert client.get("/kb", params={"q": "我的电话13803910012煤气罐没人送"}).status_code == 200
    assert client.get("/api/v1/kb", params={"q": "身份证410881199001011234补办不了"}).status_code == 200
    assert client.get("/kb", params={"q": "幺三八洞三九幺洞洞幺四 找不到人"}).status_code == 200
    assert _searches(services) == ["我的电话138****0012煤气罐没人送", "身份证410***********1234补办不了",
                                   "138****0014 找不到人"]
    with services.sessions.begin() as session:   # as a search was kept before queries were masked
        session.add(KbSearch(at=utcnow(), source="public", query="电话13912345678谁管", results=0, useful=False))
    login(client, "supervisor")
    gaps = client.get("/supervisor/kb").text
    assert "138****0012" in gaps and "139****5678谁管" in gaps
    for secret in ("13803910012", "410881199001011234", "洞三九", "13912345678"):
        assert secret not in gaps


def test_searches_past_the_address_share_are_answered_but_not_kept(services: Services) -> None:
    """Held in the database: two servers (two processes' worth of engines) share one count."""
    settings = dataclasses.replace(services.settings, limits=Limits.build(kb_searches_per_address=3))
    first, second = Services.build(settings), Services.build(settings)
    try:
        with TestClient(create_app(settings, first)) as one, TestClient(create_app(settings, second)) as other:
            answers = [one.get("/kb", params={"q": f"社保卡丢了怎么补办{n}"}) for n in range(2)]
            answers += [other.get("/api/v1/kb", params={"q": f"社保卡丢了怎么补办{n}"}) for n in range(2, 5)]
            answers.append(one.get("/kb", params={"q": "社保卡丢了怎么补办5"}))
            assert [a.status_code for a in answers] == [200] * 6
            assert all("社会保障卡丢失怎么补办" in a.text for a in answers)   # every citizen gets the answer
            assert _searches(services) == [f"社保卡丢了怎么补办{n}" for n in range(3)]
            # A staff token's searches are kept whatever the address's count.
            other.get("/api/v1/kb", params={"q": "社保卡补办加急"},
                      headers={"Authorization": f"Bearer {_token(services, 'operator')}"})
            assert _searches(services)[-1] == "社保卡补办加急"
    finally:
        first.close()
        second.close()


def test_the_search_limit_is_a_setting() -> None:
    from web.config import Settings

    assert Settings.from_env({}).limits.kb_searches_per_address.limit == 60
    limit = Settings.from_env({"HOTLINE_KB_SEARCHES_PER_ADDRESS": "5"}).limits.kb_searches_per_address
    assert limit.limit == 5 and limit.window == dt.timedelta(minutes=10)
    assert not Settings.from_env({"HOTLINE_KB_SEARCHES_PER_ADDRESS": "0"}).limits.kb_searches_per_address.on
