"""Loading a city file: its units are checked as the units page's import checks them, each
problem named by line and unit in Chinese, and a file saved with a BOM reads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dispatch.errors import InvalidInput, Reason
from dispatch.unit_admin import UnitImportError
from dispatch.units import DEMO_CITY, check_stored_units, import_units, load_city
from web.messages import describe


def _city(tmp_path: Path, units: list[dict], encoding: str = "utf-8") -> Path:  # type: ignore[type-arg]
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "t", "name": "测试市"}, "units": units}, ensure_ascii=False, indent=1),
                    encoding=encoding)
    return path


@pytest.mark.parametrize("units, words", [
    ([{"name": "无代码"}], "第 7 行（第 1 个单位）：code 应为"),
    ([{"code": "x1", "name": "西山", "kind": "街道"}], "第 7 行（第 1 个单位），单位 x1：类型 kind 应为"),
    ([{"code": "x1", "name": "  "}], "单位 x1：名称不能为空"),
    ([{"code": "x1", "name": "西山", "parent": "nowhere"}], "单位 x1：上级单位 nowhere 不在文件中"),
    ([{"code": "a", "name": "甲", "parent": "b"}, {"code": "b", "name": "乙", "parent": "a"}], "上级单位形成循环（a → b → a）"),
])
def test_a_bad_unit_is_named_by_line_and_unit(tmp_path: Path, units: list[dict], words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UnitImportError) as refused:
        load_city(_city(tmp_path, units))
    assert any(words in p for p in refused.value.problems), refused.value.problems


def test_a_city_file_saved_with_a_bom_loads(tmp_path: Path) -> None:
    city = load_city(_city(tmp_path, [{"code": "a", "name": "甲", "kind": "township"}], encoding="utf-8-sig"))
    assert [(u.code, u.name, u.kind.value, u.line) for u in city.units] == [("a", "甲", "township", 7)]


def test_a_database_of_another_citys_units_is_refused_and_one_without_units_is_not(
        session: Session, tmp_path: Path) -> None:
    other = load_city(_city(tmp_path, [{"code": "qx-gov", "name": "清溪市人民政府", "kind": "other"}]))
    demo = load_city(DEMO_CITY)
    check_stored_units(session, demo, "jiyuan.json")   # nothing imported yet: a city being set up
    import_units(session, other)
    check_stored_units(session, other, "city.json")
    with pytest.raises(InvalidInput) as refused:
        check_stored_units(session, demo, "jiyuan.json")
    assert refused.value.reason is Reason.UNITS_FROM_ANOTHER_CITY
    assert "HOTLINE_CITY_FILE" in describe(refused.value) and "jiyuan.json（济源）" in describe(refused.value)
