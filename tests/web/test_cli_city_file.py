"""A new city's file with a mistake in any section besides its units, through the hotline
command as an administrator runs it: every mistake is named in Chinese by its section, its
entry and what is wrong, all of them at once, the command exits 1 without a traceback, and
nothing of the city is written."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.models import CatalogueEntry, Unit
from web.cli import main

CITY: dict[str, Any] = {
    "city": {"code": "qx", "name": "清溪"},
    "units": [{"code": "gov", "name": "清溪市人民政府", "kind": "other"},
              {"code": "housing", "name": "清溪市住建局", "parent": "gov"},
              {"code": "police", "name": "清溪市公安局", "parent": "gov"},
              {"code": "xishan", "name": "西山街道", "kind": "township", "parent": "gov"}],
    "categories": {"城乡建设": "housing", "政法": "police"},
    "local_categories": ["城乡建设"],
    "gazetteer": {"xishan": ["西山街道", "西山"]},
    "routing_rules": [{"phrases": ["传销", "诈骗电话"], "unit": "police"}],
    "catalogue": "qx_catalogue.json",
}
CATALOGUE: dict[str, Any] = {
    "taxonomy": "qx_taxonomy.csv",
    "deadline_classes": {"urgent": {"name": "紧急", "working_days": 1}},
    "level1": {"城乡建设": {"unit": "housing"}, "政法": {"unit": "police"}},
    "level2": {"城乡建设/供水": {"terms": ["停水", "水压"], "deadline_class": "urgent"},
               "城乡建设/物业": {"local": True}},
}
TAXONOMY = "level1,level2,level3\n城乡建设,供水,停水\n城乡建设,物业,收费\n政法,治安,传销\n"
# What a raw Python error looks like on a terminal.
PYTHON_WORDS = ("Traceback", "KeyError", "TypeError", "AttributeError", "ValueError", "JSONDecodeError",
                "FileNotFoundError", "Expecting", "object has no attribute")


def write_city(folder: Path, city: dict[str, Any] | None = None, catalogue: dict[str, Any] | None = None) -> Path:
    (folder / "qx_taxonomy.csv").write_text(TAXONOMY, encoding="utf-8")
    (folder / "qx_catalogue.json").write_text(json.dumps(CATALOGUE if catalogue is None else catalogue,
                                                         ensure_ascii=False, indent=1), encoding="utf-8")
    path = folder / "city.json"
    path.write_text(json.dumps(CITY if city is None else city, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def changed(change: Callable[[dict[str, Any]], object], of: dict[str, Any] = CITY) -> dict[str, Any]:
    copied = copy.deepcopy(of)
    change(copied)
    return copied


@pytest.fixture
def run(database_url: str, sessions: sessionmaker[Session]) -> Callable[..., Result]:
    def invoke(*args: str, **env: str) -> Result:
        return CliRunner().invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url, **env},
                                  catch_exceptions=False)
    return invoke


def refused(result: Result, sessions: sessionmaker[Session]) -> str:
    """The command's words, once sure it refused the file as it should."""
    assert result.exit_code == 1, result.output
    for words in PYTHON_WORDS:
        assert words not in result.output, result.output
    with sessions() as session:
        assert session.scalar(select(func.count(Unit.id))) == 0
        assert session.scalar(select(func.count(CatalogueEntry.id))) == 0
    return result.output


