"""The figures cache computes a period's figures once per change marker and China minute,
and again as soon as either moves; the stats API and the dashboard serve from it and still
show a change made by another process (straight into the database) on the next request."""
from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from starlette.testclient import TestClient

from dispatch import lifecycle, rollup
from dispatch.actors import Actor
from dispatch.units import unit_by_code
from dispatch.vocabulary import Role
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import login
from web.pages.figures_cache import FiguresCache
from web.services import Services


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_figures_are_computed_again_when_the_marker_moves_or_the_minute_turns() -> None:
    clock = Clock(dt.datetime(2026, 12, 4, 9, 30, 5, tzinfo=dt.timezone.utc))   # 17:30:05 in China
    cache = FiguresCache(clock=clock)
    computed: list[tuple[str, dt.datetime]] = []

    async def ask(key: str, marker: tuple[int, int]) -> str:
        async def build(now: dt.datetime) -> str:
            computed.append((key, now))
            return f"{key} at {marker} #{len(computed)}"
        return await cache.get(key, marker, build)

    async def story() -> None:
        assert await ask("month", (10, 3)) == "month at (10, 3) #1"
        assert await ask("month", (10, 3)) == "month at (10, 3) #1"   # same marker, same minute: kept
        assert await ask("year", (10, 3)) == "year at (10, 3) #2"     # each period its own
        assert await ask("month", (11, 3)) == "month at (11, 3) #3"   # a ticket changed
        assert await ask("month", (11, 4)) == "month at (11, 4) #4"   # a call came in
        clock.now += dt.timedelta(seconds=50)                          # 17:30:55: the same minute
        assert await ask("month", (11, 4)) == "month at (11, 4) #4"
        clock.now += dt.timedelta(seconds=10)                          # 17:31:05: 超期 may have grown
        assert await ask("month", (11, 4)) == "month at (11, 4) #5"
        assert computed[-1] == ("month", clock.now)

    asyncio.run(story())


def test_requests_at_once_wait_for_one_computation() -> None:
    cache = FiguresCache()
    computed = 0

    async def build(now: dt.datetime) -> int:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.05)
        return computed

    async def story() -> list[int]:
        return list(await asyncio.gather(*(cache.get("month", (1, 1), build) for _ in range(10))))

    assert asyncio.run(story()) == [1] * 10 and computed == 1


def test_a_failed_computation_is_not_kept() -> None:
    cache = FiguresCache()

    async def fails(now: dt.datetime) -> int:
        raise RuntimeError("database gone")

    async def works(now: dt.datetime) -> int:
        return 7

    async def story() -> int:
        try:
            await cache.get("month", (1, 1), fails)
        except RuntimeError:
            pass
        return await cache.get("month", (1, 1), works)

    assert asyncio.run(story()) == 7


def test_only_the_most_recent_periods_are_kept() -> None:
    cache = FiguresCache(entries=2)
    computed: list[str] = []

    async def ask(key: str) -> None:
        async def build(now: dt.datetime) -> str:
            computed.append(key)
            return key
        await cache.get(key, (1, 1), build)

    async def story() -> None:
        for key in ("a", "b", "a", "c", "a", "b"):
            await ask(key)

    asyncio.run(story())
    assert computed == ["a", "b", "c", "b"]   # "b" was the least recent when "c" came


def test_the_stats_api_shows_a_ticket_written_by_another_process_at_once(client: TestClient,
                                                                          services: Services) -> None:
    before = client.get("/api/v1/stats").json()["tickets"]["received"]
    builds = client.app.state.site.figures.builds  # type: ignore[attr-defined]
    assert client.get("/api/v1/stats").json()["tickets"]["received"] == before
    assert client.app.state.site.figures.builds == builds   # type: ignore[attr-defined]  # from the cache
    services.run_sync(lambda s: new_ticket(s, services.rules))   # not through this process's routes
    assert client.get("/api/v1/stats").json()["tickets"]["received"] == before + 1


def test_the_dashboard_shows_a_change_made_by_another_process_at_once(client: TestClient,
                                                                      services: Services) -> None:
    def pending(page: str) -> str:
        head = page[page.index('id="table-returned"'):]
        return re.search(r'<span class="count">(\d+)</span>', head).group(1)  # type: ignore[union-attr]

    number = services.run_sync(lambda s: new_ticket(s, services.rules).number)
    login(client, "supervisor")
    first = client.get("/supervisor").text
    assert client.get("/supervisor").text == first   # figures and lists from the cache

    def bounce(session) -> None:  # type: ignore[no-untyped-def]
        from dispatch.public import ticket_by_number
        from tests.conftest import unit_staff
        ticket = ticket_by_number(session, number)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), Actor(label="op", role=Role.OPERATOR))
        lifecycle.return_ticket(session, ticket, unit_staff(session, "housing"), "非本单位职责")

    services.run_sync(bounce)
    after = client.get("/supervisor").text
    assert int(pending(after)) == int(pending(first)) + 1 and number in after


