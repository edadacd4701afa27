"""受理并转办 from the operator console: one click beside a proposed unit files the ticket and
transfers it there, exactly as 受理 and then the ticket page's 转办 of that suggestion would
(events, transfer row, routing feedback: the first proposal accepted, another a correction);
refused with the reason in Chinese, the typed words kept and nothing filed, when there is
no proposal (the model not ready), the unit is retired or the category has no unit. The
ticket page then puts the cursor on what the operator does next."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from starlette.testclient import TestClient

from dispatch.models import RoutingOutcome, Ticket, TicketEvent, Transfer, Unit
from dispatch.routing import corrections
from tests.web.pages_support import login, token_in
from web.services import Services

NOISE = "楼上装修噪音太大，每天早上七点就开始电钻，周末也不停，严重影响休息，请相关部门管一管。"


def _draft(client: TestClient, token: str, body: str) -> dict[str, Any]:
    response = client.post("/operator/draft", data={"csrf_token": token, "title": "", "body": body, "location": ""})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _post(client: TestClient, token: str, form_id: str, body: str, phone: str, **fields: str) -> Any:
    return client.post("/operator/tickets", data={
        "csrf_token": token, "form_id": form_id, "type": "complaint", "urgency": "normal",
        "phone": phone, "body": body, **fields})


def _number(location: str) -> str:
    return location.split("/")[2].split("?")[0]


def _story(services: Services, number: str) -> tuple[Ticket, list[str], RoutingOutcome | None, list[Transfer]]:
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        events = list(session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                      .order_by(TicketEvent.id)))
        outcome = session.get(RoutingOutcome, ticket.id)
        transfers = list(session.scalars(select(Transfer).where(Transfer.ticket_id == ticket.id)))
        session.expunge_all()
        return ticket, events, outcome, transfers


def _filed(services: Services, body: str) -> bool:
    with services.sessions() as session:
        return session.scalar(select(Ticket.id).where(Ticket.body == body)) is not None


def test_one_click_files_and_transfers_as_filing_then_the_ticket_pages_transfer_would(
        client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    proposed = _draft(client, token, NOISE)["suggestions"]
    top = proposed[0]["unit_code"]
    assert top and proposed[0]["refused"] is None

    # The old way: 受理, then 转办 of the top suggestion on the ticket page.
    filed = _post(client, token, "two-steps", NOISE, "13803910001")
    page = client.get(filed.headers["location"]).text
    form = re.search(r'<form method="post" action="(/tickets/[^"]+/transfer)">(.*?)</form>', page, re.S)
    assert form is not None and f'value="{top}"' in form.group(2)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert client.post(form.group(1), data=fields).status_code == 303
    by_page = _story(services, _number(filed.headers["location"]))

    # The console's one click.
    response = _post(client, token, "one-click", NOISE, "13803910002", transfer_to=top)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=filed_transfer")
    by_console = _story(services, _number(response.headers["location"]))

    for ticket, events, outcome, transfers in (by_page, by_console):
        assert ticket.state == "transferred" and ticket.transfer_count == 1
        assert events == ["receive", "transfer"]
        assert [t.outcome for t in transfers] == ["pending"]
        assert outcome is not None and outcome.unit_accepted and not outcome.corrected
    assert by_console[0].unit_id == by_page[0].unit_id and by_console[0].category == by_page[0].category
    assert by_console[0].catalogue_entry_id == by_page[0].catalogue_entry_id
    assert by_console[3][0].routing == by_page[3][0].routing
    assert "已受理并转办" in client.get(response.headers["location"]).text


def test_another_proposed_unit_counts_as_a_correction(client: TestClient, services: Services,
                                                      small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    proposed = _draft(client, token, NOISE)["suggestions"]
    other = next(s["unit_code"] for s in proposed[1:] if s["unit_code"] != proposed[0]["unit_code"])
    response = _post(client, token, "other", NOISE, "13803910003", transfer_to=other)
    assert response.status_code == 303, response.text
    ticket, events, outcome, transfers = _story(services, _number(response.headers["location"]))
    assert ticket.state == "transferred" and events == ["receive", "transfer"]
    assert outcome is not None and outcome.corrected and not outcome.unit_accepted
    assert transfers[0].routing["source"] == "operator" and transfers[0].routing["picked"] == "suggestion"
    with services.sessions() as session:
        assert [e.unit_code for e in corrections(session)] == [other]


def test_a_transfer_with_no_proposal_is_refused_and_the_words_stay(client: TestClient, services: Services) -> None:
    services.router.model = None   # the model not ready: every ticket to manual triage
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    assert _draft(client, token, NOISE)["suggestions"] == []
    response = _post(client, token, "no-model", NOISE, "13803910004", transfer_to="housing")
    assert response.status_code == 422
    assert "没有智能分派建议（分类模型尚未就绪），不能受理并转办" in response.text
    assert NOISE in response.text and "13803910004" in response.text
    assert not _filed(services, NOISE)


def test_a_retired_unit_is_named_in_the_draft_and_refused(client: TestClient, services: Services,
                                                           small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    top = _draft(client, token, NOISE)["suggestions"][0]
    with services.sessions() as session:
        session.execute(update(Unit).where(Unit.code == top["unit_code"]).values(active=False))
        session.commit()
    services.units.clear()
    again = _draft(client, token, NOISE)["suggestions"][0]
    assert again["unit_code"] == top["unit_code"] and "已停用，不能再接收工单" in again["refused"]
    response = _post(client, token, "retired", NOISE, "13803910005", transfer_to=top["unit_code"])
    assert response.status_code == 422 and "已停用，不能再接收工单" in response.text
    assert NOISE in response.text and not _filed(services, NOISE)


def test_a_category_without_a_unit_is_refused(client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    # The last suggestion's unit is the model's category's (the first may be a catalogue entry's).
    category = _draft(client, token, NOISE)["suggestions"][-1]["category"]
    categories = services.router.city.categories
    kept = categories[category]
    categories[category] = "gone"   # a city file naming a unit the units table lacks
    try:
        shown = _draft(client, token, NOISE + "。")["suggestions"]
        gone = next(s for s in shown if s["unit_code"] == "gone")
        assert f"类别「{category}」没有可接收工单的承办单位" in gone["refused"]
        response = _post(client, token, "gone", NOISE, "13803910006", transfer_to="gone")
    finally:
        categories[category] = kept
    assert response.status_code == 422 and f"类别「{category}」没有可接收工单的承办单位" in response.text
    assert NOISE in response.text and not _filed(services, NOISE)


def test_a_unit_not_proposed_for_the_words_is_refused(client: TestClient, services: Services,
                                                       small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    proposed = {s["unit_code"] for s in _draft(client, token, NOISE)["suggestions"]}
    with services.sessions() as session:
        elsewhere = next(u for u in session.scalars(select(Unit.code).where(Unit.active)) if u not in proposed)
    response = _post(client, token, "elsewhere", NOISE, "13803910007", transfer_to=elsewhere)
    assert response.status_code == 422 and "不在当前建议中" in response.text and not _filed(services, NOISE)


def test_the_ticket_page_puts_the_cursor_on_the_next_step_and_offers_the_console(
        client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    # Filed only: the top suggestion's 转办 has the cursor, and the way back is there.
    filed = client.get(_post(client, token, "focus-1", NOISE, "13803910008").headers["location"]).text
    first = re.search(r'<ul class="suggestions" id="suggestions">.*?<button ([^>]*)>', filed, re.S)
    assert first is not None and "autofocus" in first.group(1)
    assert filed.count("autofocus") == 1
    assert re.search(r'<a href="/operator" id="back-to-console">返回话务台</a>', filed)
    # Filed and transferred: nothing left here, 返回话务台 has the cursor.
    top = _draft(client, token, NOISE)["suggestions"][0]["unit_code"]
    done = client.get(_post(client, token, "focus-2", NOISE + "！", "13803910009",
                            transfer_to=top).headers["location"]).text
    assert '<a href="/operator" id="back-to-console" autofocus>返回话务台</a>' in done
    # The ticket opened from a list, with no step just taken: the page as it was.
    number = re.search(r'id="ticket-number">([^<]+)<', done).group(1)  # type: ignore[union-attr]
    plain = client.get(f"/tickets/{number}").text
    assert "autofocus" not in plain and "back-to-console" not in plain


def test_a_repeat_call_of_a_ticket_already_with_a_unit_is_joined_and_not_sent_on_again(
        client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    proposed = _draft(client, token, NOISE)["suggestions"]
    first = _post(client, token, "repeat-1", NOISE, "13803910010", transfer_to=proposed[0]["unit_code"])
    number = _number(first.headers["location"])
    again = _post(client, token, "repeat-2", NOISE, "13803910010", transfer_to=proposed[1]["unit_code"])
    assert again.status_code == 303 and again.headers["location"] == f"/tickets/{number}?done=joined_kept"
    ticket, events, _, transfers = _story(services, number)
    assert ticket.transfer_count == 1 and events == ["receive", "transfer", "repeat_contact"] and len(transfers) == 1
    assert "未再转办" in client.get(again.headers["location"]).text


def test_a_supervisors_own_steps_do_not_point_to_the_console(client: TestClient, services: Services) -> None:
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    number = _number(_post(client, token, "supervisor", NOISE, "13803910011").headers["location"])
    login(client, "supervisor")
    escalated = client.get(f"/tickets/{number}?done=escalate").text
    assert 'id="done"' in escalated and "back-to-console" not in escalated and "autofocus" not in escalated
    # Filed from the console (supervisors may sit there too): the way back is offered.
    assert 'id="back-to-console"' in client.get(f"/tickets/{number}?done=filed").text
