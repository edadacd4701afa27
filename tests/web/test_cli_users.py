"""`hotline users list | set-password | set-extension | reactivate | deactivate` and `hotline units list`,
run as an administrator would."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import api_tokens, staff_sessions
from dispatch.models import ApiToken, StaffActivity, StaffUser
from dispatch.staff import authenticate
from dispatch.units import DEMO_CITY, load_city
from web.cli import main
from web.cli_users import table, width


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, **env: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), input=input, env={"HOTLINE_DATABASE_URL": database_url, **env},
                             catch_exceptions=False)

    run_ = invoke
    assert run_("units", "import", str(DEMO_CITY)).exit_code == 0
    assert run_("users", "add", "wang", "--role", "unit_staff", "--unit", "housing", "--name", "王芳",
                HOTLINE_NEW_PASSWORD="correct horse").exit_code == 0
    assert run_("users", "add", "root", "--role", "admin", HOTLINE_NEW_PASSWORD="correct horse").exit_code == 0
    return invoke


@pytest.mark.parametrize("username", ["Wang", "ｗａｎｇ", "ROOT"])
def test_users_add_refuses_a_lookalike_of_an_existing_account(run, sessions: sessionmaker[Session],  # type: ignore[no-untyped-def]
                                                              username: str) -> None:
    result = run("users", "add", username, "--role", "admin", HOTLINE_NEW_PASSWORD="correct horse")
    assert result.exit_code != 0 and "只差大小写或全角半角" in result.output
    with sessions() as session:
        assert sorted(session.scalars(select(StaffUser.username))) == ["root", "wang"]


def test_users_add_refuses_a_unit_for_a_role_without_one(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "add", "boss", "--role", "supervisor", "--unit", "housing", HOTLINE_NEW_PASSWORD="correct horse")
    assert result.exit_code != 0 and "只有承办单位人员属于单位，督办员不属于任何单位" in result.output, result.output
    with sessions() as session:
        assert session.scalar(select(StaffUser.id).where(StaffUser.username == "boss")) is None


def test_users_list_prints_an_aligned_table(run) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["user", "name", "role", "unit", "extension", "active", "last", "login"]
    wang = next(line for line in lines if line.startswith("wang"))
    assert "王芳" in wang and "unit staff" in wang and "housing" in wang and "yes" in wang
    # Columns line up under the headings, counting a Chinese character as two.
    assert width(wang[:wang.index("unit staff")]) == lines[0].index("role")


def test_set_password_from_stdin_ends_sessions_and_tokens(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "wang"))
        live = staff_sessions.create(session, user.id).id
        api_tokens.create(session, user, "住建局业务系统", lifetime=None)
    result = run("users", "set-password", "wang", "--password-stdin", input="battery staple\n")
    assert result.exit_code == 0, result.output
    with sessions.begin() as session:
        assert authenticate(session, "wang", "correct horse") is None
        assert authenticate(session, "wang", "battery staple") is not None
        assert staff_sessions.lookup(session, live, idle_timeout=dt.timedelta(hours=1),
                                     max_age=dt.timedelta(hours=2)) is None
        assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken)))
        logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "password_reset")).all()
        assert [(a.actor, a.target) for a in logged] == [("cli", "wang")]
    weak = run("users", "set-password", "wang", "--password-stdin", input="short\n")
    assert weak.exit_code != 0 and "密码至少 8 个字符" in weak.output
    assert run("users", "set-password", "nobody", "--password-stdin", input="battery staple\n").exit_code != 0


def test_set_password_asks_twice_when_not_piped(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "set-password", "wang", input="battery staple\nbattery staple\n")
    assert result.exit_code == 0, result.output
    with sessions.begin() as session:
        assert authenticate(session, "wang", "battery staple") is not None


def test_deactivate_and_reactivate(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "deactivate", "wang").exit_code == 0
    assert "no" in next(line for line in run("users", "list").stdout.splitlines() if line.startswith("wang"))
    assert run("users", "reactivate", "wang").exit_code == 0
    with sessions.begin() as session:
        assert authenticate(session, "wang", "correct horse") is not None
        logged = session.scalars(select(StaffActivity.kind).where(StaffActivity.target == "wang")
                                 .order_by(StaffActivity.id)).all()
        assert logged == ["user_added", "user_deactivated", "user_reactivated"]  # the old command logs too now


def test_an_unknown_account_is_refused_in_chinese(run) -> None:  # type: ignore[no-untyped-def]
    refused = run("users", "deactivate", "nosuch")
    assert refused.exit_code != 0 and "没有账号「nosuch」" in refused.output and "no staff" not in refused.output


def test_units_list(run) -> None:  # type: ignore[no-untyped-def]
    result = run("units", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "kind", "parent", "active", "staff"]
    housing = next(line for line in lines if line.startswith("housing "))
    assert "住房和城乡建设局" in housing and "department" in housing and "jiyuan" in housing and housing.endswith("1")
    assert len(lines) == 2 + len(load_city(DEMO_CITY).units)


def test_units_retire_hands_a_units_open_tickets_to_its_successor(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    from dispatch import lifecycle
    from dispatch.actors import Actor
    from dispatch.models import Ticket, TicketEvent
    from dispatch.units import unit_by_code
    from dispatch.vocabulary import Role
    from tests.dispatch.helpers import new_ticket

    with sessions.begin() as session:
        ticket = new_ticket(session, body="燃气表漏气。")
        lifecycle.transfer(session, ticket, unit_by_code(session, "gas"), Actor("operator-wang", role=Role.OPERATOR))
        number = ticket.number
    refused = run("units", "retire", "gas")
    assert refused.exit_code != 0 and "还有 1 件未办完的工单" in refused.output
    done = run("units", "retire", "gas", "--successor", "water", "--reason", "燃气公司并入水务公司")
    assert done.exit_code == 0, done.output
    assert "gas retired; its open work moved to water" in done.output
    with sessions() as session:
        assert not unit_by_code(session, "gas").active
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.unit_id == unit_by_code(session, "water").id
        last = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                               .order_by(TicketEvent.id.desc())).first()
        assert last.action == "succession" and last.actor == "cli" and last.note == "燃气公司并入水务公司"


def test_table_pads_chinese_by_display_width() -> None:
    text = table(["a", "b"], [["济源", "x"], ["ab", "y"]])
    rows = text.splitlines()
    assert width(rows[2][:rows[2].index("x")]) == width(rows[3][:rows[3].index("y")]) == 6


def test_an_operators_phone_extension_is_set_listed_refused_when_taken_and_cleared(
        run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "add", "li", "--role", "operator", "--extension", "7002",
               HOTLINE_NEW_PASSWORD="correct horse").exit_code == 0
    assert run("users", "set-extension", "root", "PJSIP/7001").exit_code == 0
    lines = run("users", "list").stdout.splitlines()
    assert "7001" in next(line for line in lines if line.startswith("root"))
    assert "7002" in next(line for line in lines if line.startswith("li "))
    taken = run("users", "set-extension", "wang", "7002")
    assert taken.exit_code != 0 and "分机号 7002 已属于账号「li」" in taken.output
    assert run("users", "set-extension", "root").exit_code == 0
    with sessions.begin() as session:
        extensions = dict(session.execute(select(StaffUser.username, StaffUser.phone_extension)).all())
        assert extensions == {"wang": None, "root": None, "li": "7002"}
        changed = session.scalars(select(StaffActivity).where(StaffActivity.kind == "user_changed")).all()
        assert [(a.target, a.detail) for a in changed] == [("root", {"phone_extension": [None, "7001"]}),
                                                           ("root", {"phone_extension": ["7001", None]})]


def test_users_add_is_in_the_activity_log_as_the_page_logs_it(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "add", "zhao", "--role", "operator", "--extension", "7003",
               HOTLINE_NEW_PASSWORD="correct horse").exit_code == 0
    refused = run("users", "add", "qian", "--role", "operator", "--unit", "housing", HOTLINE_NEW_PASSWORD="correct horse")
    assert refused.exit_code != 0
    with sessions.begin() as session:
        added = session.scalars(select(StaffActivity).where(StaffActivity.kind == "user_added")
                                .order_by(StaffActivity.id)).all()
        assert [(a.actor, a.target) for a in added] == [("cli", "wang"), ("cli", "root"), ("cli", "zhao")]
        assert added[0].detail == {"role": "unit_staff", "unit": "housing", "generated": False}
        assert added[2].detail == {"role": "operator", "unit": None, "generated": False, "phone_extension": "7003"}
        assert "correct horse" not in str([a.detail for a in added])
        assert session.scalar(select(StaffUser.id).where(StaffUser.username == "qian")) is None
