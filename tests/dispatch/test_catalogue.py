"""The dispatch catalogue (派单目录): seeded from the city file, versioned on every change
(tickets keep the entry they were dispatched under), routing to level 3, figures per level."""
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from classifier import TrainedModel
from dispatch import catalogue, catalogue_figures, lifecycle, rollup, routing_feedback
from dispatch.actors import Actor
from dispatch.catalogue import EntryChange
from dispatch.clock import CHINA
from dispatch.errors import InvalidInput, PermissionDenied
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import CatalogueEntry, CatalogueRollup, CatalogueVersion, StaffActivity, Ticket, Unit
from dispatch.reports import Period
from dispatch.routing import Router, Rule, city_router, corrections
from dispatch.states import FINISHED_STATES, State
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel, Rating, Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

WATER = "城乡建设/城市建设和市政管理/自来水供应"


@pytest.fixture
def seeded(session: Session, units: City) -> City:
    assert catalogue.seed(session, units)
    session.commit()
    return units


def _file(session: Session, rules: IntakeRules, body: str, router: Router | None = None) -> Ticket:
    return intake(session, IntakeRequest(channel=Channel.WEB, body=body, title=body[:10]), rules,
                  router=router).ticket


def test_the_demo_city_seeds_517_entries_each_with_a_unit_or_the_township(session: Session, seeded: City) -> None:
    entries = catalogue.current_entries(session)
    assert len(entries) == 517 and len({e.code for e in entries}) == 517
    assert len({e.level1 for e in entries}) == 15
    assert all(e.unit_code is not None or e.local for e in entries)
    by_path = {e.path.replace(" ", ""): e for e in entries}
    assert by_path[WATER].unit_code == "water-supply"
    assert by_path["城乡建设/城市建设和市政管理/燃气供应"].unit_code == "gas"
    assert by_path["城乡建设/城市建设和市政管理/电力供应"].unit_code == "power"
    assert by_path["政法/户籍证件/户籍管理"].unit_code == "public-security"
    assert by_path["农村农业/土地承包经营/宅基地纠纷"].local
    assert "停水" in by_path[WATER].terms
    # Seeding is once: a second call changes nothing.
    assert not catalogue.seed(session, seeded)
    assert session.scalar(select(func.count(CatalogueVersion.id))) == 1


def test_seeding_waits_for_the_citys_units(session: Session, city: City) -> None:
    assert not catalogue.seed(session, city)
    assert session.scalar(select(func.count(CatalogueEntry.id))) == 0


def test_a_change_is_a_new_version_and_a_dispatched_ticket_keeps_its_entry(
        session: Session, seeded: City, rules: IntakeRules, operator: Actor, supervisor: Actor) -> None:
    before = catalogue.find_current(session, WATER)
    first = _file(session, rules, "宣化街停水两天了，一直没有来水，请尽快恢复供水。")
    lifecycle.transfer(session, first, unit_by_code(session, "water-supply"), operator, entry=before)
    assert (first.catalogue_entry_id, first.category) == (before.id, "城乡建设")

    change = EntryChange(unit_code="urban-management", local=False, terms_text="停水、自来水、水压", deadline_class="urgent",
                         note="供水公司划归城管")
    after = catalogue.edit_entry(session, seeded, before.code, change, supervisor)
    session.commit()

    assert after.id != before.id and after.code == before.code and after.terms == ["停水", "自来水", "水压"]
    session.refresh(before)
    assert before.retired_version_id == after.version_id
    assert before.unit_id == unit_by_code(session, "water-supply").id      # the old row is unchanged
    session.refresh(first)
    assert first.catalogue_entry_id == before.id                             # the ticket keeps it
    assert catalogue.find_current(session, before.code).id == after.id      # new tickets take the new one
    assert catalogue.find_current(session, WATER.replace("/", " > ")).id == after.id
    assert [r.id for r in catalogue.entry_history(session, before.code)] == [after.id, before.id]
    assert catalogue.versions(session)[0].codes == (before.code,)
    activity = session.scalar(select(StaffActivity).where(StaffActivity.kind == "catalogue_changed"))
    assert activity is not None and activity.target == f"catalogue:{before.code}" and activity.actor == supervisor.label


def test_unit_staff_and_operators_may_not_change_the_catalogue(session: Session, seeded: City,
                                                                operator: Actor) -> None:
    change = EntryChange(unit_code="housing", local=False, terms_text="停水", deadline_class=None)
    for actor in (unit_staff(session, "water-supply"), operator):
        with pytest.raises(PermissionDenied):
            catalogue.edit_entry(session, seeded, catalogue.find_current(session, WATER).code, change, actor)
    assert session.scalar(select(func.count(CatalogueVersion.id))) == 1


