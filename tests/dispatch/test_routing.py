"""Routing a request to a unit: by category, by place (gazetteer), by rule, or to manual
triage; and operators' corrections kept as training examples."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from classifier import TrainedModel
from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.routing import CONTENT_REASONS, Gazetteer, Router, Rule, corrections
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel

WAGES = "我在工地干了半年活，老板拖欠农民工工资两万元一直不给，劳动监察部门请帮忙讨薪，社保也没有缴纳。"
HOUSING = "小区物业不作为，楼道堆满杂物，电梯经常故障，违章搭建没人管，开发商承诺的配套设施迟迟不建。"


@pytest.fixture
def router(city: City, small_model: TrainedModel) -> Router:
    return Router(city=city, model=small_model, rules=(Rule(("燃气泄漏", "煤气泄漏"), "urban-management"),),
                  min_confidence=0.3)


def test_a_clear_request_goes_to_the_department_of_its_category(router: Router) -> None:
    answer = router.route(WAGES)
    assert (answer.category, answer.unit_code, answer.source) == ("劳动和社会保障", "human-resources", "model")
    assert answer.probability is not None and answer.probability >= 0.3
    assert len(answer.suggestions) == 3 and "模型" in answer.reason


def test_a_local_category_goes_to_the_township_named_in_the_text(router: Router) -> None:
    answer = router.route("王屋镇" + HOUSING)
    assert answer.category == "城乡建设"
    assert (answer.unit_code, answer.source, answer.places) == ("wangwu", "gazetteer", ("王屋镇",))
    assert "属地：王屋镇" in answer.reason
    # Without a place the same request goes to the department.
    assert router.route(HOUSING).unit_code == "housing"


def test_the_place_given_as_the_location_comes_before_a_street_named_in_the_text(router: Router) -> None:
    """济水大街 is a street of 沁园街道 named after another township (济水街道): where the
    citizen said it happened decides."""
    text = "济水大街天坛路口的路灯坏了，" + HOUSING
    assert router.route(text).unit_code == "jishui"      # the text alone: the street's name
    answer = router.route(text, "沁园街道 济水大街与天坛路交叉口")
    assert (answer.unit_code, answer.places[0]) == ("qinyuan", "沁园街道")
    assert "属地：沁园街道" in answer.reason
    # A location naming no place leaves the text's; many at once read each one's location.
    assert router.route(text, "路口东侧").unit_code == "jishui"
    assert [a.unit_code for a in router.route_many([text, "王屋镇" + HOUSING], ["沁园街道", None])] == \
        ["qinyuan", "wangwu"]


def test_intake_routes_by_the_location_the_citizen_gave(session: Session, router: Router) -> None:
    request = IntakeRequest(channel=Channel.WEB, body="小区门口的路灯坏了一个星期。" + HOUSING, location="沁园街道")
    ticket = intake(session, request, IntakeRules(), router=router).ticket
    assert ticket.routing["unit_code"] == "qinyuan" and ticket.township == "qinyuan"


def test_a_city_rule_wins_over_the_model(router: Router) -> None:
    answer = router.route("沁园路小区闻到燃气泄漏的味道，很危险！" + WAGES)
    assert (answer.unit_code, answer.source) == ("urban-management", "rule")


@pytest.mark.parametrize("text", ["", "   ", "12345678901", "😡😡😡👍", "hello world please help",
                                  "？？？！！！", "投诉" * 50_000])
def test_text_without_content_goes_to_manual_triage_and_never_crashes(router: Router, text: str) -> None:
    answer = router.route(text)
    assert answer.manual_triage and answer.unit_code is None and answer.source == "manual"


# Said to the hotline, but naming no matter: greetings, fillers, placeholders, request types.
MEANINGLESS = ["某文本", "你好", "测试一下", "我要投诉", "哈哈哈哈", "请问一下", "12345热线你好", "你好，灯",
               "我想反映一个情况"]
REAL_SHORT = ["路灯坏了", "停水了", "噪音扰民", "井盖丢了", "暖气不热", "小区停电", "垃圾没人收", "拖欠工资"]


@pytest.mark.parametrize("text", MEANINGLESS)
def test_text_naming_no_matter_goes_to_manual_triage_with_its_reason(router: Router, text: str) -> None:
    answer = router.route(text)
    assert answer.manual_triage and answer.source == "manual" and answer.suggestions == ()
    assert answer.reason in CONTENT_REASONS.values() and answer.reason.endswith("需人工分拣")


@pytest.mark.parametrize("text", REAL_SHORT)
def test_a_short_real_complaint_is_still_given_to_the_model(router: Router, text: str) -> None:
    answer = router.route(text)
    assert len(answer.suggestions) == 3 and answer.reason not in CONTENT_REASONS.values()


def test_a_short_streetlight_complaint_is_routed(city: City, small_model: TrainedModel) -> None:
    # At the default threshold, as the hotline runs (the shipped model routes it too).
    answer = Router(city=city, model=small_model).route("路灯坏了")
    assert not answer.manual_triage and answer.source == "model", answer.reason


def test_a_vague_request_goes_to_manual_triage_with_suggestions(city: City, small_model: TrainedModel) -> None:
    router = Router(city=city, model=small_model)  # the default threshold
    answer = router.route("我想反映一个问题，希望有关部门重视。")
    assert answer.manual_triage and len(answer.suggestions) == 3
    assert answer.probability is not None and answer.probability < router.threshold
    assert "人工分派" in answer.reason


def test_no_model_yet_means_manual_triage(city: City) -> None:
    assert Router(city=city, model=None).route(WAGES).manual_triage


def test_gazetteer_prefers_the_longest_name_and_keeps_order() -> None:
    gazetteer = Gazetteer({"wangwu": ["王屋", "王屋镇"], "qinyuan": ["沁园街道", "沁园"]})
    assert gazetteer.find("从沁园街道到王屋镇") == [("沁园街道", "qinyuan"), ("王屋镇", "wangwu")]
    assert Gazetteer({}).find("王屋镇") == []


def test_operator_correction_is_kept_as_a_labeled_example(session: Session, units: City, router: Router,
                                                         operator: Actor) -> None:
    ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES), IntakeRules(), router=router).ticket
    assert ticket.routing is not None and ticket.routing["unit_code"] == "human-resources"
    assert ticket.category == "劳动和社会保障"
    # The operator knows better: it is a construction-site matter for housing.
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator, learn_from=units)
    [example] = corrections(session)
    assert (example.label, example.unit_code, example.proposed_unit_code, example.source) == \
        ("城乡建设", "housing", "human-resources", "operator_correction")


def test_confirming_the_proposal_teaches_nothing_but_records_why(session: Session, units: City, router: Router,
                                                                 operator: Actor) -> None:
    ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES), IntakeRules(), router=router).ticket
    event = lifecycle.transfer(session, ticket, unit_by_code(session, "human-resources"), operator, learn_from=units)
    assert corrections(session) == []
    assert event.data is not None and event.data["routing"]["source"] == "model"


def test_in_triage_taking_the_first_suggestion_is_no_correction(session: Session, units: City, router: Router,
                                                               operator: Actor) -> None:
    unsure = dataclasses.replace(router, min_confidence=1.01)   # every ticket waits for triage
    ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES), IntakeRules(), router=unsure).ticket
    assert ticket.routing is not None and ticket.routing["unit_code"] is None
    first, second = (s["unit_code"] for s in ticket.routing["suggestions"][:2])
    lifecycle.transfer(session, ticket, unit_by_code(session, first), operator, learn_from=units)
    assert corrections(session) == []
    other = intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES + "另一件", phone="13803910077"),
                   IntakeRules(), router=unsure).ticket
    lifecycle.transfer(session, other, unit_by_code(session, second), operator, learn_from=units)
    [example] = corrections(session)
    assert (example.unit_code, example.proposed_unit_code) == (second, first)


def test_the_upgrade_drops_the_confirmations_kept_as_corrections(session: Session, units: City, router: Router,
                                                                  operator: Actor) -> None:
    """Before, taking the first suggestion in triage wrote an example with no proposed unit:
    the migration deletes those and gives the others of triaged tickets their proposed unit."""
    import importlib

    from sqlalchemy import select

    from dispatch.models import RoutingExample

    mend = importlib.import_module("dispatch.migrations.versions.0038_triage_confirmations").mend
    unsure = dataclasses.replace(router, min_confidence=1.01)
    taken, other, sure = (intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES + n, phone=f"1380391000{i}"),
                                 IntakeRules(), router=r).ticket
                          for i, (n, r) in enumerate((("一", unsure), ("二", unsure), ("三", router))))
    first, second = (s["unit_code"] for s in taken.routing["suggestions"][:2])
    lifecycle.transfer(session, other, unit_by_code(session, second), operator, learn_from=units)
    lifecycle.transfer(session, sure, unit_by_code(session, "housing"), operator, learn_from=units)
    # What the old code wrote for them:
    session.add(RoutingExample(ticket_id=taken.id, title="", body=taken.body, label="劳动和社会保障", unit_code=first,
                               proposed_unit_code=None, source="operator_correction", created_at=taken.received_at))
    session.execute(RoutingExample.__table__.update().where(RoutingExample.ticket_id == other.id)
                    .values(proposed_unit_code=None))
    session.flush()

    assert mend(session.connection()) == (1, 1)
    session.expire_all()
    kept = {e.ticket_id: e.proposed_unit_code for e in session.scalars(select(RoutingExample))}
    assert kept == {other.id: first, sure.id: "human-resources"}
    assert mend(session.connection()) == (0, 0)


def test_rerouting_after_a_return_is_kept_as_an_example(session: Session, units: City, router: Router,
                                                        operator: Actor) -> None:
    from tests.conftest import unit_staff

    ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=WAGES), IntakeRules(), router=router).ticket
    lifecycle.transfer(session, ticket, unit_by_code(session, "human-resources"), operator, learn_from=units)
    lifecycle.return_ticket(session, ticket, unit_staff(session, "human-resources"), "属于住建部门的工程款纠纷")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator, learn_from=units)
    [example] = corrections(session)
    assert (example.label, example.source) == ("城乡建设", "return_reroute")


def test_requests_routed_together_get_each_ones_own_answer(router: Router, city: City) -> None:
    texts = [WAGES, "王屋镇" + HOUSING, HOUSING, "沁园路小区闻到燃气泄漏的味道，很危险！" + WAGES, "", "你好", "路灯坏了",
             "投诉" * 50_000, "我想反映一个问题，希望有关部门重视。", HOUSING * 3]
    assert router.route_many(texts) == [router.route(text) for text in texts]
    assert Router(city=city, model=None).route_many(texts) == [Router(city=city, model=None).route(t) for t in texts]


def test_proposals_made_together_are_those_made_one_by_one(router: Router) -> None:
    from dispatch.intake import proposal_for, proposals_for

    rules = IntakeRules()
    requests = [IntakeRequest(channel=Channel.WEB, body=WAGES, title="讨薪"), IntakeRequest(channel=Channel.WEB, body="  "),
                IntakeRequest(channel=Channel.WEB, body=HOUSING), IntakeRequest(channel=Channel.SMS, body=WAGES)]
    together = proposals_for(requests, rules, router)
    assert together == [proposal_for(r, rules, router) for r in requests]
    assert together[1] is None and together[3] is None and together[0] is not None  # invalid: no proposal
    assert proposals_for(requests, rules, None) == [None] * 4
