"""Similar open tickets: another citizen's words for the same matter are found; closed,
old and the asking ticket itself are not."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.routing import Gazetteer
from dispatch.similarity import SAME_PLACE_BONUS, rank, similar_open_tickets, similar_to_ticket
from dispatch.units import City
from tests.dispatch.helpers import new_ticket

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
LIGHTS = "济水街道宣化街从济渎路口往北一段路灯十几盏不亮，已经一个多月，晚上骑车看不清路。"
LIGHTS_AGAIN = "宣化街济渎路口往北那截路灯好多都不亮了，一个多月了，晚上黑得很，赶紧修修。"
WAGES = "玉泉街道安置房工地包工头拖欠二十多个农民工半年工资，电话打不通。"
# Two tickets make a tiny pool, whose IDF scores paraphrases lower than thousands would.
LOW = 0.1


@pytest.fixture
def places(city: City):  # type: ignore[no-untyped-def]
    gazetteer = Gazetteer(city.gazetteer)
    return lambda text: [code for _, code in gazetteer.find(text)]


def test_a_paraphrase_ranks_above_an_unrelated_ticket(session: Session) -> None:
    unrelated = new_ticket(session, body=WAGES, now=NOW)
    original = new_ticket(session, body=LIGHTS, now=NOW)
    found = similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=0.0)
    assert [t.number for t in found] == [original.number, unrelated.number]
    assert found[0].score > LOW > found[1].score
    assert [t.number for t in similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=LOW)] == [original.number]


def test_the_same_township_adds_the_place_bonus(places) -> None:  # type: ignore[no-untyped-def]
    candidates = [("沁园街道锦绣苑小区暖气不热，屋里只有十五度。", None),
                  ("克井镇锦绣苑小区暖气不热，屋里只有十五度。", None)]
    ranked = rank("沁园锦绣苑小区暖气不热", candidates, places=places)
    by_index = {i: (score, text_score, same_place) for i, score, text_score, same_place, _ in ranked}
    score, text_score, same_place = by_index[0]
    assert same_place and score == pytest.approx(text_score + SAME_PLACE_BONUS)
    score, text_score, same_place = by_index[1]
    assert not same_place and score == pytest.approx(text_score)
    assert ranked[0][0] == 0


def test_closed_tickets_are_not_suggested(session: Session, operator: Actor) -> None:
    answered = new_ticket(session, body=LIGHTS, now=NOW)
    lifecycle.answer(session, answered, operator, "已告知路灯所维修。", now=NOW)
    invalid = new_ticket(session, body=LIGHTS + "（重复来电）", now=NOW)
    lifecycle.invalidate(session, invalid, operator, "测试电话", now=NOW)
    session.flush()
    assert similar_open_tickets(session, LIGHTS_AGAIN, now=NOW, min_score=0.0) == []


def test_tickets_older_than_the_window_are_not_suggested(session: Session) -> None:
    old = new_ticket(session, body=LIGHTS, now=NOW - dt.timedelta(days=31))
    recent = new_ticket(session, body=LIGHTS + "请尽快处理。", now=NOW - dt.timedelta(days=29))
    found = similar_open_tickets(session, LIGHTS_AGAIN, days=30, now=NOW, min_score=LOW)
    assert [t.number for t in found] == [recent.number]
    found = similar_open_tickets(session, LIGHTS_AGAIN, days=40, now=NOW, min_score=LOW)
    assert {t.number for t in found} == {old.number, recent.number}


def test_a_ticket_is_not_suggested_as_similar_to_itself(session: Session) -> None:
    original = new_ticket(session, body=LIGHTS, now=NOW)
    again = new_ticket(session, body=LIGHTS_AGAIN, now=NOW)
    found = similar_to_ticket(session, again, now=NOW, min_score=LOW)
    assert [t.number for t in found] == [original.number]
    assert [t.number for t in similar_to_ticket(session, original, now=NOW, min_score=LOW)] == [again.number]
