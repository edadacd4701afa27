"""The hotline command, run as an administrator would."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import staff_sessions
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import StaffUser, Unit
from dispatch.staff import authenticate
from dispatch.units import DEMO_CITY
from dispatch.vocabulary import Channel
from web.cli import main


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, **env: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url, **env},
                             catch_exceptions=False)

    return invoke


def test_db_upgrade_is_idempotent(run) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "upgrade").exit_code == 0


def test_units_import_adds_then_updates(run, sessions: sessionmaker[Session], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = run("units", "import", str(DEMO_CITY))
    count = len(json.loads(DEMO_CITY.read_text(encoding="utf-8"))["units"])
    assert first.exit_code == 0 and f"{count} units added" in first.output
    changed = json.loads(DEMO_CITY.read_text(encoding="utf-8"))
    changed["units"][2]["name"] = "济源示范区住房和城乡建设局（新）"
    path = tmp_path / "city.json"
    path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    second = run("units", "import", str(path))
    assert "0 units added, 1 updated" in second.output
    with sessions() as session:
        assert session.scalar(select(Unit.name).where(Unit.code == "housing")) == "济源示范区住房和城乡建设局（新）"
        parent = session.scalar(select(Unit).where(Unit.code == "qinyuan"))
        assert parent is not None and parent.parent_id is not None


def test_units_import_refuses_a_broken_city_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"},
                                "units": [{"code": "a", "name": "A", "parent": "nowhere"}]}))
    result = run("units", "import", str(path))
    assert result.exit_code != 0 and "第 1 行，单位 a：上级单位 nowhere 不在文件中" in result.output


def test_units_import_names_each_bad_unit_by_line_in_chinese_as_the_page_does(  # type: ignore[no-untyped-def]
        run, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [
        {"name": "没有代码"},
        {"code": "x1", "name": "西山", "kind": "街道"},
        {"code": "x2", "name": "东山"},
    ]}, ensure_ascii=False, indent=1), encoding="utf-8")
    result = run("units", "import", str(path))
    assert result.exit_code == 1
    assert "第 7 行（第 1 个单位）：code 应为" in result.stderr
    assert "第 10 行（第 2 个单位），单位 x1：类型 kind 应为 department（部门）" in result.stderr and "街道" in result.stderr
    assert "city.json：2 处错误，没有导入任何单位" in result.stderr
    assert "KeyError" not in result.output and "ValueError" not in result.output
    with sessions() as session:
        assert session.scalar(select(Unit)) is None


def test_units_import_refuses_a_loop_of_parents_and_counts_a_change_of_parent(  # type: ignore[no-untyped-def]
        run, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    units = [{"code": "qingxi", "name": "清溪镇", "kind": "township"},
             {"code": "xishan", "name": "西山街道", "kind": "township", "parent": "qingxi"},
             {"code": "town-hall", "name": "市政府", "kind": "other"}]
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": units}, ensure_ascii=False), encoding="utf-8")
    assert "3 units added" in run("units", "import", str(path)).output
    units[0]["parent"] = "xishan"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": units}, ensure_ascii=False), encoding="utf-8")
    looped = run("units", "import", str(path))
    assert looped.exit_code == 1 and "上级单位形成循环（qingxi → xishan → qingxi）" in looped.stderr
    units[0]["parent"] = "town-hall"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": units}, ensure_ascii=False), encoding="utf-8")
    moved = run("units", "import", str(path))
    assert moved.exit_code == 0 and "0 units added, 1 updated" in moved.output
    with sessions() as session:
        hall = session.scalar(select(Unit).where(Unit.code == "town-hall"))
        assert session.scalar(select(Unit.parent_id).where(Unit.code == "qingxi")) == hall.id


def test_units_import_refuses_two_units_of_one_name(run, sessions: sessionmaker[Session],  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [
        {"code": "water", "name": "水务局"}, {"code": "water2", "name": "水务局"}]}, ensure_ascii=False, indent=1),
        encoding="utf-8")
    twice = run("units", "import", str(path))
    assert twice.exit_code == 1 and "单位 water2：名称「水务局」与第 7 行的单位 water 相同" in twice.stderr
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [{"code": "water", "name": "水务局"}]},
                               ensure_ascii=False), encoding="utf-8")
    assert run("units", "import", str(path)).exit_code == 0
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [{"code": "water-co", "name": "水务局"}]},
                               ensure_ascii=False), encoding="utf-8")
    stored = run("units", "import", str(path))
    assert stored.exit_code == 1 and "单位 water-co：名称「水务局」已是单位 water 的名称" in stored.stderr
    with sessions() as session:
        assert session.scalars(select(Unit.code)).all() == ["water"]


def test_units_import_warns_of_a_catalogue_level_1_without_a_unit(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "tax.csv").write_text("level1,level2,level3\n城乡建设,供水,停水\n教育,学校,收费\n", encoding="utf-8-sig")
    (tmp_path / "x_cat.json").write_text(json.dumps({"taxonomy": "tax.csv", "level1": {"城乡建设": {"unit": "water"}}},
                                                    ensure_ascii=False), encoding="utf-8")
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [{"code": "water", "name": "水务局"}],
                                "catalogue": "x_cat.json"}, ensure_ascii=False), encoding="utf-8")
    result = run("units", "import", str(path))
    assert result.exit_code == 0 and "dispatch catalogue: 2 entries seeded" in result.stdout
    assert "派单目录一级分类「教育」有 1 个类别没有承办单位" in result.stderr and "城乡建设" not in result.stderr


def test_units_import_reads_a_city_file_saved_with_a_bom(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "x", "name": "X"}, "units": [{"code": "a", "name": "甲"}]},
                               ensure_ascii=False), encoding="utf-8-sig")
    result = run("units", "import", str(path))
    assert result.exit_code == 0 and "1 units added" in result.output


def test_users_add_hashes_the_password_and_binds_unit_staff(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    run("units", "import", str(DEMO_CITY))
    result = run("users", "add", "zhang", "--role", "unit_staff", "--unit", "housing",
                 HOTLINE_NEW_PASSWORD="correct horse")
    assert result.exit_code == 0, result.output
    assert run("users", "add", "li", "--role", "unit_staff", HOTLINE_NEW_PASSWORD="correct horse").exit_code != 0
    assert run("users", "add", "wu", "--role", "operator", HOTLINE_NEW_PASSWORD="short").exit_code != 0
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "zhang"))
        assert user is not None and user.password_hash.startswith("$argon2")
        assert "correct horse" not in user.password_hash
        assert authenticate(session, "zhang", "correct horse") is not None
        assert authenticate(session, "zhang", "wrong horse") is None
        assert authenticate(session, "nobody", "correct horse") is None


def test_users_passwd_and_deactivate_end_the_sessions(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "add", "wu", "--role", "operator", HOTLINE_NEW_PASSWORD="correct horse").exit_code == 0
    with sessions.begin() as session:
        user_id = authenticate(session, "wu", "correct horse").id  # type: ignore[union-attr]
        first, second = staff_sessions.create(session, user_id), staff_sessions.create(session, user_id)
        ids = first.id, second.id

    def live() -> int:
        with sessions.begin() as session:
            return sum(staff_sessions.lookup(session, i, idle_timeout=dt.timedelta(hours=1),
                                             max_age=dt.timedelta(hours=2)) is not None for i in ids)

    assert live() == 2
    result = run("users", "passwd", "wu", HOTLINE_NEW_PASSWORD="battery staple")
    assert result.exit_code == 0, result.output
    assert live() == 0
    with sessions.begin() as session:
        assert authenticate(session, "wu", "battery staple") is not None
        ids = (staff_sessions.create(session, user_id).id,)
    assert run("users", "deactivate", "wu").exit_code == 0 and live() == 0
    with sessions.begin() as session:
        assert authenticate(session, "wu", "battery staple") is None
    assert run("users", "deactivate", "nobody").exit_code != 0


def test_report_prints_a_table_and_json(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        intake(session, IntakeRequest(channel=Channel.PHONE, body="噪音扰民", phone="13803910001"), IntakeRules())
    table = run("report")
    assert table.exit_code == 0 and "received" in table.output
    data = json.loads(run("report", "--json").output)
    assert data["tickets"]["received"] == 1 and data["tickets"]["transfer_rate"] == 0.0
    assert run("report", "--since", "2026-02-30").exit_code != 0


def test_report_tables_line_up_chinese_names_and_list_queues_and_agents(run, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    from rich.cells import cell_len

    from dispatch.clock import utcnow
    from dispatch.models import Call

    from dispatch.demo import seed
    from dispatch.units import load_city

    with sessions.begin() as session:
        seed(session, load_city(DEMO_CITY), IntakeRules())  # tickets with units such as 济源示范区住房和城乡建设局
        now = utcnow()
        for i, (queue, agent) in enumerate([("12345", "PJSIP/8001"), ("12345", "PJSIP/8002"), ("投诉专线", None)]):
            session.add(Call(linkedid=f"call-{i}", caller="13800000000", queue=queue, agent=agent, started_at=now,
                             entered_queue_at=now, answered_at=now if agent else None, wait_seconds=12,
                             talk_seconds=90 if agent else 0, outcome="answered" if agent else "abandoned",
                             ring_no_answers=0))
    result = run("report")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "{'" not in out and "}" not in out  # no dict reprs
    assert "按队列 By queue" in out and "投诉专线" in out and "按坐席 By agent" in out and "PJSIP/8002" in out
    # Every line of a table is as wide on screen as its top border, Chinese characters counting two.
    tables: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("┏"):
            tables.append([])
        if line[:1] in "┏┃┡│└":
            tables[-1].append(line)
    assert len(tables) == 6 and "承办单位 By unit" in out and "住房和城乡建设局" in out and "类别 By category" in out
    for rows in tables:
        assert len({cell_len(line) for line in rows}) == 1, "\n".join(rows)
    # The same text measured by characters, as the old report padded it, would not line up.
    assert any(len({len(line) for line in rows}) > 1 for rows in tables)


def test_serve_refuses_several_workers_on_sqlite_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "2"],
                                env={"HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"})
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("Error: SQLite 只能单进程运行") and "needs PostgreSQL" in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "one.db").exists()  # refused before migrating anything


def test_serve_refuses_the_demo_with_several_workers(database_url: str, engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite --workers 2 is refused before --demo is looked at")
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--demo"], env={"HOTLINE_DATABASE_URL": database_url})
    assert result.exit_code == 1 and "演示模式只能单进程运行" in result.output


def test_serve_stops_in_one_line_when_the_database_has_another_citys_units(  # type: ignore[no-untyped-def]
        run, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from web import serving

    started: list[object] = []
    monkeypatch.setattr(serving, "run", lambda app, **options: started.append(app))
    path = tmp_path / "qingxi.json"
    path.write_text(json.dumps({"city": {"code": "qx", "name": "清溪"}, "units": [
        {"code": "qx-gov", "name": "清溪市人民政府", "kind": "other"},
        {"code": "qx-town", "name": "清溪镇", "kind": "township", "parent": "qx-gov"}]}, ensure_ascii=False),
        encoding="utf-8")
    assert run("units", "import", str(path)).exit_code == 0
    result = CliRunner().invoke(main, ["serve", "--port", "1"], env={"HOTLINE_DATABASE_URL": database_url})
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert "数据库中的单位来自另一个城市配置文件" in message and "jiyuan.json（济源）" in message
    assert "HOTLINE_CITY_FILE" in message and "Hotline on" not in message and not started
