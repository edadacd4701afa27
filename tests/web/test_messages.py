"""Every reason code has Chinese words, and every place that raises an error passes the data
its words need: the catalogue is checked against the code that raises, not against itself."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, RateLimited, Reason
from web.messages import (FIELDS_ZH, HTTP_ZH, KINDS_ZH, REASONS_ZH, describe, describe_for_console, has_chinese,
                          placeholders)

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dispatch", "web", "sms_gateway", "callcenter")
ERRORS = {"DispatchError", "InvalidInput", "BadRequest", "NotFound", "PermissionDenied", "Conflict",
          "Unauthorized", "RateLimited", "StorageUnavailable"}
WITH_FIELD = {"InvalidInput", "BadRequest"}
# Data a class fills in itself (RateLimited: how long to wait).
OWN_DATA = {"RateLimited": {"seconds"}}
# Helpers whose string arguments are field names (the form or JSON key the error is about).
FIELD_READERS = {"required_text", "optional_text", "optional_int", "boolean", "_text", "_credential"}


@dataclass(frozen=True)
class Raise:
    where: str
    kind: str
    reason: Reason | None
    text: str | None          # the older form: a sentence
    keywords: frozenset[str]
    field: str | None


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _sentence(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _reason(node: ast.expr) -> Reason | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Reason":
        return Reason[node.attr]
    return None


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")
                  if "migrations" not in p.parts)


def raises() -> list[Raise]:
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if _name(node.func) == "words" and node.args:  # words(Reason.X, {data}) said outside an error
                reason = _reason(node.args[0])
                data = node.args[1] if len(node.args) > 1 else None
                keys = {k.value for k in data.keys if isinstance(k, ast.Constant)} if isinstance(data, ast.Dict) else set()
                if reason is not None:
                    found.append(Raise(f"{path.relative_to(ROOT)}:{node.lineno}", "words", reason, None,
                                       frozenset(keys), None))
                continue
            if _name(node.func) not in ERRORS:
                continue
            kind = _name(node.func)
            assert kind is not None
            position = 1 if kind in WITH_FIELD else 0
            if len(node.args) <= position:
                continue
            arg = node.args[position]
            reason = _reason(arg)
            field = _sentence(node.args[0]) if kind in WITH_FIELD else None
            found.append(Raise(f"{path.relative_to(ROOT)}:{node.lineno}", kind, reason, _sentence(arg),
                               frozenset(k.arg for k in node.keywords if k.arg), field))
    return found


def field_names() -> set[str]:
    """Every field name whose Chinese name an error's words use, as the code spells it (a
    sentence in the older form is shown as written and names its field itself)."""
    names = {r.field for r in raises()
             if r.field and r.reason is not None and "field" in placeholders(REASONS_ZH[r.reason])}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in FIELD_READERS:
                names.update(a.value for a in node.args
                             if isinstance(a, ast.Constant) and isinstance(a.value, str)
                             and re.fullmatch(r"[a-z_]+", a.value))
    return names


def test_every_reason_has_chinese_words_and_no_words_lack_a_reason() -> None:
    missing = [reason for reason in Reason if reason not in REASONS_ZH]
    assert not missing, f"reasons without words: {missing}"
    assert set(REASONS_ZH) == set(Reason)
    for reason, words in REASONS_ZH.items():
        assert has_chinese(words), reason
    for table in (KINDS_ZH, {status: text for status, (title, text) in HTTP_ZH.items()}):
        for key, words in table.items():
            assert has_chinese(words), key


def test_the_code_raises_through_reasons_and_every_raise_passes_what_its_words_use() -> None:
    found = raises()
    coded = [r for r in found if r.reason is not None]
    assert len(coded) > 100, "the walk found too few raises: is it still reading the code?"
    problems = []
    for r in coded:
        needed = placeholders(REASONS_ZH[r.reason]) - {"field"}
        given = r.keywords | OWN_DATA.get(r.kind, set())
        if not needed <= given:
            problems.append(f"{r.where}: {r.reason.value} needs {sorted(needed - given)}")
        if "field" in placeholders(REASONS_ZH[r.reason]) and r.kind not in WITH_FIELD:
            problems.append(f"{r.where}: {r.reason.value} names a field but {r.kind} has none")
    assert not problems, "\n".join(problems)


def test_no_error_a_person_may_read_is_raised_with_an_english_sentence() -> None:
    english = [f"{r.where}: {r.text!r}" for r in raises() if r.text is not None and not has_chinese(r.text)]
    assert not english, "\n".join(english)


def test_every_field_an_error_can_name_has_a_chinese_name() -> None:
    names = field_names()
    assert {"phone", "body", "reason"} <= names
    assert not names - set(FIELDS_ZH), sorted(names - set(FIELDS_ZH))
    assert all(has_chinese(FIELDS_ZH[name]) for name in names if name != "?")


def test_a_bad_phone_reads_in_chinese_with_the_number_and_no_english_field() -> None:
    words = describe(InvalidInput("phone", Reason.INVALID_PHONE, value="12"))
    assert words == ("联系电话「12」不是有效的号码。请填写11位手机号或带区号的固定电话，"
                     "例如 13812345678 或 0391-6612345；其他说明请写在诉求内容里。")
    assert "phone" not in words


def test_a_field_is_named_in_chinese_inside_the_sentence() -> None:
    assert describe(InvalidInput("reason", Reason.REQUIRED)) == "请填写理由。"
    assert describe(InvalidInput("phrases", Reason.PHRASE_LENGTH, phrase="烟", low=2, high=30)) \
        == "关键词「烟」应为 2 到 30 个字。"


def test_an_illegal_move_names_the_state_and_action_in_chinese() -> None:
    assert describe(IllegalTransition("received", "accept", "20261203-0001")) \
        == "工单当前状态为「已受理」，不能执行「签收」。"


def test_a_chinese_sentence_in_the_older_form_passes_as_written() -> None:
    assert describe(InvalidInput("to", "只能转 110、119、120 或 122")) == "只能转 110、119、120 或 122"
    assert describe(Conflict("工单已被合并")) == "工单已被合并"


def test_an_english_sentence_in_the_older_form_is_not_shown_but_its_kind_is() -> None:
    assert describe(InvalidInput("body", "must not be empty")) == "诉求内容填写有误。"
    assert describe(NotFound("no ticket 1")) == "未找到。"


def test_the_log_text_keeps_the_code_and_data() -> None:
    error = InvalidInput("phone", Reason.INVALID_PHONE, value="12")
    assert error.message == str(error) == "phone: invalid_phone (value='12')"
    assert error.reason is Reason.INVALID_PHONE and error.params == {"value": "12"}
    assert RateLimited(Reason.TOO_MANY_LOGINS, retry_after=60, limit="login").params == {"seconds": 60}
    assert describe_for_console(error) == f"{describe(error)}（phone: invalid_phone (value='12')）"


@pytest.mark.parametrize("value", ["x" * 5000, "<script>"])
def test_long_data_is_cut_in_the_words(value: str) -> None:
    words = describe(InvalidInput("phone", Reason.INVALID_PHONE, value=value))
    # The value is cut to 40 characters and an ellipsis; the words around it stay whole.
    around = describe(InvalidInput("phone", Reason.INVALID_PHONE, value=""))
    assert len(words) <= len(around) + 41 and has_chinese(words)
