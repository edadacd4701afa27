"""Reply templates (常用语): a unit keeps its own list and sees the city-wide one beside it;
another unit's templates are out of its sight; every change is in the activity log."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import reply_templates
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import ReplyTemplate, StaffActivity
from dispatch.units import City
from dispatch.vocabulary import Role
from tests.conftest import unit_staff

ADMIN = Actor(label="admin-zhao", user_id=None, role=Role.ADMIN)
STREETLIGHT = {"title": "路灯已修复", "text": "您反映的路灯故障已于{日期}修复，工单{编号}办结。"}


def _titles(session: Session, actor: Actor) -> list[tuple[str, bool, bool]]:
    return [(t.title, t.city_wide, t.editable) for t in reply_templates.visible(session, actor)]


def test_a_unit_sees_its_own_and_the_city_wide_templates_but_never_another_units(
        session: Session, units: City) -> None:
    housing, ecology = unit_staff(session, "housing"), unit_staff(session, "ecology-environment")
    reply_templates.create(session, housing, STREETLIGHT)
    reply_templates.create(session, ecology, {"title": "噪音已处理", "text": "已责令施工方夜间停工。"})
    reply_templates.create(session, ADMIN, {"title": "感谢来电", "text": "感谢您对我们工作的支持。"})

    assert _titles(session, housing) == [("路灯已修复", False, True), ("感谢来电", True, False)]
    assert _titles(session, ecology) == [("噪音已处理", False, True), ("感谢来电", True, False)]
    assert _titles(session, ADMIN) == [("感谢来电", True, True)]
    operator = Actor(label="operator-wang", role=Role.OPERATOR)
    assert _titles(session, operator) == [("感谢来电", True, False)]   # offered on 直接办结, kept by no operator


def test_a_unit_cannot_change_or_delete_another_units_template_nor_a_city_wide_one(
        session: Session, units: City) -> None:
    housing, ecology = unit_staff(session, "housing"), unit_staff(session, "ecology-environment")
    theirs = reply_templates.create(session, housing, STREETLIGHT)
    city_wide = reply_templates.create(session, ADMIN, {"title": "感谢来电", "text": "感谢您对我们工作的支持。"})

    with pytest.raises(NotFound):   # out of sight, as another unit's ticket is
        reply_templates.update(session, ecology, theirs.id, {"title": "改", "text": "改过的内容"})
    with pytest.raises(NotFound):
        reply_templates.delete(session, ecology, theirs.id)
    with pytest.raises(NotFound):   # the admin keeps the city-wide list, not a unit's
        reply_templates.delete(session, ADMIN, theirs.id)
    with pytest.raises(PermissionDenied) as refused:
        reply_templates.update(session, ecology, city_wide.id, {"title": "改", "text": "改过的内容"})
    assert refused.value.reason is Reason.NOT_YOUR_TEMPLATE
    with pytest.raises(PermissionDenied):
        reply_templates.create(session, Actor(label="operator-wang", role=Role.OPERATOR), STREETLIGHT)
    session.expire_all()
    assert session.get(ReplyTemplate, theirs.id).text == STREETLIGHT["text"]   # type: ignore[union-attr]

    reply_templates.update(session, housing, theirs.id, {"title": "路灯已修复", "text": "路灯已修复，现已亮起。"})
    reply_templates.delete(session, ADMIN, city_wide.id)
    assert _titles(session, housing) == [("路灯已修复", False, True)]


def test_empty_too_long_and_repeated_titles_are_refused_within_an_owner_only(session: Session, units: City) -> None:
    housing, ecology = unit_staff(session, "housing"), unit_staff(session, "ecology-environment")

    def refusal(actor: Actor, data: dict[str, str]) -> tuple[str, Reason | None]:
        with pytest.raises(InvalidInput) as refused:
            reply_templates.create(session, actor, data)
        return refused.value.field, refused.value.reason

    assert refusal(housing, {"title": "空的", "text": "  \n "}) == ("template_text", Reason.REQUIRED)
    assert refusal(housing, {"title": " ", "text": "内容"}) == ("template_title", Reason.REQUIRED)
    assert refusal(housing, {"title": "长", "text": "字" * 2_001}) == ("template_text", Reason.TOO_LONG)
    assert refusal(housing, {"title": "题" * 51, "text": "内容"}) == ("template_title", Reason.TOO_LONG)
    reply_templates.create(session, housing, {"title": "长", "text": "字" * 2_000})
    reply_templates.create(session, housing, STREETLIGHT)
    assert refusal(housing, {"title": " 路灯已修复 ", "text": "另一段"}) == ("template_title", Reason.TEMPLATE_TITLE_TAKEN)
    reply_templates.create(session, ecology, STREETLIGHT)   # another unit's list: its own titles
    reply_templates.create(session, ADMIN, STREETLIGHT)     # the city-wide list too
    assert refusal(ADMIN, STREETLIGHT) == ("template_title", Reason.TEMPLATE_TITLE_TAKEN)
    other = reply_templates.create(session, housing, {"title": "其他", "text": "其他内容"})
    with pytest.raises(InvalidInput) as renamed:
        reply_templates.update(session, housing, other.id, STREETLIGHT)
    assert renamed.value.reason is Reason.TEMPLATE_TITLE_TAKEN


def test_a_unit_keeps_at_most_the_limit(session: Session, units: City, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_templates, "MAX_TEMPLATES", 3)
    housing, ecology = unit_staff(session, "housing"), unit_staff(session, "ecology-environment")
    for n in range(3):
        reply_templates.create(session, housing, {"title": f"第{n}条", "text": "内容"})
    with pytest.raises(InvalidInput) as refused:
        reply_templates.create(session, housing, {"title": "第4条", "text": "内容"})
    assert refused.value.reason is Reason.TOO_MANY_TEMPLATES and refused.value.params == {"limit": 3}
    reply_templates.create(session, ecology, {"title": "第4条", "text": "内容"})   # counted per unit


def test_every_change_is_in_the_activity_log(session: Session, units: City) -> None:
    housing = unit_staff(session, "housing")
    template = reply_templates.create(session, housing, STREETLIGHT)
    reply_templates.update(session, housing, template.id, {"title": "路灯修好了", "text": STREETLIGHT["text"]})
    reply_templates.update(session, housing, template.id, {"title": "路灯修好了", "text": STREETLIGHT["text"]})
    reply_templates.delete(session, housing, template.id)
    rows = session.execute(select(StaffActivity.kind, StaffActivity.actor, StaffActivity.target, StaffActivity.detail)
                           .order_by(StaffActivity.id)).all()
    target = f"reply_template:{template.id}"
    assert [(kind, actor, at) for kind, actor, at, _ in rows] == [
        ("template_added", housing.label, target), ("template_changed", housing.label, target),
        ("template_removed", housing.label, target)]   # the unchanged save logged nothing
    assert rows[0].detail == {"unit": "housing", **STREETLIGHT}
    assert rows[1].detail == {"unit": "housing", "title": "路灯修好了", "old_title": "路灯已修复"}


def test_placeholders_are_filled_in_for_the_ticket_and_the_day(session: Session, units: City) -> None:
    housing = unit_staff(session, "housing")
    reply_templates.create(session, housing, STREETLIGHT)
    reply_templates.create(session, housing, {"title": "括号", "text": "{其他}与{0}照原样"})
    late_evening = dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.timezone.utc)   # 01:00 on the 8th, China time
    filled = {t.title: t.text for t in reply_templates.filled_for(session, housing, "20261207-0003", late_evening)}
    assert filled == {"路灯已修复": "您反映的路灯故障已于2026年12月8日修复，工单20261207-0003办结。",
                      "括号": "{其他}与{0}照原样"}
