"""Two people acting on one ticket at the same instant, on real threads: one wins, the other
gets Conflict and nothing of theirs is written. On PostgreSQL the second waits on the
ticket's row lock; SQLite's single writer serialises whole transactions, so there the
same stories run once as a check that the outcome is the same."""
from __future__ import annotations

import threading
from typing import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import co_handling, lifecycle
from dispatch.actions import perform
from dispatch.actors import Actor
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import Conflict, IllegalTransition
from dispatch.models import ExtensionRequest, RoutingExample, Ticket, TicketEvent, Transfer
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

Step = Callable[[Session], object]


def runs(engine: Engine) -> int:
    return 4 if engine.dialect.name == "postgresql" else 1


def race(sessions: sessionmaker[Session], *steps: Step) -> list[str]:
    """Run each step in its own transaction, all released at once; what each one got."""
    barrier = threading.Barrier(len(steps))
    # PostgreSQL: both arrive at once. SQLite: the second waits for the first's write lock.
    wait = 5.0 if sessions.kw["bind"].dialect.name == "postgresql" else 0.2
    results: list[str] = []

    def run(step: Step) -> None:
        try:
            with sessions.begin() as session:
                prepared = step(session)  # reads what the person saw
                try:
                    barrier.wait(timeout=wait)
                except threading.BrokenBarrierError:
                    pass  # SQLite: the other transaction waits for this one's write lock
                assert callable(prepared)
                prepared()
            results.append("ok")
        except (Conflict, IllegalTransition):
            results.append("conflict")
        except Exception as exc:  # noqa: BLE001 - what a 500 would have been
            results.append(f"error: {type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


def in_progress_ticket(sessions: sessionmaker[Session], operator: Actor) -> tuple[int, Actor]:
    with sessions.begin() as session:
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
        staff = unit_staff(session, "housing")
        lifecycle.accept(session, ticket, staff)
        return ticket.id, staff


def test_approve_and_refuse_of_one_extension_at_once_only_one_decides(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor, supervisor: Actor) -> None:
    for _ in range(runs(engine)):
        ticket_id, staff = in_progress_ticket(sessions, operator)
        with sessions.begin() as session:
            request = lifecycle.request_extension(session, session.get_one(Ticket, ticket_id), staff, 3,
                                                  "需要协调多个部门")
            session.flush()
            request_id = request.id

        def decide(approve: bool) -> Step:
            def step(session: Session) -> Callable[[], object]:
                request = session.get_one(ExtensionRequest, request_id)
                return lambda: lifecycle.decide_extension(session, request, supervisor, approve=approve,
                                                          policy=DeadlinePolicy())
            return step

        assert race(sessions, decide(True), decide(False)) == ["conflict", "ok"]
        with sessions() as session:
            status = session.scalar(select(ExtensionRequest.status).where(ExtensionRequest.id == request_id))
            decisions = session.scalars(select(TicketEvent.action).where(
                TicketEvent.ticket_id == ticket_id,
                TicketEvent.action.in_(["approve_extension", "refuse_extension"]))).all()
            assert decisions == [{"approved": "approve_extension", "refused": "refuse_extension"}[status]]


def test_a_double_clicked_extension_request_files_one_request(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    for _ in range(runs(engine)):
        ticket_id, staff = in_progress_ticket(sessions, operator)

        def click(session: Session) -> Callable[[], object]:
            ticket = session.get_one(Ticket, ticket_id)
            return lambda: lifecycle.request_extension(session, ticket, staff, 5, "材料未齐")

        assert race(sessions, click, click) == ["conflict", "ok"]
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(ExtensionRequest)
                                  .where(ExtensionRequest.ticket_id == ticket_id)) == 1


def test_two_corrected_transfers_of_one_ticket_at_once_one_wins(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    """Both operators pick another unit than the one proposed: both would keep a routing
    example (one per ticket), the loser must get Conflict, not a unique violation."""
    for _ in range(runs(engine)):
        with sessions.begin() as session:
            ticket = new_ticket(session)
            ticket.routing = {"unit_code": "ecology-environment", "category": "环境保护", "probability": 0.6,
                              "source": "model"}
            ticket_id = ticket.id

        def transfer_to(code: str) -> Step:
            def step(session: Session) -> Callable[[], object]:
                ticket = session.get_one(Ticket, ticket_id)
                unit = unit_by_code(session, code)
                return lambda: lifecycle.transfer(session, ticket, unit, operator, learn_from=units)
            return step

        assert race(sessions, transfer_to("housing"), transfer_to("transport")) == ["conflict", "ok"]
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Transfer).where(Transfer.ticket_id == ticket_id)) == 1
            assert session.scalar(select(func.count()).select_from(RoutingExample)
                                  .where(RoutingExample.ticket_id == ticket_id)) == 1
            assert session.get_one(Ticket, ticket_id).transfer_count == 1


def co_handled_ticket(sessions: sessionmaker[Session], operator: Actor) -> tuple[int, str, Actor]:
    """In progress with housing, transport's 协办 part still unanswered."""
    with sessions.begin() as session:
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
        co_handling.add_co_units(session, ticket, [unit_by_code(session, "transport")], operator)
        staff = unit_staff(session, "housing")
        lifecycle.accept(session, ticket, staff)
        return ticket.id, ticket.number, staff


def test_two_requests_to_resolve_first_at_once_file_one(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    """先行办结申请 has no table of its own to hold a unique key: the ticket's row lock makes the
    second of two requests (two staff of the lead unit, the page and the API) wait, then find the
    first one open: Conflict, the API's 409. Both through the actions, as the page and the API
    send them, and through the domain function alone."""
    for run in range(runs(engine)):
        ticket_id, number, staff = co_handled_ticket(sessions, operator)

        def ask(reason: str) -> Step:
            def step(session: Session) -> Callable[[], object]:
                ticket = session.get_one(Ticket, ticket_id)   # the page each of them had open
                if run % 2:
                    return lambda: co_handling.request_override(session, ticket, staff, reason)
                return lambda: perform(session, staff, number, "request_override", {"reason": reason})
            return step

        assert race(sessions, ask("交通局三天未答复"), ask("路面已由我局修好")) == ["conflict", "ok"]
        with sessions() as session:
            asked = session.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket_id,
                                                                   TicketEvent.action == "request_override")).all()
            assert len(asked) == 1, (run, asked)
            assert [t.id for _, t, _ in co_handling.pending_override_requests(session) if t.id == ticket_id] == [ticket_id]
