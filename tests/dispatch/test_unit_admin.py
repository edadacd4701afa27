"""Reading a city file's units for import: every problem named by line and unit, loops of
parents refused, the plan computed against what is stored; two changes of the tree at once
checked one after the other."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, PermissionDenied, Reason
from dispatch.models import Unit
from dispatch.units import DEMO_CITY, City, unit_by_code
from dispatch.unit_admin import UnitImportError, apply_import, parse_units, plan_import, update_unit
from dispatch.vocabulary import Role
from tests.held import held


def test_the_demo_city_file_reads_with_the_line_of_every_unit() -> None:
    text = DEMO_CITY.read_text(encoding="utf-8")
    units = parse_units(text)
    lines = text.splitlines()
    assert len(units) == len(json.loads(text)["units"]) >= 37
    for unit in units:
        # The unit's object opens on its line; its code follows on the next.
        assert lines[unit.line - 1].strip() == "{" and f'"code": "{unit.code}"' in lines[unit.line]


def test_a_bare_list_of_units_is_read_too() -> None:
    units = parse_units('[{"code": "a", "name": "甲"},\n {"code": "b", "name": "乙", "parent": "a", "active": false}]')
    assert [(u.line, u.code, u.kind, u.parent, u.active) for u in units] == [
        (1, "a", "department", None, None), (2, "b", "department", "a", False)]


@pytest.mark.parametrize("text, words", [
    ("", "请粘贴"),
    ('{"city": {}}', '"units"'),
    ('[{"code": "a b", "name": "甲"}]', "code 应为"),
    ('[{"code": "a", "name": "甲", "active": "yes"}]', "active 应为 true 或 false"),
    ('[{"code": "a", "name": "甲\\u0000"}]', "无法保存"),
    ('[\n{"code": "a", "name": "甲"},\n{"code": "a", "name": "乙"}]', "第 3 行（第 2 个单位）：单位 a 重复（第 2 行已有）"),
    ('[1]', "第 1 行（第 1 个单位）：应为一个单位对象"),
    ('[\n{"code": "a", "name": "甲"},\n{"code": "b", "name": " 甲 "}]', "第 3 行（第 2 个单位），单位 b：名称「甲」与第 2 行的单位 a 相同"),
])
def test_bad_units_are_explained(text: str, words: str) -> None:
    with pytest.raises(UnitImportError) as refused:
        parse_units(text)
    assert any(words in p for p in refused.value.problems), refused.value.problems


def test_loops_and_unknown_parents_are_refused_against_what_is_stored(session: Session, units: City) -> None:
    loop = parse_units(json.dumps([{"code": "jiyuan", "name": "济源", "kind": "other", "parent": "housing"}]))
    with pytest.raises(UnitImportError, match="循环"):
        plan_import(session, loop)
    with pytest.raises(UnitImportError, match="既不在文件中，也不在系统中"):
        plan_import(session, parse_units('[{"code": "x", "name": "X", "parent": "nowhere"}]'))


def test_only_administrators_apply_an_import(session: Session, units: City) -> None:
    new = parse_units('[{"code": "reservoir", "name": "水库管理处", "parent": "jiyuan"}]')
    plan = plan_import(session, new)
    assert [c.code for c in plan.added] == ["reservoir"] and plan.changed == [] and len(plan.not_in_file) == len(units.units)
    with pytest.raises(PermissionDenied):
        apply_import(session, Actor("supervisor-li", role=Role.SUPERVISOR), new, plan)
    apply_import(session, Actor("admin-zhou", user_id=None, role=Role.ADMIN), new, plan)
    assert plan_import(session, new).empty


def test_an_import_sets_a_units_duty_phone_and_refuses_a_bad_one(session: Session, units: City) -> None:
    admin = Actor("admin-zhou", user_id=None, role=Role.ADMIN)
    given = parse_units('[{"code": "housing", "name": "济源示范区住房和城乡建设局", "kind": "department", '
                        '"parent": "jiyuan", "duty_phone": "138 0391 0000"}]')
    plan = plan_import(session, given)
    assert [c.changes for c in plan.changed] == [{"duty_phone": (None, "+8613803910000")}]
    apply_import(session, admin, given, plan)
    assert plan_import(session, given).empty
    silent = parse_units('[{"code": "housing", "name": "济源示范区住房和城乡建设局", "kind": "department", '
                         '"parent": "jiyuan"}]')
    assert plan_import(session, silent).empty  # a file that does not say keeps the phone
    with pytest.raises(UnitImportError) as refused:
        parse_units('[{"code": "housing", "name": "住建局", "duty_phone": "12"}]')
    assert "值班电话" in str(refused.value.problems)


def test_a_unit_may_not_take_the_name_another_unit_keeps(session: Session, units: City) -> None:
    from dispatch.errors import InvalidInput, Reason
    from dispatch.unit_admin import update_unit
    from dispatch.units import unit_by_code

    admin = Actor(label="admin", role=Role.ADMIN)
    taken = unit_by_code(session, "housing").name
    with pytest.raises(UnitImportError, match=f"名称「{taken}」已是单位 housing 的名称"):
        plan_import(session, parse_units(json.dumps([{"code": "housing-2", "name": taken}], ensure_ascii=False)))
    water = unit_by_code(session, "water")
    with pytest.raises(InvalidInput) as refused:
        update_unit(session, admin, water.id, name=taken, kind="department", parent_code="jiyuan", active=True)
    assert refused.value.reason is Reason.UNIT_NAME_TAKEN and refused.value.params["code"] == "housing"
    # Swapping names within one file is no clash: neither name stays with the other unit.
    swap = [{"code": "housing", "name": water.name, "parent": "jiyuan"}, {"code": "water", "name": taken, "parent": "jiyuan"}]
    assert len(plan_import(session, parse_units(json.dumps(swap, ensure_ascii=False))).changed) == 2


def test_two_admins_putting_two_units_under_each_other_at_once_make_no_loop(
        engine: Engine, sessions: sessionmaker[Session], units: City) -> None:
    admin = Actor("admin-zhou", user_id=None, role=Role.ADMIN)
    with sessions() as session:
        ids = {code: unit_by_code(session, code).id for code in ("weather", "postal")}
    outcomes: list[str] = []

    def move(code: str, under: str) -> None:
        try:
            with sessions.begin() as session:
                unit = session.get_one(Unit, ids[code])
                update_unit(session, admin, ids[code], name=unit.name, kind=unit.kind, parent_code=under,
                            active=True)
            outcomes.append("moved")
        except InvalidInput as exc:
            outcomes.append("refused: loop" if exc.reason is Reason.PARENT_LOOP else exc.message)

    def reads_the_tree(statement: str) -> bool:
        return "units.parent_id" in statement and statement.lstrip().upper().startswith("SELECT")

    # Hold each change after it read the tree, until the other has read it too. With the
    # tree locked the second cannot read it yet: the wait times out once and the second
    # then reads the first's change. SQLite runs the two one after the other.
    with held(engine, reads_the_tree, 2):
        threads = [threading.Thread(target=move, args=pair) for pair in (("weather", "postal"), ("postal", "weather"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(outcomes) == ["moved", "refused: loop"]
    with sessions() as session:
        parents = {u.code: u.parent_id for u in session.scalars(select(Unit).where(Unit.id.in_(ids.values())))}
    assert not (parents["weather"] == ids["postal"] and parents["postal"] == ids["weather"])
