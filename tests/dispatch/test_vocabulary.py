"""The domain's Chinese words live in its label modules (dispatch/vocabulary.py), not inline in
the modules that say them: one place to read and change what people are told."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch import routing, unit_admin
from dispatch.errors import InvalidInput
from dispatch.units import City
from tests.inline_words import chinese_constants

ROOT = Path(__file__).resolve().parents[2]
# Modules whose words were moved: their problem messages and reasons, word for word as before.
WORDLESS = ("dispatch/unit_admin.py", "dispatch/routing.py")
_CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("path", WORDLESS)
def test_a_module_says_its_chinese_words_through_the_label_modules(path: str) -> None:
    inline = [f"{path}:{line}: {text!r}" for line, text in chinese_constants(ROOT / path, _CHINESE)]
    assert not inline, "\n".join(inline)


def _problems(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        unit_admin.parse_units(text)
    return [str(p) for p in refused.value.problems]  # type: ignore[attr-defined]


def test_the_unit_import_problems_read_as_they_always_did() -> None:
    assert _problems("  ") == ["请粘贴或上传单位 JSON"]
    assert _problems('{"units": 3}') == ['内容应为城市文件（含 "units" 列表）或单位列表 [{"code": ..., "name": ...}, ...]']
    assert _problems("[]") == ["单位列表是空的"]
    assert _problems('[\n 3,\n {"code": "a b"},\n {"code": "b"},\n {"code": "c", "name": "C", "kind": "bureau"},\n'
                     ' {"code": "d", "name": "D", "duty_phone": "12"},\n {"code": "d", "name": "D2"},\n'
                     ' {"code": "f", "name": "F"},\n {"code": "e", "name": "F"}\n]') == [
        '第 2 行（第 1 个单位）：应为一个单位对象 {"code": ..., "name": ...}',
        '第 3 行（第 2 个单位）：code 应为 1–64 位字母、数字或 _ . -，收到 "a b"',
        "第 4 行（第 3 个单位），单位 b：缺少名称 name",
        '第 5 行（第 4 个单位），单位 c：类型 kind 应为 department（部门）、township（乡镇街道）、other（其他），收到 "bureau"',
        '第 6 行（第 5 个单位），单位 d：值班电话 duty_phone 不是有效号码，收到 "12"',
        "第 7 行（第 6 个单位）：单位 d 重复（第 6 行已有）",
        "第 9 行（第 8 个单位），单位 e：名称「F」与第 8 行的单位 f 相同"]
    units = unit_admin.parse_units('[{"code": "a", "name": "A", "parent": "zz"},\n{"code": "b", "name": "B", "parent": "b"},\n'
                                   '{"code": "c", "name": "C", "parent": "d"},\n{"code": "d", "name": "D", "parent": "c"}]')
    assert unit_admin.parent_problems(units, {}) == [
        "第 1 行，单位 a：上级单位 zz 既不在文件中，也不在系统中", "第 2 行，单位 b：上级单位不能是自己",
        "第 3 行，单位 c：上级单位形成循环（c → d → c）", "第 4 行，单位 d：上级单位形成循环（d → c → d）"]
    assert unit_admin.parent_problems(units[:1], None) == ["第 1 行，单位 a：上级单位 zz 不在文件中"]


def test_the_routing_reasons_read_as_they_always_did(city: City) -> None:
    router = routing.Router(city=city, rules=(routing.Rule(("燃气泄漏",), "urban-management"),))
    assert router.route("小区闻到燃气泄漏的味道").reason == "规则：含“燃气泄漏”"
    assert router.route("小区楼道堆满杂物电梯经常故障").reason == "分类模型尚未就绪"
    assert router.route("hello").reason == "没有中文内容，需人工分拣"
    assert router._suggest("城乡建设", 0.9, [("王屋镇", "wangwu")]).detail == "模型：城乡建设 90%；属地：王屋镇"
    assert router._suggest("城乡建设", 0.4567, []).detail == "模型：城乡建设 46%"
