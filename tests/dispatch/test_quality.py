"""质检: a supervisor's weekly sample of the tickets each operator filed, the checklist scores
(each item within its points, none left out), one inspection a ticket, and the monthly
质检平均分 per operator."""
from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle, quality, staff
from dispatch.actors import Actor
from dispatch.clock import CHINA, local_date, utcnow
from dispatch.errors import Conflict, InvalidInput, PermissionDenied, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import QualityInspection, StaffActivity, Ticket
from dispatch.reports import Period
from dispatch.units import City, import_units, unit_by_code
from dispatch.vocabulary import Channel, RequestType, Role
from tests.held import held
from web.messages import describe

PASSWORD = "quality pass 1"
_phones = iter(range(13803940000, 13803950000))
FULL = {"score_service": "20", "score_intake": "30", "score_routing": "30", "score_reply": "20"}


def _staff(session: Session, username: str, role: Role = Role.OPERATOR) -> Actor:
    user = staff.create_user(session, username, PASSWORD, role, display_name=f"话务员 {username}")
    session.flush()
    return staff.actor_for(user)


def _filed(session: Session, actor: Actor | None, title: str, *, now: dt.datetime | None = None) -> Ticket:
    request = IntakeRequest(channel=Channel.PHONE if actor else Channel.WEB, title=title, body=f"{title}，请尽快处理。",
                            phone=str(next(_phones)), request_type=RequestType.COMPLAINT,
                            channel_ref=f"console:{title}" if actor else None)
    return intake(session, request, IntakeRules(), actor=actor, now=now).ticket


def _this_week() -> Period:
    today = local_date(utcnow())
    return Period(today - dt.timedelta(days=6), today)


def test_the_sample_is_per_operator_reproducible_and_skips_what_was_inspected(session: Session, units: City) -> None:
    wang, zhao, chief = _staff(session, "wang"), _staff(session, "zhao"), _staff(session, "chief", Role.SUPERVISOR)
    mine = [_filed(session, wang, f"王的工单{i}") for i in range(8)]
    theirs = [_filed(session, zhao, f"赵的工单{i}") for i in range(3)]
    _filed(session, None, "市民网上提交")                                       # nobody's to inspect
    _filed(session, wang, "上个月的工单", now=utcnow() - dt.timedelta(days=40))  # outside the week
    week = _this_week()

    first = quality.sample(session, chief, week, seed=7)
    by_name = {o.name: o for o in first.operators}
    assert set(by_name) == {"话务员 wang", "话务员 zhao"}
    wang_sample = [t.number for t in by_name["话务员 wang"].tickets]
    # Five of Wang's eight, in the seed's order; all of Zhao's three (fewer than five).
    assert len(wang_sample) == 5 and set(wang_sample) <= {t.number for t in mine}
    assert wang_sample == sorted((t.number for t in mine), key=lambda n: quality.rank(7, n))[:5]
    assert sorted(t.number for t in by_name["话务员 zhao"].tickets) == sorted(t.number for t in theirs)
    assert (by_name["话务员 wang"].filed, by_name["话务员 wang"].inspected) == (8, 0)
    # The same period and seed again: the same tickets.
    again = quality.sample(session, chief, week, seed=7)
    assert [[t.number for t in o.tickets] for o in again.operators] == \
           [[t.number for t in o.tickets] for o in first.operators]

    # One inspected: it leaves the sample, the other four stay, and no other seed draws it.
    quality.inspect(session, chief, wang_sample[0], {**FULL, "comment": "规范"})
    after = {o.name: o for o in quality.sample(session, chief, week, seed=7).operators}["话务员 wang"]
    assert [t.number for t in after.tickets] == wang_sample[1:] and after.inspected == 1
    for seed in range(1, 30):
        drawn = quality.sample(session, chief, week, seed=seed).operators
        assert wang_sample[0] not in {t.number for o in drawn for t in o.tickets}