@pytest.mark.parametrize(("change", "field"), [
    (EntryChange(unit_code="no-such-unit", local=False, terms_text="停水", deadline_class=None), "unit"),
    (EntryChange(unit_code=None, local=False, terms_text="停水", deadline_class=None), "unit"),
    (EntryChange(unit_code="housing", local=False, terms_text="水", deadline_class=None), "terms"),
    (EntryChange(unit_code="housing", local=False, terms_text=" ，", deadline_class=None), "terms"),
    (EntryChange(unit_code="housing", local=False, terms_text="停水", deadline_class="someday"), "deadline_class"),
])
def test_a_bad_change_is_refused_and_nothing_is_written(session: Session, seeded: City, supervisor: Actor,
                                                       change: EntryChange, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.edit_entry(session, seeded, catalogue.find_current(session, WATER).code, change, supervisor)
    assert refused.value.field == field


def test_a_transfer_names_an_unknown_category(session: Session, seeded: City) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.find_current(session, "城乡建设/不存在/没有")
    assert refused.value.field == "category"


ROUTED = [
    ("沁园路一带从昨晚开始停水，到现在自来水还没来，也没有停水通知。", WATER, "water-supply"),
    ("济水街道某工地每天半夜还在施工，机器噪音特别大，周边居民没法睡觉。", "环境保护/环境污染/噪音污染", "ecology-environment"),
]
# Entries of a category the model does not know (it knows 7 of the 15), found by their terms.
FOREIGN = [
    ("承留镇某村两家为了宅基地的边界吵了好几年，村里调解不了。", "农村农业/土地承包经营/宅基地纠纷", "chengliu"),
    ("孩子在外地出生，想把户口落到济源，落户需要准备哪些材料？", "政法/户籍证件/户籍管理", "public-security"),
]


@pytest.mark.parametrize(("text", "path", "unit"), ROUTED)
def test_routing_proposes_a_level_3_entry_and_its_unit(session: Session, seeded: City, rules: IntakeRules,
                                                       small_model: TrainedModel, text: str, path: str,
                                                       unit: str) -> None:
    router = city_router(seeded, small_model, min_confidence=0.0, catalogue=catalogue.load(session))
    answer = router.route(text)
    assert answer.entry is not None and answer.entry["path"].replace(" ", "") == path
    assert answer.unit_code == unit
    categories = [s.category for s in answer.suggestions]   # the entry's unit takes its category's place
    assert len(categories) == len(set(categories))
    ticket = _file(session, rules, text, router)
    assert ticket.catalogue_entry_id == answer.entry["entry_id"]
    assert session.get(CatalogueEntry, ticket.catalogue_entry_id).code == answer.entry["code"]


def test_a_level_2_word_goes_to_the_entry_that_lists_it_as_its_own(city: City) -> None:
    """An entry's terms include its level 2's: 路灯, a level-2 word, is in every entry under
    城市建设和市政管理, and 城市公共设施 lists it as its own too. The entry's own terms break the
    tie, not the taxonomy's order (园林绿化环卫 comes first there)."""
    from dispatch.catalogue_match import Catalogue, Item

    def item(level3: str, terms: tuple[str, ...]) -> Item:
        return Item(code=level3, level1="城乡建设", level2="城市建设和市政管理", level3=level3, unit_code="u",
                    unit_name="u", local=False, deadline_class=None, terms=terms)

    level2 = ("市政", "路灯", "井盖")
    entries = Catalogue([item("园林绿化环卫", ("绿化", "环卫", *level2)),
                         item("城市公共设施", ("路灯", "公厕", "市政", "井盖")),
                         item("基础设施", ("道路", *level2))])
    assert entries.match("济水大街路灯坏了一周，晚上很黑。", "城乡建设").item.level3 == "城市公共设施"
    assert entries.match("绿化带的路灯坏了", "城乡建设").item.level3 == "园林绿化环卫"   # more characters
    # A level-2 word no entry lists as its own: the level 2's 其他, else the taxonomy's order.
    assert entries.match("市政工程太吵", "城乡建设").item.level3 == "园林绿化环卫"
    with_other = Catalogue([*entries.items, item("其他", level2)])
    assert with_other.match("市政工程太吵", "城乡建设").item.level3 == "其他"
    assert with_other.match("济水大街路灯坏了一周，晚上很黑。", "城乡建设").item.level3 == "城市公共设施"
    demo = catalogue.from_city(city)
    assert demo.match("济水大街路灯坏了一周，晚上很黑。", "城乡建设").item.level3 == "城市公共设施"


@pytest.mark.parametrize(("text", "path", "unit"), FOREIGN)
def test_an_entry_of_another_category_never_routes_on_its_own(session: Session, seeded: City, rules: IntakeRules,
                                                              small_model: TrainedModel, text: str, path: str,
                                                              unit: str) -> None:
    """The model's probability is for its own category, not the entry's. Unsure, the operator
    decides, the model's suggestion first and the entry's second; sure, the model routes by
    its own category, with an entry of that category only."""
    unsure, sure = (city_router(seeded, small_model, min_confidence=threshold, catalogue=catalogue.load(session))
                    for threshold in (1.01, 0.0))
    level1 = path.split("/")[0]
    answer = unsure.route(text)
    assert answer.manual_triage and f"派单目录（{level1}）" in answer.reason and "不一致" in answer.reason
    assert answer.entry is not None and answer.entry["path"].replace(" ", "") == path
    units = [s.unit_code for s in answer.suggestions]
    assert unit in units and len(units) == len(set(units))   # the entry's unit offered, one button a unit
    first = answer.suggestions[0]
    assert first.source in ("model", "gazetteer") and first.category != level1
    assert first.probability == answer.probability > 0 and answer.category == first.category
    offered = next((s for s in answer.suggestions if s.source == "catalogue"), None)
    assert offered is None or (offered.category, offered.probability) == (level1, 0.0)   # a category it does not know
    # Filed under the model's category, not under the entry it disagreed with.
    ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=text), rules, proposal=answer).ticket
    assert (ticket.category, ticket.catalogue_entry_id) == (first.category, None)

    routed = sure.route(text)
    assert routed.unit_code is not None and routed.category == first.category
    assert routed.entry is None or routed.entry["path"].startswith(first.category)