def test_the_inbox_and_the_console_show_a_ticket_written_by_another_process_at_once(client: TestClient,
                                                                                  services: Services) -> None:
    waiting = services.run_sync(lambda s: new_ticket(s, services.rules).number)
    login(client, "operator")
    console = client.get("/operator").text
    assert waiting in console
    assert client.get("/operator").text.count(waiting) == console.count(waiting)
    builds = client.app.state.site.figures.builds  # type: ignore[attr-defined]
    client.get("/operator")
    assert client.app.state.site.figures.builds == builds   # type: ignore[attr-defined]  # the queue from the cache
    newer = services.run_sync(lambda s: new_ticket(s, services.rules).number)
    assert newer in client.get("/operator").text

    client.cookies.clear()
    login(client, "housing")
    assert waiting not in client.get("/unit").text

    def transfer(session) -> None:  # type: ignore[no-untyped-def]
        from dispatch.public import ticket_by_number
        lifecycle.transfer(session, ticket_by_number(session, waiting), unit_by_code(session, "housing"),
                           Actor(label="op", role=Role.OPERATOR))

    services.run_sync(transfer)
    assert waiting in client.get("/unit").text


def test_a_page_read_with_the_session_check_is_not_shown_to_another_role_or_a_revoked_session(
        client: TestClient, services: Services) -> None:
    from sqlalchemy import update

    from dispatch.models import StaffSession

    login(client, "operator")
    for path in ("/unit", "/supervisor"):
        assert client.get(path, follow_redirects=False).status_code == 403
    assert client.get("/operator").status_code == 200
    client.cookies.clear()
    login(client, "supervisor")
    assert client.get("/supervisor").status_code == 200
    services.run_sync(lambda s: s.execute(update(StaffSession).values(revoked_at=dt.datetime.now(dt.timezone.utc))))
    refused = client.get("/supervisor", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_the_console_lists_a_ticket_resolved_by_another_process_for_its_follow_up_at_once(
        client: TestClient, services: Services) -> None:
    number = services.run_sync(lambda s: new_ticket(s, services.rules, phone="13803912000").number)
    login(client, "operator")

    def follow_ups(page: str) -> str:
        return page[page.index('id="follow-ups"'):].split("</table>")[0]

    assert number not in follow_ups(client.get("/operator").text)

    def resolve(session) -> None:  # type: ignore[no-untyped-def]
        from dispatch.public import ticket_by_number
        from tests.conftest import unit_staff
        ticket, staff = ticket_by_number(session, number), unit_staff(session, "housing")
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), Actor(label="op", role=Role.OPERATOR))
        lifecycle.accept(session, ticket, staff)
        lifecycle.resolve(session, ticket, staff, "已修好，经现场核实问题已解决")

    services.run_sync(resolve)
    assert number in follow_ups(client.get("/operator").text)


def test_the_dashboard_tables_rendered_once_carry_each_session_its_own_token_and_the_latest_failed_texts(
        client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from dispatch.clock import utcnow
    from dispatch.models import OutboxMessage, Ticket
    from dispatch.public import ticket_by_number
    from tests.web.pages_support import token_in

    number = services.run_sync(lambda s: new_ticket(s, services.rules).number)

    def overdue(session) -> None:  # type: ignore[no-untyped-def]
        ticket = ticket_by_number(session, number)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), Actor(label="op", role=Role.OPERATOR))
        session.execute(update(Ticket).where(Ticket.id == ticket.id)
                        .values(deadline=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)))
        # The running totals count yesterday's deadlines: moved by hand, they are rebuilt (past
        # China midnight the deadline 2 hours ago is yesterday's, and the list was empty).
        rollup.rebuild(session)

    services.run_sync(overdue)
    # One China minute for both pages: an entry is made again at a minute's turn.
    moment = utcnow()
    monkeypatch.setattr(client.app.state.site.figures, "_clock", lambda: moment)  # type: ignore[attr-defined]
    pages = []
    for _ in range(2):   # two supervisors' sessions: the second page's tables come from the cache
        login(client, "supervisor")
        page = client.get("/supervisor").text
        builds = client.app.state.site.figures.builds  # type: ignore[attr-defined]
        pages.append((page, builds))
    (first, built), (second, built_again) = pages
    assert built_again == built and "\x00" not in first + second
    escalate = f'action="/tickets/{number}/escalate"'
    for page in (first, second):
        form = page[page.index(escalate):].split("</form>")[0]
        assert f'name="csrf_token" value="{token_in(page)}"' in form
    assert token_in(first) != token_in(second)
    form = second[second.index(escalate):].split("</form>")[0]
    version = re.search(r'name="expected_version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    done = client.post(f"/tickets/{number}/escalate", data={"csrf_token": token_in(second), "expected_version": version,
                                                            "back": "/supervisor", "text": "请尽快办理。"})
    assert done.status_code == 303, done.text   # the token the cached tables carried was taken
    assert "已督办" in client.get(done.headers["location"]).text

    with services.sessions.begin() as session:   # a failed text writes no ticket event
        now = utcnow()
        session.add(OutboxMessage(kind="transferred", recipient="+8613803910003", body="…", created_at=now,
                                  status="submitted", attempts=1, next_attempt_at=now, provider_sid="SMfailed0002",
                                  delivery_status="undelivered", error_code="30007"))
    page = client.get("/supervisor").text
    assert "30007" in page[page.index('id="table-sms_failed"'):]
