"""Every staff API action a role may never take answers that role 403 before it reads what
was sent: a malformed body from a barred role is refused for the role, not for the body."""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from dispatch import actions
from dispatch.vocabulary import Role
from tests.web.test_api_staff import file, seeded_services, token_for
from web.app import create_app
from web.services import Services

ACCOUNTS = {"op": (Role.OPERATOR, None), "boss": (Role.SUPERVISOR, None), "root": (Role.ADMIN, None),
            "housing": (Role.UNIT_STAFF, "housing")}
ROLES = {role: name for name, (role, _) in ACCOUNTS.items()}
MALFORMED = b'{"reason": "x", '   # cut short: not JSON
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TEMPLATES = "/api/v1/staff/reply_templates"
HANDOVERS = "/api/v1/staff/handovers"
# Staff API writes no role is barred from: each is answered by who the caller is, not their role.
OPEN_TO_EVERY_ROLE = {
    ("/api/v1/auth/token", "POST"): "the login itself",
    ("/api/v1/auth/token", "DELETE"): "revoking the token used",
    ("/api/v1/tickets", "POST"): "the public intake",
    ("/api/v1/staff/tickets/{number}/attachments/{attachment_id}", "DELETE"): "whoever added the photo may remove it",
}


@pytest.fixture
def services(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    yield from seeded_services(database_url, ACCOUNTS)


def write_routes(routes: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from write_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and (prefix + route.path).startswith("/api/"):
            for method in sorted((route.methods or set()) & WRITES):
                yield prefix + route.path, method


def test_every_action_has_the_roles_that_may_take_it() -> None:
    assert set(actions.ACTION_ROLES) == set(actions.HANDLERS)


def test_a_role_that_may_never_act_is_refused_before_its_malformed_body_is_read(services: Services) -> None:
    with TestClient(create_app(services.settings, services)) as client:
        headers = {role: {"Authorization": f"Bearer {token_for(services, name)}", "Content-Type": "application/json"}
                   for role, name in ROLES.items()}
        number = file(client)
        moved = client.post(f"/api/v1/staff/tickets/{number}/transfer", json={"unit": "housing"},
                            headers=headers[Role.SUPERVISOR])
        assert moved.status_code == 200, moved.text   # with the unit: its staff see it
        made = client.post(TEMPLATES, json={"title": "已处理", "text": "您好，已处理。"}, headers=headers[Role.ADMIN])
        assert made.status_code == 201, made.text
        template = made.json()["id"]

        # Each write route and, for each role barred from it, a concrete address to post to.
        barred: dict[tuple[str, str], list[tuple[Role, str]]] = {
            ("/api/v1/staff/tickets/{number}/{action}", "POST"): [
                (role, f"/api/v1/staff/tickets/{number}/{name}") for name in actions.ACTIONS
                for role in Role if role not in actions.ACTION_ROLES[name]]
            + [(role, f"/api/v1/staff/tickets/{number}/{alias}") for alias, name in actions.ACTION_ALIASES.items()
               for role in Role if role not in actions.ACTION_ROLES[name]],
            ("/api/v1/staff/tickets/{number}/override-request/refuse", "POST"): [
                (role, f"/api/v1/staff/tickets/{number}/override-request/refuse")
                for role in Role if role not in actions.ACTION_ROLES["refuse_override"]],
            (TEMPLATES, "POST"): [(Role.OPERATOR, TEMPLATES), (Role.SUPERVISOR, TEMPLATES)],
            (f"{TEMPLATES}/{{template_id}}", "PUT"): [(Role.OPERATOR, f"{TEMPLATES}/{template}"),
                                                      (Role.SUPERVISOR, f"{TEMPLATES}/{template}")],
            (f"{TEMPLATES}/{{template_id}}", "DELETE"): [(Role.OPERATOR, f"{TEMPLATES}/{template}"),
                                                         (Role.SUPERVISOR, f"{TEMPLATES}/{template}")],
            # 交接班 is the operators' (supervisors and admins work the console too).
            (HANDOVERS, "POST"): [(Role.UNIT_STAFF, HANDOVERS)],
            (f"{HANDOVERS}/{{handover_id}}/acknowledge", "POST"): [(Role.UNIT_STAFF, f"{HANDOVERS}/1/acknowledge")],
            # 质检 is the supervisors' (and admins').
            ("/api/v1/quality/inspections", "POST"): [(Role.OPERATOR, "/api/v1/quality/inspections"),
                                                     (Role.UNIT_STAFF, "/api/v1/quality/inspections")],
            # 重新获取 of a picture message's photo is the centre's, as on the ticket page.
            ("/api/v1/staff/tickets/{number}/refetch_media", "POST"): [
                (Role.UNIT_STAFF, f"/api/v1/staff/tickets/{number}/refetch_media")],
        }
        routes = set(write_routes(client.app.routes))   # type: ignore[attr-defined]
        assert routes == set(barred) | set(OPEN_TO_EVERY_ROLE), "a new write route: say who may not use it"

        answers = {}
        for (_, method), cases in barred.items():
            assert cases
            for role, path in cases:
                response = client.request(method, path, content=MALFORMED, headers=headers[role])
                answers[(role.value, method, path)] = (response.status_code, response.json().get("error"))
        wrong = {case: answer for case, answer in answers.items() if answer[0] != 403}
        assert not wrong, wrong
        # Nothing was done: the ticket is still with the unit, as transferred, and the template kept.
        shown = client.get(f"/api/v1/staff/tickets/{number}", headers=headers[Role.SUPERVISOR]).json()
        assert shown["state"] == "transferred"
        assert [t["id"] for t in client.get(TEMPLATES, headers=headers[Role.ADMIN]).json()["templates"]] == [template]