def test_the_city_file_of_this_module_imports(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("units", "import", str(write_city(tmp_path)))
    assert result.exit_code == 0 and "4 units added" in result.stdout
    assert "dispatch catalogue: 3 entries seeded" in result.stdout


CITY_MISTAKES = {
    "city section missing": (changed(lambda c: c.pop("city")), "城市文件缺少 city。"),
    "city name a number": (changed(lambda c: c["city"].update(name=3)), "城市信息（city）的 name 应为文字（加双引号），收到 3。"),
    "a section misspelt": (changed(lambda c: c.update(gazeteer=c.pop("gazetteer"))),
                           "城市文件中的「gazeteer」无法识别，会被忽略（是否写错？可用的有：city、units、categories、"
                           "local_categories、gazetteer、routing_rules、catalogue）。"),
    "categories a list": (changed(lambda c: c.update(categories=["城乡建设", "政法"])),
                          '类别（categories）应为对象 {…}，收到 ["城乡建设", "政法"]。'),
    "a category's unit a list": (changed(lambda c: c["categories"].update({"政法": ["police"]})),
                                 '类别（categories）「政法」应为文字（加双引号），收到 ["police"]。'),
    "a category's unit unknown": (changed(lambda c: c["categories"].update({"政法": "public-security"})),
                                  "类别（categories）「政法」指向不存在的单位「public-security」：单位列表（units）中没有这个 code。"),
    "local categories a string": (changed(lambda c: c.update(local_categories="城乡建设")),
                                  '属地类别（local_categories）应为文字的列表 ["…", …]，收到 "城乡建设"。'),
    "a local category unknown": (changed(lambda c: c.update(local_categories=["城乡建设", "教育"])),
                                 "属地类别（local_categories）中的「教育」不在类别（categories）中。"),
    "place names a string": (changed(lambda c: c["gazetteer"].update(xishan="西山街道")),
                             '地名表（gazetteer）「xishan」应为文字的列表 ["…", …]，收到 "西山街道"。'),
    "places of an unknown unit": (changed(lambda c: c["gazetteer"].update(dongshan=["东山街道"])),
                                  "地名表（gazetteer）中的「dongshan」不是单位列表（units）中的单位 code。"),
    "a place under two units": (changed(lambda c: c["gazetteer"].update(gov=["清溪", "西山"])),
                                "地名表（gazetteer）中的地名「西山」同时列在「xishan」和「gov」下，无法判断属地，请只保留一处。"),
    "a place of one character": (changed(lambda c: c["gazetteer"].update(xishan=["西山街道", "西"])),
                                 "地名表（gazetteer）「xishan」中的地名「西」不足 2 个字"),
    "routing rules an object": (changed(lambda c: c.update(routing_rules={"phrases": ["传销"], "unit": "police"})),
                                "分派规则（routing_rules）应为列表 […]"),
    "a routing rule a string": (changed(lambda c: c.update(routing_rules=["传销 -> police"])),
                                '分派规则（routing_rules）第 1 条应为对象 {…}，收到 "传销 -> police"。'),
    "a routing rule without phrases": (changed(lambda c: c["routing_rules"][0].pop("phrases")),
                                       "分派规则（routing_rules）第 1 条缺少 phrases。"),
    "a routing rule's unit unknown": (changed(lambda c: c["routing_rules"][0].update(unit="public-security")),
                                      "分派规则（routing_rules）第 1 条指向不存在的单位「public-security」"),
    "a phrase of one character": (changed(lambda c: c["routing_rules"][0].update(phrases=["传销", "骗"])),
                                  "分派规则（routing_rules）第 1 条的关键词「骗」应为 2 到 30 个字。"),
    "a routing rule's key misspelt": (changed(lambda c: c["routing_rules"][0].update(units="police")),
                                      "分派规则（routing_rules）第 1 条中的「units」无法识别"),
    "the catalogue file missing": (changed(lambda c: c.update(catalogue="qx_catalog.json")),
                                   "找不到派单目录配置文件 "),
}


@pytest.mark.parametrize("city, words", CITY_MISTAKES.values(), ids=CITY_MISTAKES.keys())
def test_a_mistake_in_a_section_of_the_city_file_is_named_in_chinese(
        run: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path, city: dict[str, Any],
        words: str) -> None:
    output = refused(run("units", "import", str(write_city(tmp_path, city))), sessions)
    assert words in output, output
    assert "city.json：1 处错误，没有导入任何单位。" in output


CATALOGUE_MISTAKES = {
    "a unit unknown": (changed(lambda c: c["level1"]["政法"].update(unit="public-security"), CATALOGUE),
                       "派单目录的一级分类（level1）「政法」的承办单位「public-security」不是单位列表（units）中的单位 code。"),
    "a unit a number": (changed(lambda c: c["level1"]["政法"].update(unit=7), CATALOGUE),
                        "派单目录的一级分类（level1）「政法」的 unit 应为文字或 null，收到 7。"),
    "a category the taxonomy lacks": (changed(lambda c: c["level2"].update({"城乡建设/供电": {"unit": "housing"}}),
                                              CATALOGUE),
                                      "派单目录的二级分类（level2）「城乡建设/供电」不在分类表中：这一层的名称应写作分类表中的「一级分类/二级分类」。"),
    "a deadline class undefined": (changed(lambda c: c["level2"]["城乡建设/供水"].update(deadline_class="slow"), CATALOGUE),
                                   "派单目录的二级分类（level2）「城乡建设/供水」的办理时限类别「slow」不在 deadline_classes 中。"),
    "working days in words": (changed(lambda c: c["deadline_classes"]["urgent"].update(working_days="一天"), CATALOGUE),
                              "派单目录的办理时限类别（deadline_classes）「urgent」的 working_days 应为正整数，收到 \"一天\"。"),
    "terms a string": (changed(lambda c: c["level2"]["城乡建设/供水"].update(terms="停水"), CATALOGUE),
                       "派单目录的二级分类（level2）「城乡建设/供水」的 terms 应为文字的列表"),
    "local a string": (changed(lambda c: c["level2"]["城乡建设/物业"].update(local="是"), CATALOGUE),
                       "派单目录的二级分类（level2）「城乡建设/物业」的 local 应为true 或 false"),
    "the taxonomy missing": (changed(lambda c: c.update(taxonomy="qx_tax.csv"), CATALOGUE), "找不到派单目录分类表文件 "),
    "no taxonomy": (changed(lambda c: c.pop("taxonomy"), CATALOGUE), "派单目录文件「qx_catalogue.json」缺少 taxonomy。"),
}


@pytest.mark.parametrize("catalogue, words", CATALOGUE_MISTAKES.values(), ids=CATALOGUE_MISTAKES.keys())
def test_a_mistake_in_the_catalogue_the_city_file_names_is_named_in_chinese(
        run: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path, catalogue: dict[str, Any],
        words: str) -> None:
    output = refused(run("units", "import", str(write_city(tmp_path, catalogue=catalogue))), sessions)
    assert words in output, output


def test_a_name_written_twice_in_a_section_is_refused_rather_than_the_first_lost(
        run: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_city(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"政法": "police"', '"政法": "police",\n  "城乡建设": "police"', 1)
                    .replace('"gazetteer": {', '"gazetteer": {\n  "xishan": ["西山镇"],', 1), encoding="utf-8")
    output = refused(run("units", "import", str(path)), sessions)
    assert "类别（categories）中的「城乡建设」写了不止一次，只有最后一个会生效：请合并或删去重复的。" in output
    assert "地名表（gazetteer）中的「xishan」写了不止一次" in output and "city.json：2 处错误" in output


@pytest.mark.parametrize("content, words", [
    (b"", "文件 city.json 是空的。"),
    (b" \n\n", "文件 city.json 是空的。"),
    (json.dumps(CITY, ensure_ascii=False, indent=1).replace('"categories": {', '"categories": {,', 1).encode(),
     "文件 city.json 第 29 行第 17 列：JSON 格式有误，这里应为加双引号的名称（多了逗号，或名称没有加双引号）。"),
    (json.dumps(CITY, ensure_ascii=False, indent=1).replace('"清溪"', '"清溪', 1).encode(),
     "文件 city.json 第 4 行"),
    (json.dumps(CITY, ensure_ascii=False, indent=1).encode("gbk"), "文件 city.json 不是 UTF-8 编码的文本"),
    (b"[]", "城市文件应为对象 {…}，收到 []。"),
], ids=["empty", "blank", "a comma too many", "a quote missing", "GBK", "a list"])
def test_a_city_file_that_is_no_json_object_is_named_in_chinese(
        run: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path, content: bytes,
        words: str) -> None:
    path = write_city(tmp_path)
    path.write_bytes(content)
    output = refused(run("units", "import", str(path)), sessions)
    assert words in output and "city.json：1 处错误，没有导入任何单位。" in output, output


def test_a_city_file_that_is_not_there_is_named_in_chinese(
        run: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path) -> None:
    output = refused(run("units", "import", str(tmp_path / "qingxi.json")), sessions)
    assert f"找不到城市配置文件 {tmp_path / 'qingxi.json'}。" in output, output


def test_every_mistake_of_a_file_is_named_at_once_and_serve_stops_on_them_too(
        run: Callable[..., Result], sessions: sessionmaker[Session], database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from web import serving

    def mistakes(c: dict[str, Any]) -> None:
        c["categories"]["政法"] = "public-security"
        c["gazetteer"]["xishan"] = "西山街道"
        c["routing_rules"].append({"phrases": "传销", "unit": "police"})

    catalogue = changed(lambda c: c["level2"]["城乡建设/供水"].update(deadline_class="slow"), CATALOGUE)
    path = write_city(tmp_path, changed(mistakes), catalogue)
    output = refused(run("units", "import", str(path)), sessions)
    assert "city.json：4 处错误，没有导入任何单位。" in output
    started: list[object] = []
    monkeypatch.setattr(serving, "run", lambda app, **options: started.append(app))
    served = run("serve", "--port", "1", HOTLINE_CITY_FILE=str(path))
    assert served.exit_code == 1 and not started
    for words in ("类别（categories）「政法」指向不存在的单位「public-security」", "地名表（gazetteer）「xishan」应为文字的列表",
                  "分派规则（routing_rules）第 2 条的 phrases 应为文字的列表", "办理时限类别「slow」不在 deadline_classes 中",
                  "city.json 有 4 处错误，其中的内容都没有使用。"):
        assert words in served.output, served.output
    assert "Traceback" not in served.output and "Hotline on" not in served.output
