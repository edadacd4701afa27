"""The operator console while a request is typed (/operator/draft): the classifier's proposal
for the ticket the form would file, the figure the filed ticket's page then shows, and the
emergency numbers the words point to, with a 即时转 that files and hands over at once."""
from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.demo import DEMO_PASSWORD
from dispatch.limits import Limits
from dispatch.models import Ticket, TicketEvent
from tests.web.pages_support import login, token_in
from tests.web.server import ServerThread
from web.app import create_app
from web.pages.labels import percent
from web.services import Services

NOISE = "楼上装修噪音太大，每天早上七点就开始电钻，周末也不停，严重影响休息，请相关部门管一管。"
CRASH = "济水大街和黄河路交叉口发生车祸，有人受伤倒地，需要救护车"
FIRE = "家里厨房着火了"


def _draft(client: TestClient, token: str, **fields: str) -> dict[str, Any]:
    response = client.post("/operator/draft", data={"csrf_token": token, **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _file(client: TestClient, token: str, form_id: str, body: str, **fields: str) -> str:
    response = client.post("/operator/tickets", data={
        "csrf_token": token, "form_id": form_id, "type": "complaint", "urgency": "normal",
        "phone": "13803910123", "body": body, **fields})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _ticket(services: Services, number: str) -> Ticket:
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_the_console_shows_the_figure_the_filed_tickets_page_shows(client: TestClient, services: Services,
                                                                  small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    # No title typed: the ticket's title is the start of the body, and routing reads it before
    # the body; the console reads the same text (it read "title body", which scored otherwise).
    shown = _draft(client, token, title="", body=NOISE, location="")
    number = _file(client, token, "draft-1", NOISE).split("/")[2].split("?")[0]
    routing = _ticket(services, number).routing or {}
    stored = routing["suggestions"][0]["probability"]
    assert shown["suggestions"][0]["probability"] == stored
    assert shown["suggestions"][0]["percent"] == percent(stored)
    assert shown["sure"] is (routing["unit_code"] is not None)
    assert shown["threshold"] == percent(services.router.threshold)
    assert percent(stored) in client.get(f"/tickets/{number}").text
    # With a title and a location the two still agree.
    shown = _draft(client, token, title="装修噪音扰民", body=NOISE, location="沁园街道")
    number = _file(client, token, "draft-2", NOISE + "又来了", title="装修噪音扰民", location="沁园街道")
    number = number.split("/")[2].split("?")[0]
    again = _draft(client, token, title="装修噪音扰民", body=NOISE + "又来了", location="沁园街道")
    assert again["suggestions"][0]["probability"] == (_ticket(services, number).routing or {})["suggestions"][0]["probability"]
    assert shown["suggestions"]


def test_the_consoles_button_says_it_files_and_filing_leaves_the_transfer_to_the_operator(
        client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    console = client.get("/operator").text
    assert "受理并派单" not in console
    assert 'id="intake-submit">受理</button>' in console
    location = _file(client, token_in(console), "button-1", NOISE)
    assert location.endswith("?done=filed")
    assert _ticket(services, location.split("/")[2].split("?")[0]).state == "received"


def test_the_console_points_to_the_emergency_numbers_the_words_call_for(client: TestClient,
                                                                       services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    crash = _draft(client, token, title="", body=CRASH, location="")["emergency"]
    assert [e["to"] for e in crash] == ["122", "120"]
    assert crash[0]["words"] == ["车祸"] and "受伤" in crash[1]["words"] and "救护车" in crash[1]["words"]
    assert crash[0]["label"] == "122 交通事故"
    assert [e["to"] for e in _draft(client, token, title="", body=FIRE, location="")["emergency"]] == ["119"]
    assert _draft(client, token, title="", body=NOISE, location="")["emergency"] == []


def test_the_consoles_handover_files_the_ticket_and_hands_it_over(client: TestClient, services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    location = _file(client, token, "fire-1", FIRE, handover_to="119")
    assert location.endswith("?done=handover")
    number = location.split("/")[2].split("?")[0]
    ticket = _ticket(services, number)
    assert ticket.state == "handed_over" and ticket.handover_to == "119" and ticket.closed_at is not None
    with services.sessions() as session:
        actions = list(session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                       .order_by(TicketEvent.id)))
    assert actions[0] == "receive" and "handover" in actions
    page = client.get(location).text
    assert "119 火警" in page
    # A number that is no emergency service is refused and nothing is filed.
    response = client.post("/operator/tickets", data={
        "csrf_token": token, "form_id": "fire-2", "type": "complaint", "urgency": "normal",
        "phone": "13803910123", "body": FIRE + "！", "handover_to": "999"})
    assert response.status_code == 422
    with services.sessions() as session:
        assert session.scalar(select(Ticket).where(Ticket.body == FIRE + "！")) is None


def _login_http(client: httpx.Client, username: str) -> str:
    """Log in over HTTP; the console's CSRF token."""
    token = token_in(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text
    return token_in(client.get("/operator").text)


def test_proposals_while_typing_are_held_to_the_accounts_limit_across_processes(
        services: Services, small_model: Any, minute_to_spare: None) -> None:
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(drafts_per_operator_per_minute=3))
    services.router.model = small_model
    other = Services.build(services.settings)   # a second process on the same database
    other.router.model = small_model
    try:
        with ServerThread(create_app(services.settings, services)) as first, \
                ServerThread(create_app(other.settings, other)) as second, \
                httpx.Client(base_url=first.url, timeout=60) as one, \
                httpx.Client(base_url=second.url, timeout=60) as two:
            token = _login_http(one, "operator")
            two.cookies.update(one.cookies)   # the same login, served by the other process
            drafts = [one.post("/operator/draft", data={"csrf_token": token, "body": NOISE + "！" * n})
                      for n in range(3)]
            assert [d.status_code for d in drafts] == [200, 200, 200]
            assert all(d.json()["suggestions"] and "limited" not in d.json() for d in drafts)
            # Past the limit, through the other process: no error and no proposal (the console
            # keeps its last one), the words and the wait, and the emergency hint all the same.
            limited = two.post("/operator/draft", data={"csrf_token": token, "body": CRASH})
            assert limited.status_code == 200, limited.text
            answer = limited.json()
            assert "suggestions" not in answer and "分类建议刷新过于频繁" in answer["limited"]
            assert 1 <= answer["retry_after"] <= 60 and f"{answer['retry_after']} 秒后" in answer["limited"]
            assert [e["to"] for e in answer["emergency"]] == ["122", "120"]
            # Another operator's share is their own.
            supervisor_token = _login_http(two, "supervisor")
            theirs = two.post("/operator/draft", data={"csrf_token": supervisor_token, "body": NOISE})
            assert theirs.status_code == 200 and theirs.json()["suggestions"]
    finally:
        other.close()


def test_a_number_typed_on_the_console_shows_its_earlier_tickets_and_flag(client: TestClient,
                                                                         services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    number = _file(client, token, "caller-1", "小区门口路灯坏了。", phone="13803910124").split("/")[2].split("?")[0]
    # Any spelling of the number finds it, as the intake reads it.
    answer = client.get("/operator/caller", params={"phone": "138 0391 0124"}).json()
    assert answer["phone"] == "13803910124"
    assert [(t["number"], t["state_label"]) for t in answer["earlier_tickets"]] == [(number, "已受理")]
    assert answer["flagged"] is None
    assert client.get("/operator/caller", params={"phone": "13803910125"}).json()["earlier_tickets"] == []
    assert client.get("/operator/caller", params={"phone": "12"}).json() == {
        "phone": None, "earlier_tickets": [], "flagged": None}
    client.post("/logout", data={"csrf_token": token})
    login(client, "housing")  # unit staff do not look callers up
    assert client.get("/operator/caller", params={"phone": "13803910124"}).status_code == 403


SMOKE = "楼下着火了，冒了很多烟"


def test_the_consoles_handover_files_an_urgent_request_for_help(client: TestClient, services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    # As the form stands when the operator clicks 即时转 at once: its defaults, 咨询 and 一般.
    location = _file(client, token, "smoke-1", SMOKE, handover_to="119", type="consultation")
    ticket = _ticket(services, location.split("/")[2].split("?")[0])
    assert ticket.state == "handed_over" and ticket.urgency == "urgent" and ticket.request_type == "help"
    # A report the operator chose stays a report, urgent all the same.
    location = _file(client, token, "fight-1", "小区门口有人持刀打架", handover_to="110", type="report")
    ticket = _ticket(services, location.split("/")[2].split("?")[0])
    assert (ticket.request_type, ticket.urgency) == ("report", "urgent")


def test_a_direct_answer_of_words_pointing_to_an_emergency_asks_the_operator_first(
        client: TestClient, services: Services) -> None:
    from dispatch.models import KbArticle
    with services.sessions() as session:
        article = session.scalars(select(KbArticle).where(KbArticle.title == "燃气泄漏怎么办")).one()
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    fields = {"csrf_token": token, "form_id": "smoke-2", "type": "consultation", "urgency": "normal",
              "phone": "13803910123", "body": SMOKE, "answer_article": str(article.id)}
    refused = client.post("/operator/tickets", data=fields)
    assert refused.status_code == 422
    assert "疑似紧急情况（建议即时转 119）" in refused.text and SMOKE in refused.text
    assert f'name="answer_confirmed" value="{article.id}"' in refused.text
    with services.sessions() as session:
        assert session.scalars(select(Ticket).where(Ticket.body == SMOKE)).first() is None
    # The operator has checked: it is no emergency, and the article answers it.
    location = _file(client, token, "smoke-2", SMOKE, type="consultation", answer_confirmed=str(article.id))
    assert location.endswith("?done=answer")
    assert _ticket(services, location.split("/")[2].split("?")[0]).state == "answered"
    # Words that point nowhere are answered at once, as before.
    location = _file(client, token, "gas-1", "请问家里燃气表怎么充值", answer_article=str(article.id))
    assert _ticket(services, location.split("/")[2].split("?")[0]).state == "answered"


def test_the_draft_suggests_the_request_type_its_words_say_even_past_the_limit(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    shown = _draft(client, token, title="", body=NOISE, location="")
    assert shown["request_type"]["type"] == "complaint" and shown["request_type"]["words"] == ["噪音"]
    assert "投诉" in shown["request_type"]["followed"] and shown["request_type"]["take"] == "改为投诉"
    assert _draft(client, token, title="", body="请问公积金怎么提取", location="")["request_type"]["type"] == "consultation"
    assert _draft(client, token, title="", body="人民路", location="")["request_type"] is None
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(drafts_per_operator_per_minute=1))
    limited = _draft(client, token, title="我要举报", body="有人偷排污水", location="")
    assert "limited" in limited and limited["request_type"]["type"] == "report"


def test_the_consoles_type_select_carries_its_default_and_a_place_for_the_hint(client: TestClient) -> None:
    login(client, "operator")
    console = client.get("/operator").text
    assert 'id="intake-type" data-default="consultation"' in console and 'id="type-hint"' in console


def test_each_suggestion_below_the_routing_threshold_is_marked_low_not_only_the_top(
        services: Services, small_model: Any) -> None:
    services.router.model = small_model
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        token = _login_http(http, "operator")

        def draft() -> dict[str, Any]:
            response = http.post("/operator/draft", data={"csrf_token": token, "body": NOISE})
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        first, second, third = (s["probability"] for s in draft()["suggestions"])
        # Routing's threshold between the top unit and the second: the top routes, the others are hints.
        services.router.min_confidence = (first + second) / 2
        shown = draft()
        assert shown["sure"] and [s["low"] for s in shown["suggestions"]] == [False, True, True]
        assert shown["low_label"] == "置信度低"
        # Between the second and the third: only the third is marked.
        services.router.min_confidence = (second + third) / 2
        assert [s["low"] for s in draft()["suggestions"]] == [False, False, True]
        # The console's threshold is routing's own (Router.threshold), whatever decides it.
        services.router.min_confidence = None
        shown = draft()
        assert [s["low"] for s in shown["suggestions"]] == [p < services.router.threshold
                                                           for p in (first, second, third)]