def test_a_rules_ticket_keeps_only_an_entry_of_the_rules_unit(session: Session, seeded: City,
                                                              small_model: TrainedModel) -> None:
    text = "小区门口共享单车乱停乱放，堵住了消防通道，希望管一管。"
    found = city_router(seeded, small_model, catalogue=catalogue.load(session)).route(text).entry
    assert found is not None and found["unit_code"] != "transport"
    for unit, kept in (("transport", False), (found["unit_code"], True)):
        router = Router(city=seeded, model=small_model, rules=(Rule(("共享单车",), unit),),
                        catalogue=catalogue.load(session))
        answer = router.route(text)
        assert (answer.source, answer.unit_code) == ("rule", unit)
        assert (answer.entry is not None and answer.entry["code"] == found["code"]) is kept


def test_a_local_entry_without_a_place_falls_back_to_its_unit(session: Session, seeded: City,
                                                              small_model: TrainedModel) -> None:
    router = city_router(seeded, small_model, min_confidence=0.0, catalogue=catalogue.load(session))
    answer = router.route("有人在自家院子里私搭乱建，盖了两层违章建筑，把邻居的通道都堵上了。")
    assert answer.entry is not None and answer.entry["path"].endswith("违章建筑")
    assert answer.unit_code == "urban-management" and answer.source == "catalogue"
    assert router.route("克井镇有人在自家院子里私搭乱建违章建筑，堵了通道。").unit_code == "kejing"