def test_the_sample_shows_the_call_the_classification_and_what_the_operator_did(
        session: Session, units: City) -> None:
    from dispatch import telephony

    wang, chief = _staff(session, "wang"), _staff(session, "chief", Role.SUPERVISOR)
    sent = _filed(session, wang, "道路积水严重")
    lifecycle.transfer(session, sent, unit_by_code(session, "housing"), wang, note="请尽快疏通")
    told = _filed(session, wang, "咨询社保办理")
    lifecycle.answer(session, told, wang, "请携带身份证到社保大厅办理。")
    now = utcnow()
    telephony.record_call(session, telephony.CallData(
        linkedid="1700000000.42", outcome="answered", caller="13803940999", dialed="12345", queue="hotline",
        started_at=now - dt.timedelta(minutes=5), entered_queue_at=now - dt.timedelta(minutes=5),
        answered_at=now - dt.timedelta(minutes=4, seconds=48), ended_at=now, wait_seconds=12.0, talk_seconds=288.0,
        agent="PJSIP/7001"))
    telephony.link_ticket_to_call(session, told, "1700000000.42")
    session.flush()

    found = {t.number: t for o in quality.sample(session, chief, _this_week()).operators for t in o.tickets}
    transferred, answered = found[sent.number], found[told.number]
    assert [(s.action, s.unit, s.note) for s in transferred.steps] == [("transfer", "济源示范区住房和城乡建设局", "请尽快疏通")]
    assert transferred.reply is None and not transferred.answered and transferred.call is None
    assert answered.answered and answered.reply == "请携带身份证到社保大厅办理。"
    assert answered.call is not None and (answered.call.wait_seconds, answered.call.talk_seconds) == (12.0, 288.0)
    assert answered.classification in {"none", "not_transferred"}



def test_the_sample_names_who_took_the_call_by_the_account_at_that_phone(session: Session, units: City) -> None:
    """The PBX knows its members by its own names (Li Na); the inspector reads the operator's
    account at that phone, as the supervisor's 话务 table names them, or the phone alone."""
    from dispatch import telephony

    wang, chief = _staff(session, "wang"), _staff(session, "chief", Role.SUPERVISOR)
    staff.create_user(session, "lina", PASSWORD, Role.OPERATOR, display_name="话务员 李娜", phone_extension="7002")
    now = utcnow()
    for n, interface in enumerate(("PJSIP/7002", "PJSIP/7009")):
        told = _filed(session, wang, f"咨询社保办理{n}")
        telephony.record_call(session, telephony.CallData(
            linkedid=f"1700000000.5{n}", outcome="answered", caller="13803940998", dialed="12345", queue="hotline",
            started_at=now - dt.timedelta(minutes=5), entered_queue_at=now - dt.timedelta(minutes=5),
            answered_at=now - dt.timedelta(minutes=4), ended_at=now, wait_seconds=6.0, talk_seconds=200.0,
            agent=interface, agent_name="Li Na" if n == 0 else "Someone"))
        telephony.link_ticket_to_call(session, told, f"1700000000.5{n}")
    session.flush()

    calls = {t.title: t.call for o in quality.sample(session, chief, _this_week()).operators for t in o.tickets}
    assert calls["咨询社保办理0"] is not None and calls["咨询社保办理0"].agent == "话务员 李娜"
    assert calls["咨询社保办理1"] is not None and calls["咨询社保办理1"].agent == "PJSIP/7009"

