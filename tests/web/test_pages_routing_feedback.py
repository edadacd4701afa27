"""The supervisor's dashboard shows the classifier's production figures."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.units import unit_by_code
from dispatch.vocabulary import Role
from tests.dispatch.test_routing_feedback import sure, ticket


def test_the_supervisor_page_shows_the_figures(database_url: str, sessions) -> None:  # type: ignore[no-untyped-def]
    from dispatch.clock import utcnow
    from tests.web.pages_support import client_for, demo_services, login

    services = demo_services(database_url)
    try:
        def file_and_send(session: Session) -> None:
            t = ticket(session, sure("卫生计生", "health"), utcnow(), 7)
            lifecycle.transfer(session, t, unit_by_code(session, "market-regulation"),
                               Actor(label="op", role=Role.OPERATOR), learn_from=services.city)
        services.run_sync(file_and_send)
        for client in client_for(services):
            login(client, "supervisor")
            page = client.get("/supervisor").text
            section = page[page.index('id="table-routing_feedback"'):]
            section = section[:section.index("</section>")]
            # One ticket, routed on its own, corrected by the operator: 0% accepted, 100% automatic and corrected.
            assert "卫生计生" in section and "分类建议采纳情况" in section
            cells = [c for c in section.split("<td")[1:]]
            assert any(">0.0%<" in c for c in cells) and sum(">100.0%<" in c for c in cells) == 2
    finally:
        services.close()
