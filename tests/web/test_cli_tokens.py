"""`hotline tokens`: a unit's own system gets a long-lived token that works on the staff
API until an administrator revokes it."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch.units import DEMO_CITY
from web.app import create_app
from web.cli import main
from web.config import Settings


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, **env: str):  # type: ignore[no-untyped-def]
        result = runner.invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url, **env},
                               catch_exceptions=False)
        return result

    return invoke


def test_a_token_made_by_the_cli_works_until_revoked(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert run("units", "import", str(DEMO_CITY)).exit_code == 0
    assert run("users", "add", "housing-system", "--role", "unit_staff", "--unit", "housing",
               HOTLINE_NEW_PASSWORD="long enough password").exit_code == 0
    made = run("tokens", "create", "housing-system", "--name", "住建局业务系统")
    assert made.exit_code == 0, made.output
    token = made.stdout.splitlines()[0].strip()
    assert len(token) >= 43 and "until revoked" in made.stderr
    listed = run("tokens", "list")
    assert "housing-system" in listed.stdout and "住建局业务系统" in listed.stdout and token not in listed.stdout
    # Created now, shown in China time as the pages show it (UTC+8), to the minute.
    created = " ".join(listed.stdout.splitlines()[1].split()[3:5])
    china_now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    assert abs(dt.datetime.strptime(created, "%Y-%m-%d %H:%M") - china_now) < dt.timedelta(minutes=2)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.get("/api/v1/staff/tickets", headers=headers).status_code == 200
        token_id = listed.stdout.splitlines()[1].split()[0]
        assert run("tokens", "revoke", token_id).exit_code == 0
        assert client.get("/api/v1/staff/tickets", headers=headers).status_code == 401


def test_tokens_for_some_days_and_unknown_users(run) -> None:  # type: ignore[no-untyped-def]
    run("units", "import", str(DEMO_CITY))
    run("users", "add", "op", "--role", "operator", HOTLINE_NEW_PASSWORD="long enough password")
    made = run("tokens", "create", "op", "--name", "报表脚本", "--days", "30")
    assert made.exit_code == 0 and "valid 20" in made.stderr
    refused = run("tokens", "create", "nobody", "--name", "x")
    assert refused.exit_code != 0 and "没有账号「nobody」" in refused.output and "no staff" not in refused.output
    assert run("tokens", "revoke", "999").exit_code != 0