def test_a_score_past_an_items_points_or_an_item_left_out_is_refused_in_chinese(
        session: Session, units: City) -> None:
    wang, chief = _staff(session, "wang"), _staff(session, "chief", Role.SUPERVISOR)
    told = _filed(session, wang, "咨询公积金")
    lifecycle.answer(session, told, wang, "请登录公积金网站查询。")

    with pytest.raises(InvalidInput) as over:
        quality.inspect(session, chief, told.number, {**FULL, "score_routing": "31"})
    assert over.value.field == "score_routing" and over.value.reason is Reason.SCORE_OUT_OF_RANGE
    assert describe(over.value) == "「分类与派单正确」最多 30 分，得分应在 0 到 30 分之间。"
    with pytest.raises(InvalidInput) as negative:
        quality.inspect(session, chief, told.number, {**FULL, "score_service": "-1"})
    assert describe(negative.value) == "「服务规范」最多 20 分，得分应在 0 到 20 分之间。"
    missing = {k: v for k, v in FULL.items() if k != "score_reply"}
    with pytest.raises(InvalidInput) as left_out:
        quality.inspect(session, chief, told.number, missing)
    assert describe(left_out.value) == "请为「答复规范（直接办结）」打分（0 到 20 分）。"
    with pytest.raises(InvalidInput) as words:
        quality.inspect(session, chief, told.number, {**FULL, "score_intake": "满分"})
    assert describe(words.value) == "受理信息完整准确应为整数。"
    assert session.scalar(select(QualityInspection.id)) is None

    row = quality.inspect(session, chief, told.number, {"score_service": "18", "score_intake": "25",
                                                        "score_routing": "30", "score_reply": "15",
                                                        "comment": "答复未说明办理时限"})
    assert (row.total, row.scores) == (88, {"service": 18, "intake": 25, "routing": 30, "reply": 15})
    logged = session.execute(select(StaffActivity.kind, StaffActivity.actor, StaffActivity.target)).all()
    assert ("quality_inspected", "chief", f"ticket:{told.number}") in logged


def test_the_reply_item_counts_its_full_points_for_a_ticket_not_answered_at_intake(
        session: Session, units: City) -> None:
    wang, chief = _staff(session, "wang"), _staff(session, "chief", Role.SUPERVISOR)
    sent = _filed(session, wang, "噪音扰民")
    lifecycle.transfer(session, sent, unit_by_code(session, "housing"), wang)
    row = quality.inspect(session, chief, sent.number,
                          {"score_service": "10", "score_intake": "20", "score_routing": "0", "score_reply": "3"})
    assert row.scores["reply"] == 20 and row.total == 50


def test_one_inspection_a_ticket_and_never_of_ones_own_or_a_citizens_own(session: Session, units: City) -> None:
    wang, chief = _staff(session, "wang"), _staff(session, "chief", Role.SUPERVISOR)
    other = _staff(session, "deputy", Role.SUPERVISOR)
    ticket = _filed(session, wang, "路灯不亮")
    quality.inspect(session, chief, ticket.number, FULL)
    with pytest.raises(Conflict) as second:
        quality.inspect(session, other, ticket.number, FULL)
    assert describe(second.value) == f"工单「{ticket.number}」已由话务员 chief质检，每件工单只质检一次。"
    own = _filed(session, chief, "督办员自己受理")
    with pytest.raises(PermissionDenied):
        quality.inspect(session, chief, own.number, FULL)
    web = _filed(session, None, "网上提交的工单")
    with pytest.raises(InvalidInput) as citizens:
        quality.inspect(session, chief, web.number, FULL)
    assert citizens.value.reason is Reason.NOT_FILED_BY_STAFF
    with pytest.raises(PermissionDenied):
        quality.inspect(session, wang, _filed(session, chief, "再一件").number, FULL)   # operators do not inspect


def test_two_supervisors_inspecting_one_ticket_at_once_store_one_inspection(
        sessions: sessionmaker[Session], engine: Engine, city: City) -> None:
    with sessions() as session:
        import_units(session, city)
        wang = _staff(session, "wang")
        li, zhao = _staff(session, "li", Role.SUPERVISOR), _staff(session, "zhao", Role.SUPERVISOR)
        number = _filed(session, wang, "路灯不亮").number
        session.commit()

    def score(actor: Actor) -> str:
        with sessions() as session:
            try:
                quality.inspect(session, actor, number, FULL)
                session.commit()
                return "saved"
            except Conflict as exc:
                session.rollback()
                return str(exc.params["by"])

    # Each finds no inspection before either stores one: the unique ticket lets one in.
    reads = re.compile(r"SELECT quality_inspections.inspector_label\s+FROM quality_inspections")
    with held(engine, lambda statement: reads.search(statement) is not None, 2) as both, \
            ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(score, (li, zhao)))
    assert sorted(answers) in (["saved", "话务员 li"], ["saved", "话务员 zhao"])
    if engine.dialect.name == "postgresql":   # nothing there serialises the reads: both did read first
        assert not both.broken and both.n_waiting == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(QualityInspection)) == 1
        assert session.scalar(select(func.count()).select_from(StaffActivity)
                              .where(StaffActivity.kind == "quality_inspected")) == 1


