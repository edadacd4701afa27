"""Builders for the page tests: an app with the demo city, staff and sample tickets, a
client that logs in through the form, and the CSRF token and version a page carries."""
from __future__ import annotations

import re
from typing import Iterator

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch import staff
from dispatch.clock import local_date, utcnow
from dispatch.demo import DEMO_PASSWORD, seed
from dispatch.models import Ticket
from web.app import create_app
from web.config import Settings
from tests import snapshots
from web.services import Services


def demo_services(database_url: str) -> Services:
    services = Services.build(Settings(database_url=database_url))
    seed_demo(services)
    return services


def seed_demo(services: Services) -> None:
    """dispatch.demo.seed() for `services`: into an empty database it comes from the run's
    snapshot of the seeded demo (taken the first time, retaken when a minute old or when
    what the seed depends on differs); into one with rows it runs as it is."""
    def make() -> None:
        services.run_sync(lambda s: seed(s, services.city, services.rules))

    kept = snapshots.of(services.settings.database_url)
    if not kept.is_empty():
        make()
        return
    settings, hasher = services.settings, staff._hasher
    key = (settings.city_file, settings.deadlines_file, settings.max_body_chars, settings.repeat_window_hours,
           hasher.time_cost, hasher.memory_cost, hasher.parallelism, local_date(utcnow()))
    kept.state("demo", key, make)


def client_for(services: Services) -> Iterator[TestClient]:
    app = create_app(services.settings, services)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return token_in(page.text)


def token_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def version_in(html: str) -> int:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found, "the page has no action form"
    return int(found.group(1))


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> None:
    client.cookies.clear()
    response = client.post("/login", data={"csrf_token": csrf(client), "username": username, "password": password})
    assert response.status_code == 303, response.text


def ticket_titled(services: Services, title: str) -> Ticket:
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.title == title))
        assert ticket is not None
        return ticket


def act(client: TestClient, number: str, action: str, **fields: str) -> object:
    """Open the ticket page as the logged-in user and press an action's button. A refused
    form comes back by a redirect too (303, like a step taken): that is a failure here, with
    the page's words; `refusal` is for the forms meant to be refused."""
    response = _post_action(client, number, action, fields)
    if response.status_code == 303 and "?kept=" in response.headers["location"]:
        page = client.get(response.headers["location"]).text
        raise AssertionError(f"the page refused {action}: {_error_of(page)}")
    return response


def refusal(client: TestClient, number: str, action: str, **fields: str) -> str:
    """Press an action's button meant to be refused: the page it comes back to (`refused`)."""
    return refused(client, _post_action(client, number, action, fields))


def _post_action(client: TestClient, number: str, action: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get(f"/tickets/{number}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)), **fields}
    return client.post(f"/tickets/{number}/{action}", data=data)


def _error_of(page: str) -> str:
    found = re.search(r'id="action-error">([^<]*)<', page)
    return found.group(1) if found else "(no error shown)"


def refused(client: TestClient, response: object) -> str:
    """The ticket page a refused form comes back to: a redirect to the page with the kept
    form (so a reload does not post it again), which shows the error and what was typed."""
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/tickets/[^/?]+\?kept=[\w-]+", location), location
    page = client.get(location)
    assert page.status_code == 200, page.text
    assert 'id="action-error"' in page.text, "the page shows no error"
    return page.text