def test_tickets_the_catalogue_routed_count_in_the_classifiers_production_figures(
        session: Session, seeded: City, rules: IntakeRules, small_model: TrainedModel, operator: Actor) -> None:
    router = city_router(seeded, small_model, min_confidence=0.0, catalogue=catalogue.load(session))
    text = "有人在自家院子里私搭乱建，盖了两层违章建筑，把邻居的通道都堵上了。"
    kept, moved = (_file(session, rules, f"{text}{n}", router) for n in (1, 2))
    assert kept.routing["source"] == moved.routing["source"] == "catalogue"
    lifecycle.transfer(session, kept, unit_by_code(session, "urban-management"), operator, learn_from=seeded)
    lifecycle.transfer(session, moved, unit_by_code(session, "commerce"), operator, learn_from=seeded)
    session.commit()
    today = dt.datetime.now(dt.timezone.utc).date()
    [row] = routing_feedback.figures(session, Period(today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    assert (row.category, row.proposals, row.accepted, row.automatic, row.corrected) == ("城乡建设", 2, 1, 2, 1)


def test_figures_per_level_group_tickets_by_their_entry(session: Session, seeded: City, rules: IntakeRules,
                                                        operator: Actor) -> None:
    water = catalogue.find_current(session, WATER)
    noise = catalogue.find_current(session, "环境保护/环境污染/噪音污染")
    for body, entry in [("停水了一天", water), ("又停水了", water), ("工地夜间噪音", noise), ("咨询一个问题", None)]:
        ticket = _file(session, rules, body + "，请尽快处理。")
        if entry is not None:
            unit = session.get(Unit, entry.unit_id)
            lifecycle.transfer(session, ticket, unit, operator, entry=entry)
    today = dt.date.today()
    period = Period(today - dt.timedelta(days=2), today + dt.timedelta(days=1))
    level1 = {g.name: g for g in catalogue_figures.figures_by_level(session, period, 1)}
    assert (level1["城乡建设"].received, level1["环境保护"].received, level1[""].received) == (2, 1, 1)
    assert level1["城乡建设"].as_dict()["transfer_rate"] == 1.0 and level1[""].as_dict()["transfer_rate"] == 0.0
    level3 = [g.name for g in catalogue_figures.figures_by_level(session, period, 3)]
    assert level3[0] == "城乡建设 / 城市建设和市政管理 / 自来水供应"
    assert "环境保护 / 环境污染" in {g.name for g in catalogue_figures.figures_by_level(session, period, 2)}


def figures_by_counting(session: Session, period: Period, level: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The figures per level from the period's tickets one by one (how they were counted before
    the running totals)."""
    groups: dict[str, dict[str, Any]] = {}
    for t in session.scalars(select(Ticket).where(Ticket.received_at >= period.start, Ticket.received_at < period.end)):
        entry = session.get(CatalogueEntry, t.catalogue_entry_id) if t.catalogue_entry_id else None
        name = " / ".join((entry.level1, entry.level2, entry.level3)[:level]) if entry else ""
        g = groups.setdefault(name, dict.fromkeys(("received", "transferred", "answered", "resolved",
                                                   "resolved_on_time", "rated", "satisfied_or_partly", "overdue"), 0))
        g["received"] += 1
        g["transferred"] += t.transfer_count > 0
        g["answered"] += t.state == State.ANSWERED.value
        g["resolved"] += t.resolved_at is not None
        g["resolved_on_time"] += bool(t.resolved_on_time)
        g["rated"] += t.rating is not None
        g["satisfied_or_partly"] += t.rating in (Rating.SATISFIED.value, Rating.PARTLY.value)
        g["overdue"] += State(t.state) not in FINISHED_STATES and t.deadline is not None and t.deadline < now
    return sorted(({"name": name, **g} for name, g in groups.items()), key=lambda g: (-g["received"], g["name"]))


def _figures(session: Session, period: Period, level: int, now: dt.datetime) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.as_dict().items() if not k.endswith("_rate")}
            for g in catalogue_figures.figures_by_level(session, period, level, now=now)]


def _kept(session: Session) -> list[tuple[object, ...]]:
    columns = [c for c in CatalogueRollup.__table__.c if c.name != "id"]
    return [tuple(row) for row in session.execute(select(*columns).order_by(*columns)) if any(row[3:])]


def test_figures_per_level_from_the_running_totals_are_the_count_of_the_tickets_at_any_moment(
        session: Session, seeded: City, rules: IntakeRules, operator: Actor) -> None:
    water = catalogue.find_current(session, WATER)
    noise = catalogue.find_current(session, "环境保护/环境污染/噪音污染")
    assert water is not None and noise is not None
    water_unit, noise_unit = session.get(Unit, water.unit_id), session.get(Unit, noise.unit_id)
    assert water_unit is not None and noise_unit is not None
    water_staff = Actor(label="staff-water", role=Role.UNIT_STAFF, unit_id=water_unit.id)

    def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHINA)

    def filed(day: int, entry: CatalogueEntry | None = None) -> Ticket:
        ticket = new_ticket(session, rules, now=at(day))
        if entry is not None:
            lifecycle.transfer(session, ticket, session.get(Unit, entry.unit_id), operator, entry=entry,
                               now=at(day, 11))
        return ticket

    resolved = filed(2, water)
    lifecycle.accept(session, resolved, water_staff, now=at(2, 12))
    lifecycle.resolve(session, resolved, water_staff, "已恢复供水，经回访水压正常", now=at(5))
    lifecycle.rate(session, resolved, Rating.SATISFIED, Actor.citizen("sms"), now=at(6))
    lifecycle.answer(session, filed(3), operator, "已当场答复市民的咨询问题", now=at(3, 11))
    waiting = filed(3, noise)                       # never accepted: overdue once its deadline passes
    moved = filed(4, water)                         # returned, then dispatched under another entry
    lifecycle.return_ticket(session, moved, water_staff, "不属于本单位", now=at(4, 12))
    lifecycle.transfer(session, moved, noise_unit, operator, entry=noise, now=at(4, 13))
    cleared = filed(5, water)                       # returned, re-routed to another category: no entry
    lifecycle.return_ticket(session, cleared, water_staff, "不属于本单位", now=at(5, 12))
    cleared.category = "环境保护"
    lifecycle.transfer(session, cleared, noise_unit, operator, now=at(5, 13))
    lifecycle.invalidate(session, filed(6), operator, "测试", now=at(6, 11))
    lifecycle.merge(session, filed(6, None), waiting, operator, now=at(6, 12))
    session.flush()
    assert cleared.catalogue_entry_id is None and moved.catalogue_entry_id == noise.id

    periods = (Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8)), Period(dt.date(2026, 11, 4), dt.date(2026, 11, 4)),
               Period(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
    moments = (at(6, 23), at(12), at(20), at(20) + dt.timedelta(days=40))
    for period in periods:
        for now in moments:
            for level in catalogue_figures.LEVELS:
                assert _figures(session, period, level, now) == figures_by_counting(session, period, level, now)
    # No entry: the answered one, the re-routed one (open, past its deadline), the invalid one and the
    # duplicate; 环境保护: the two never accepted; 城乡建设: the resolved one.
    assert [(g["name"], g["received"], g["overdue"]) for g in _figures(session, periods[0], 1, at(20))] == [
        ("", 4, 1), ("环境保护", 2, 2), ("城乡建设", 1, 0)]

    # A deadline earlier today: overdue from the moment it passes, not from midnight.
    waiting.deadline = at(20, 11, 30)
    session.flush()
    for now in (at(20, 11, 29), at(20, 11, 31)):
        assert _figures(session, periods[0], 3, now) == figures_by_counting(session, periods[0], 3, now)

    # hotline db rebuild-figures and the migration's backfill keep the same totals.
    kept = _kept(session)
    rollup.rebuild(session)
    assert _kept(session) == kept
    migration = importlib.import_module("dispatch.migrations.versions.0040_catalogue_rollup")
    session.execute(delete(CatalogueRollup))
    migration.backfill(session.connection())
    assert _kept(session) == kept


def test_a_correction_under_a_category_teaches_its_level_1(session: Session, seeded: City, rules: IntakeRules,
                                                           operator: Actor) -> None:
    gas = catalogue.find_current(session, "城乡建设/城市建设和市政管理/燃气供应")
    taught, untaught = (_file(session, rules, f"新房交房半年天然气一直没通，燃气公司一直推脱。{n}") for n in (1, 2))
    for ticket in (taught, untaught):
        ticket.routing = {"unit_code": "housing", "category": "城乡建设", "source": "model"}
    lifecycle.transfer(session, taught, unit_by_code(session, "gas"), operator, learn_from=seeded, entry=gas)
    # Without a category the gas company names no classifier category: nothing to learn.
    lifecycle.transfer(session, untaught, unit_by_code(session, "gas"), operator, learn_from=seeded)
    learned = corrections(session)
    assert [(e.ticket_id, e.label, e.unit_code) for e in learned] == [(taught.id, "城乡建设", "gas")]


def test_a_correction_to_another_category_leaves_the_entry_of_the_old_one_behind(
        session: Session, seeded: City, rules: IntakeRules, operator: Actor) -> None:
    water = catalogue.find_current(session, WATER)
    moved, kept = (_file(session, rules, f"小区停水两天了，物业说是自来水公司的事。{n}") for n in (1, 2))
    for ticket in (moved, kept):
        ticket.routing = {"unit_code": "housing", "category": "城乡建设", "source": "model"}
        lifecycle.transfer(session, ticket, session.get_one(Unit, water.unit_id), operator, learn_from=seeded,
                           entry=water)
        lifecycle.return_ticket(session, ticket, unit_staff(session, session.get_one(Unit, water.unit_id).code),
                                "不属于本单位职责")
    # Re-routed to the health commission, without an entry: the ticket is now 卫生计生.
    event = lifecycle.transfer(session, moved, unit_by_code(session, "health"), operator, learn_from=seeded)
    # Re-routed to the housing bureau: still 城乡建设, the entry still describes it.
    lifecycle.transfer(session, kept, unit_by_code(session, "housing"), operator, learn_from=seeded)

    assert (moved.category, moved.catalogue_entry_id) == ("卫生计生", None)
    assert event.data["catalogue_cleared"] == {"code": water.code, "path": WATER}
    assert (kept.category, kept.catalogue_entry_id) == ("城乡建设", water.id)