def test_operators_read_only_their_own_inspections(session: Session, units: City) -> None:
    wang, zhao, chief = _staff(session, "wang"), _staff(session, "zhao"), _staff(session, "chief", Role.SUPERVISOR)
    quality.inspect(session, chief, _filed(session, wang, "王的工单").number, {**FULL, "comment": "王：很好"})
    quality.inspect(session, chief, _filed(session, zhao, "赵的工单").number, {**FULL, "comment": "赵：很好"})
    assert [v.comment for v in quality.own_inspections(session, wang)] == ["王：很好"]
    assert [v.comment for v in quality.own_inspections(session, zhao)] == ["赵：很好"]
    assert {v.comment for v in quality.inspections(session, chief).items} == {"王：很好", "赵：很好"}
    assert [v.comment for v in quality.inspections(session, wang).items] == ["王：很好"]
    with pytest.raises(PermissionDenied):
        quality.inspections(session, wang, operator_id=zhao.user_id)
    with pytest.raises(PermissionDenied):
        quality.figures(session, wang, Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    unit = Actor(label="staff-housing", role=Role.UNIT_STAFF, unit_id=unit_by_code(session, "housing").id)
    with pytest.raises(PermissionDenied):
        quality.own_inspections(session, unit)


def test_the_average_score_per_operator_and_month_on_a_hand_worked_month(session: Session, units: City) -> None:
    """Wang: three tickets received in November scored 80, 95 and 70: 245 / 3 = 81.7. Zhao: one
    received at 23:30 on 30 November (China) scored 100, one at 00:10 on 1 December scored 60:
    November is 100 / 1, the December one counts in December. Inspected in December all."""
    wang, zhao, chief = _staff(session, "wang"), _staff(session, "zhao"), _staff(session, "chief", Role.SUPERVISOR)

    def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
        return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA).astimezone(dt.timezone.utc)

    def scored(actor: Actor, title: str, when: dt.datetime, service: int, intake_: int, routing: int) -> int:
        ticket = _filed(session, actor, title, now=when)   # not answered at intake: 答复规范 counts its 20
        return quality.inspect(session, chief, ticket.number, {
            "score_service": str(service), "score_intake": str(intake_), "score_routing": str(routing)},
            now=at(3, 10, month=12)).total

    assert scored(wang, "王一", at(3, 9), 20, 10, 30) == 80
    assert scored(wang, "王二", at(15, 14), 20, 25, 30) == 95
    assert scored(wang, "王三", at(28, 16), 20, 0, 30) == 70
    assert scored(zhao, "赵一", at(30, 23, 30), 20, 30, 30) == 100
    assert scored(zhao, "赵二", at(1, 0, 10, month=12), 10, 0, 30) == 60

    november = {f.operator: (f.inspected, f.points, f.average)
                for f in quality.figures(session, chief, Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))}
    assert november == {"话务员 wang": (3, 245, 81.7), "话务员 zhao": (1, 100, 100.0)}
    december = quality.figures(session, chief, Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))
    assert [(f.operator, f.inspected, f.average) for f in december] == [("话务员 zhao", 1, 60.0)]
    # An operator reads their own figure.
    own = quality.figures(session, wang, Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                          operator_id=wang.user_id)
    assert [(f.inspected, f.average) for f in own] == [(3, 81.7)]
